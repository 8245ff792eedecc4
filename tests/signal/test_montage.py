import numpy as np
import pytest
import tensorflow as tf

from kerasseizure.errors import SignalError
from kerasseizure.io.channels import HMS_EEG_COLUMNS, TCP20, TCP22, WAVENET_PAIRS
from kerasseizure.signal import montage, reference

EDF_LABELS = [
    "EEG FP1-REF", "EEG FP2-REF", "EEG F3-REF", "EEG F4-REF", "EEG C3-REF", "EEG C4-REF", "EEG P3-REF",
    "EEG P4-REF", "EEG O1-REF", "EEG O2-REF", "EEG F7-REF", "EEG F8-REF", "EEG T3-REF", "EEG T4-REF",
    "EEG T5-REF", "EEG T6-REF", "EEG A1-REF", "EEG A2-REF", "EEG FZ-REF", "EEG CZ-REF", "EEG PZ-REF",
    "EKG", "PHOTIC PH",
]


@pytest.fixture
def referential():
    rng = np.random.default_rng(1)
    order = rng.permutation(len(EDF_LABELS))
    names = [EDF_LABELS[i] for i in order]
    return names, rng.standard_normal((2, len(names), 300)).astype(np.float32)


@pytest.mark.parametrize("name, pairs", [("tcp20", TCP20), ("tcp22", TCP22)])
def test_tcp_bipolar_equals_electrode_differences(referential, name, pairs):
    names, x = referential
    out = montage.tcp_bipolar(x, names, montage=name).numpy()
    assert out.shape == (2, len(pairs), 300)
    position = {n.split()[1].split("-")[0]: i for i, n in enumerate(names) if n.startswith("EEG")}
    for c, (a, b) in enumerate(pairs):
        np.testing.assert_array_equal(out[:, c], x[:, position[a]] - x[:, position[b]])
    np.testing.assert_allclose(out, reference.tcp_bipolar_reference(x, names, name), atol=1e-6)


def test_tcp_bipolar_time_major_axis(referential):
    names, x = referential
    time_major = np.swapaxes(x, -1, -2)
    out = montage.tcp_bipolar(time_major, names, channel_axis=-1).numpy()
    np.testing.assert_array_equal(np.swapaxes(out, -1, -2), montage.tcp_bipolar(x, names).numpy())


def test_missing_electrode_and_wrong_channel_count_raise(referential):
    names, x = referential
    dropped = [n for n in names if "T3" not in n]
    keep = [i for i, n in enumerate(names) if "T3" not in n]
    with pytest.raises(SignalError, match="missing electrodes.*T3"):
        montage.tcp_bipolar(x[:, keep], dropped)
    with pytest.raises(SignalError, match="channels"):
        montage.tcp_bipolar(x[:, :-1], names)
    with pytest.raises(SignalError, match="appears 2 times"):
        montage.tcp_bipolar(np.zeros((24, 10)), names + ["FP1"])
    with pytest.raises(ValueError, match="unknown montage"):
        montage.tcp_bipolar(x, names, montage="tcp18")


def test_hms_chains_and_wavenet_differences():
    eeg = np.random.default_rng(2).standard_normal((500, 20)).astype(np.float32)
    column = {name: i for i, name in enumerate(HMS_EEG_COLUMNS)}
    chains = montage.hms_chains(eeg).numpy()
    assert chains.shape == (500, 16)
    for c, (a, b) in enumerate(montage.HMS_CHAIN_PAIRS):
        np.testing.assert_array_equal(chains[:, c], eeg[:, column[a]] - eeg[:, column[b]])
    assert montage.HMS_CHAIN_PAIRS[4] == ("Fp1", "F3") and montage.HMS_CHAIN_PAIRS[8] == ("Fp2", "F8")
    diffs = montage.wavenet_differences(eeg).numpy()
    for c, (a, b) in enumerate(WAVENET_PAIRS):
        np.testing.assert_array_equal(diffs[:, c], eeg[:, column[a]] - eeg[:, column[b]])
    with pytest.raises(SignalError):
        montage.hms_chains(eeg[:, :19])


def test_mirror_twice_is_identity_and_swaps_chains():
    eeg = np.random.default_rng(3).standard_normal((2, 400, 20)).astype(np.float32)
    mirrored = montage.mirror_hms(eeg)
    np.testing.assert_array_equal(montage.mirror_hms(mirrored).numpy(), eeg)
    column = {name: i for i, name in enumerate(HMS_EEG_COLUMNS)}
    np.testing.assert_array_equal(mirrored.numpy()[..., column["Fp1"]], eeg[..., column["Fp2"]])
    np.testing.assert_array_equal(mirrored.numpy()[..., column["Cz"]], eeg[..., column["Cz"]])
    chains = montage.hms_chains(eeg).numpy()
    chains_of_mirror = montage.hms_chains(mirrored).numpy()
    # LL <-> RL, LP <-> RP
    np.testing.assert_array_equal(chains_of_mirror[..., 0:4], chains[..., 8:12])
    np.testing.assert_array_equal(chains_of_mirror[..., 4:8], chains[..., 12:16])
    # Mirroring the bipolar chains directly agrees with mirroring the electrodes first.
    direct = montage.mirror_bipolar(chains, montage.HMS_CHAIN_PAIRS, channel_axis=-1).numpy()
    np.testing.assert_array_equal(direct, chains_of_mirror)


@pytest.mark.parametrize("pairs", [TCP20, TCP22, WAVENET_PAIRS])
def test_mirror_bipolar_matches_reference_and_is_an_involution(pairs):
    x = np.random.default_rng(4).standard_normal((3, len(pairs), 50)).astype(np.float32)
    once = montage.mirror_bipolar(x, pairs).numpy()
    np.testing.assert_allclose(once, reference.mirror_bipolar_reference(x, pairs), atol=0)
    np.testing.assert_array_equal(montage.mirror_bipolar(once, pairs).numpy(), x)


def test_mirror_bipolar_tcp_signs():
    index, sign = reference.mirror_bipolar_map(TCP20)
    t3_c3 = TCP20.index(("T3", "C3"))
    assert TCP20[index[t3_c3]] == ("C4", "T4") and sign[t3_c3] == -1.0
    with pytest.raises(SignalError, match="mirror"):
        reference.mirror_bipolar_map([("FP1", "F7")])


def test_montage_inside_tf_data():
    eeg = np.random.default_rng(5).standard_normal((4, 300, 20)).astype(np.float32)
    dataset = tf.data.Dataset.from_tensor_slices(eeg).map(lambda e: montage.mirror_hms(montage.mirror_hms(e)))
    dataset = dataset.map(montage.hms_chains).batch(4)
    np.testing.assert_array_equal(next(iter(dataset)).numpy(), montage.hms_chains(eeg).numpy())
