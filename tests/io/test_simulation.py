"""Spectral and spatial properties of the EEG simulators (pure NumPy, no files)."""

import dataclasses

import numpy as np
import pytest
from scipy import signal as sps

from kerasseizure.io import simulation as sim
from kerasseizure.io.channels import HMS_CHAINS, HMS_EEG_COLUMNS, SCALP_ELECTRODES, TCP22
from kerasseizure.io.labels import HMS_CLASSES, HMS_VOTE_COLUMNS

FS = 250
EL = list(SCALP_ELECTRODES)
HMS_EL = [c.upper() for c in HMS_EEG_COLUMNS[:-1]]


def psd(x, fs=FS, nperseg=1024):
    return sps.welch(x, fs, nperseg=min(nperseg, x.shape[-1]), axis=-1)


def peak(f, p, lo, hi):
    m = (f >= lo) & (f <= hi)
    return f[m][np.argmax(p[..., m], axis=-1)]


def band(f, p, lo, hi):
    m = (f >= lo) & (f <= hi)
    return p[..., m].mean(axis=-1)


@pytest.fixture(scope="module")
def profile():
    return dataclasses.replace(sim.draw_background_profile(np.random.default_rng(3)),
                               alpha_frequency=10.0, alpha_amplitude_uv=25.0, line_noise_uv=3.0)


def test_eyes_closed_background_has_posterior_alpha(profile):
    x = sim.simulate_background(profile, EL, 60 * FS, FS, np.random.default_rng(0), eyes_closed=True)
    f, p = psd(x)
    o1, fp1 = p[EL.index("O1")], p[EL.index("FP1")]
    assert abs(peak(f, o1, 6, 14) - 10.0) <= 0.5
    assert band(f, o1, 9, 11) > 5 * band(f, o1, 5, 7)          # a clear peak, not a slope
    assert band(f, o1, 9, 11) > 5 * band(f, fp1, 9, 11)        # posterior, not frontal
    # Eyes open blocks alpha.
    y = sim.simulate_background(profile, EL, 60 * FS, FS, np.random.default_rng(0), eyes_closed=False)
    f, q = psd(y)
    assert band(f, q[EL.index("O1")], 9, 11) < 0.3 * band(f, o1, 9, 11)


def test_background_spectrum_is_one_over_f(profile):
    quiet = dataclasses.replace(profile, alpha_amplitude_uv=0.0, line_noise_uv=0.0, blink_rate_hz=0.0,
                                pop_rate_hz=0.0, muscle_rate_hz=0.0, delta_uv=0.0, ecg_leak_uv=0.0,
                                electrode_noise_uv=0.0, exponent=1.5)
    x = sim.simulate_background(quiet, EL, 120 * FS, FS, np.random.default_rng(1))
    f, p = psd(x)
    m = (f >= 1) & (f <= 40)
    slope = np.polyfit(np.log(f[m]), np.log(p[:, m].mean(axis=0)), 1)[0]
    assert -1.8 < slope < -1.2
    assert 10 < x.std(axis=1).mean() < 60                       # tens of microvolts


def test_line_noise_and_frontal_blinks(profile):
    blinking = dataclasses.replace(profile, blink_rate_hz=0.5, blink_amplitude_uv=200.0)
    x = sim.simulate_background(blinking, EL, 60 * FS, FS, np.random.default_rng(2), eyes_closed=False)
    f, p = psd(x)
    mean = p.mean(axis=0)
    m = (f >= 59.5) & (f <= 60.5)
    assert mean[m].max() > 5 * band(f, mean, 50, 55)          # a narrow mains line
    low = band(f, p, 0.5, 3)
    assert low[EL.index("FP1")] > 2 * low[EL.index("O1")]     # eye blinks are frontal


def test_neighbouring_electrodes_are_correlated(profile):
    quiet = dataclasses.replace(profile, alpha_amplitude_uv=0.0, line_noise_uv=0.0, blink_rate_hz=0.0,
                                pop_rate_hz=0.0, muscle_rate_hz=0.0, ecg_leak_uv=0.0)
    x = sim.simulate_background(quiet, EL, 60 * FS, FS, np.random.default_rng(4))
    c = np.corrcoef(x)
    near = c[EL.index("C3"), EL.index("CZ")]
    far = c[EL.index("FP1"), EL.index("O2")]
    assert near > 0.3 and abs(far) < 0.2 and near > far + 0.3


def seizure(kind, seed=0, duration=20.0, **override):
    rng = np.random.default_rng(seed)
    sig = dataclasses.replace(sim.draw_seizure_signature(kind, rng), **override)
    return sig, sim.simulate_seizure(sig, EL, duration, FS, rng)


def test_absence_is_generalized_three_hertz_spike_wave():
    sig, act = seizure("absz", duration=10.0)
    f, p = psd(act.signal)
    assert 2.5 <= peak(f, p.mean(axis=0), 1, 30) <= 4.0
    power = band(f, p, 1, 30)
    assert power[EL.index("FZ")] > 2 * power[EL.index("O1")]    # frontal predominance
    assert 0.8 < power[EL.index("F3")] / power[EL.index("F4")] < 1.25    # bilateral, symmetric
    assert act.weights.min() >= sim.GENERALIZED_FLOOR[0]        # seen everywhere, least at the back
    # Spike-and-wave carries harmonics of the fundamental, unlike a sinusoid.
    assert band(f, p.mean(axis=0), 2 * sig.frequency - 1, 2 * sig.frequency + 1) > \
        0.05 * band(f, p.mean(axis=0), sig.frequency - 0.5, sig.frequency + 0.5)


def test_tonic_is_low_voltage_fast_with_attenuation():
    sig, act = seizure("tnsz")
    f, p = psd(act.signal)
    assert 13 <= peak(f, p.mean(axis=0), 1, 40) <= 26
    assert act.background_gain.min() < 0.5
    _, absence = seizure("absz")
    assert act.signal.std() < 0.5 * absence.signal.std()


def test_tonic_clonic_has_heavy_muscle_artifact_and_slowing():
    _, tc = seizure("tcsz", duration=60.0)
    _, gn = seizure("gnsz", duration=60.0)
    f, p = psd(tc.signal)
    _, q = psd(gn.signal)
    assert band(f, p.mean(axis=0), 40, 100) > 20 * band(f, q.mean(axis=0), 40, 100)
    half = tc.signal.shape[1] // 2
    f1, a = psd(tc.signal[:, :half // 2])
    f2, b = psd(tc.signal[:, -half:])
    fast_to_slow_early = band(f1, a.mean(0), 12, 25) / band(f1, a.mean(0), 2, 7)
    fast_to_slow_late = band(f2, b.mean(0), 12, 25) / band(f2, b.mean(0), 2, 7)
    assert fast_to_slow_early > fast_to_slow_late                # tonic phase first, clonic later


def test_focal_seizure_is_confined_and_evolves():
    sig, act = seizure("fnsz", duration=40.0, center="T3", spread=0.35, spread_growth=0.0)
    power = act.signal.var(axis=1)
    assert power[EL.index("T3")] > 20 * power[EL.index("T4")]
    involved, delay = sim.channel_involvement(act, EL, TCP22)
    names = [f"{a}-{b}" for a, b in TCP22]
    assert involved[names.index("F7-T3")] and not involved[names.index("F8-T4")]
    assert 0 < involved.sum() < len(TCP22) // 2
    # Evolution: the dominant frequency falls from onset to offset.
    n = act.signal.shape[1]
    f, early = psd(act.signal[EL.index("T3"), 2 * FS:n // 3], nperseg=512)
    _, late = psd(act.signal[EL.index("T3"), -n // 3:], nperseg=512)
    assert peak(f, early, 1, 20) > peak(f, late, 1, 20)


def test_simple_partial_is_smaller_than_complex_partial():
    _, sp = seizure("spsz", seed=5, center="C3")
    _, cp = seizure("cpsz", seed=5, center="C3")
    sp_inv, _ = sim.channel_involvement(sp, EL, TCP22)
    cp_inv, _ = sim.channel_involvement(cp, EL, TCP22)
    assert sp_inv.sum() < cp_inv.sum()
    assert sp.signal.std() < cp.signal.std()


def test_myoclonic_is_brief():
    rng = np.random.default_rng(0)
    sig = sim.draw_seizure_signature("mysz", rng)
    durations = [sim.draw_seizure_duration(sig, rng) for _ in range(50)]
    absence = sim.draw_seizure_signature("absz", rng)
    tonic_clonic = sim.draw_seizure_signature("tcsz", rng)
    assert max(durations) <= 6.0
    assert np.median([sim.draw_seizure_duration(absence, rng) for _ in range(50)]) < \
        np.median([sim.draw_seizure_duration(tonic_clonic, rng) for _ in range(50)])


def test_patient_signatures_are_shared_within_and_differ_between_patients():
    a = sim.draw_seizure_signature("gnsz", np.random.default_rng(10))
    b = sim.draw_seizure_signature("gnsz", np.random.default_rng(11))
    rng = np.random.default_rng(0)
    a_freqs = [sim.jitter_signature(a, rng).frequency for _ in range(30)]
    b_freqs = [sim.jitter_signature(b, rng).frequency for _ in range(30)]
    assert np.std(a_freqs) < 0.15 * a.frequency
    assert abs(np.mean(a_freqs) - np.mean(b_freqs)) > 2 * (np.std(a_freqs) + np.std(b_freqs)) / 2


def test_signals_are_deterministic_for_a_seed(profile):
    one = sim.simulate_background(profile, EL, 10 * FS, FS, np.random.default_rng(7))
    two = sim.simulate_background(profile, EL, 10 * FS, FS, np.random.default_rng(7))
    three = sim.simulate_background(profile, EL, 10 * FS, FS, np.random.default_rng(8))
    np.testing.assert_array_equal(one, two)
    assert not np.allclose(one, three)


def pattern(kind, seed=0, seconds=60, **override):
    rng = np.random.default_rng(seed)
    sig = dataclasses.replace(sim.draw_pattern_signature(kind, rng), **override)
    return sig, sim.simulate_pattern(sig, HMS_EL, seconds * 200, 200, rng)


def hemispheres(x):
    left = [HMS_EL.index(e) for e in ("FP1", "F3", "C3", "P3", "F7", "T3", "T5", "O1")]
    right = [HMS_EL.index(e) for e in ("FP2", "F4", "C4", "P4", "F8", "T4", "T6", "O2")]
    v = x.var(axis=1)
    return v[left].mean(), v[right].mean()


def test_lpd_is_lateralized_periodic_and_gpd_generalized():
    sig, lpd = pattern("LPD", side="left", center="T3", frequency=1.0)
    left, right = hemispheres(lpd)
    assert left > 10 * right
    # Periodic discharges ~1 per second: the autocorrelation peaks near 1 s.
    x = lpd[HMS_EL.index("T3")]
    ac = np.correlate(x - x.mean(), x - x.mean(), mode="full")[x.size - 1:]
    lag = (np.argmax(ac[int(0.6 * 200):int(1.5 * 200)]) + int(0.6 * 200)) / 200
    assert abs(lag - 1.0) < 0.15
    _, gpd = pattern("GPD")
    left, right = hemispheres(gpd)
    assert 0.5 < left / right < 2.0


def test_rhythmic_delta_patterns():
    sig, lrda = pattern("LRDA", side="right", center="F8")
    f, p = psd(lrda, fs=200, nperseg=2048)
    assert 0.8 <= peak(f, p[HMS_EL.index("F8")], 0.3, 20) <= 3.0
    left, right = hemispheres(lrda)
    assert right > 10 * left
    _, grda = pattern("GRDA")
    left, right = hemispheres(grda)
    assert 0.5 < left / right < 2.0


def bipolar(x, a, b):
    return x[HMS_EL.index(a)] - x[HMS_EL.index(b)]


CHAIN_PAIRS = [(a.upper(), b.upper()) for chain in HMS_CHAINS.values() for a, b in chain]


@pytest.mark.parametrize("kind", ["Seizure", "LPD", "GPD", "LRDA", "GRDA"])
def test_pattern_amplitude_is_measured_as_acns_does(kind):
    # ACNS absolute amplitude: typical peak to trough in the longitudinal bipolar derivation where
    # the pattern is largest. Generalized patterns used to cancel in that montage (GPD ~3 uV rms).
    for seed in range(4):
        sig, x = pattern(kind, seed=seed, amplitude_uv=100.0)
        ptp = max(np.percentile(d, 99.5) - np.percentile(d, 0.5) for d in (bipolar(x, a, b) for a, b in CHAIN_PAIRS))
        # 100 uV before the slow waxing and waning (0.6-1.4 x) of the whole pattern.
        assert 60.0 < ptp < 160.0, (kind, seed, ptp)


def test_generalized_patterns_have_a_predominance():
    # Bilateral and symmetric, with the maximum where the signature puts it (frontal: ACNS's
    # "frontally predominant", anterior amplitude well above posterior).
    for kind in ("GPD", "GRDA"):
        sig, x = pattern(kind, center="FZ")
        rms = x.std(axis=1)
        anterior = rms[[HMS_EL.index(e) for e in ("FP1", "FP2", "F3", "F4")]].mean()
        posterior = rms[[HMS_EL.index(e) for e in ("P3", "P4", "O1", "O2")]].mean()
        assert anterior > 1.5 * posterior
        assert rms[HMS_EL.index("F3")] == pytest.approx(rms[HMS_EL.index("F4")], rel=1e-6)
    centers = {sim.draw_pattern_signature("GRDA", np.random.default_rng(s)).center for s in range(40)}
    assert centers == {"FZ", "CZ", "PZ"}


def test_bipolar_amplitude_needs_a_field_that_shows():
    field = np.ones(len(HMS_EL))
    with pytest.raises(ValueError, match="longitudinal bipolar"):
        sim.bipolar_amplitude(field, HMS_EL)


def test_votes_have_two_populations_and_ambiguity():
    rng = np.random.default_rng(0)
    counts = np.array([sim.draw_vote_count(rng, 0.25) for _ in range(2000)])
    assert set(counts) <= set(range(1, 8)) | set(range(10, 29))
    assert 0.15 < (counts >= 10).mean() < 0.35
    votes = sim.annotator_votes(rng, "LPD", 20, second_kind="Seizure", mix=0.55, noise=0.1)
    assert votes.sum() == 20 and votes.dtype.kind == "i"
    i_lpd, i_sz = HMS_CLASSES.index("LPD"), HMS_CLASSES.index("Seizure")
    assert votes[i_lpd] >= 4 and votes[i_sz] >= 4
    clear = sim.annotator_votes(rng, "GRDA", 1000, noise=0.1)
    assert clear.argmax() == HMS_CLASSES.index("GRDA") and clear.max() > 850


def test_vote_distribution_is_what_the_votes_are_drawn_from():
    p = sim.vote_distribution("LPD", "Seizure", mix=0.6, noise=0.2)
    assert p.sum() == pytest.approx(1.0) and (p >= 0).all()
    # annotators see LPD 60 % of the time and Seizure 40 %, then 20 % of them pick a confusion of it
    confused_lpd = 0.6 / len(sim.PATTERN_CONFUSIONS["LPD"])
    confused_seizure = 0.4 / len(sim.PATTERN_CONFUSIONS["Seizure"])
    i = {name: HMS_CLASSES.index(name) for name in HMS_CLASSES}
    assert p[i["LPD"]] == pytest.approx(0.8 * 0.6 + 0.2 * confused_seizure)
    assert p[i["Seizure"]] == pytest.approx(0.8 * 0.4 + 0.2 * confused_lpd)  # Seizure is one of LPD's confusions
    assert p[i["GRDA"]] == 0.0  # a confusion of neither LPD nor Seizure
    votes = sum(sim.annotator_votes(np.random.default_rng(seed), "LPD", 50, "Seizure", 0.6, 0.2) for seed in range(400))
    np.testing.assert_allclose(votes / votes.sum(), p, atol=0.01)
    assert sim.annotator_noise(10) < sim.annotator_noise(7)


def test_the_corpus_truth_gives_each_eeg_ids_vote_distribution(hms_root):
    from kerasseizure.io.hms import HMSDataset
    from kerasseizure.io.synthetic import generating_vote_distributions

    truth = generating_vote_distributions(hms_root).set_index("eeg_id")
    labels = HMSDataset(hms_root).labels.set_index("eeg_id")
    assert set(truth.index) == set(labels.index)
    np.testing.assert_allclose(truth.sum(axis=1), 1.0)
    votes = labels.loc[truth.index, list(HMS_VOTE_COLUMNS)].to_numpy()
    p = truth.to_numpy()
    # every vote falls on a class its eeg_id's distribution allows, and the votes follow it: a
    # class with 0 probability never gets a vote, and the pooled shares are close to the expected ones
    assert not (votes[p == 0] > 0).any()
    expected = (p * votes.sum(axis=1, keepdims=True)).sum(axis=0)
    np.testing.assert_allclose(votes.sum(axis=0) / votes.sum(), expected / expected.sum(), atol=0.08)
    with pytest.raises(FileNotFoundError, match="no synthetic ground truth"):
        generating_vote_distributions(hms_root / "train_eegs")


def test_unknown_names_raise():
    with pytest.raises(ValueError):
        sim.draw_seizure_signature("xxsz", np.random.default_rng(0))
    with pytest.raises(ValueError):
        sim.draw_pattern_signature("Spikes", np.random.default_rng(0))
    with pytest.raises(ValueError):
        sim.electrode_positions(["FP1", "XX9"])


def test_every_hms_pattern_shows_in_the_wavenet_differences():
    # Before ACNS-style amplitudes, GPD and GRDA sat at -20 and -14 dB (median) here: hidden.
    for kind in HMS_CLASSES:
        visibility = sim.pattern_visibility(kind, n_patients=12)
        assert np.median(visibility) > -8.0, (kind, visibility)


def test_every_tusz_type_shows_in_the_tcp_montage():
    # Annotators marked TUSZ seizures in the TCP montage. Before the generalized field had a gradient,
    # GNSZ sat at -6.3 dB (median of 40 patients) and TNSZ at -11.9: their nearly flat fields cancelled.
    floors = {"tnsz": -9.0, "mysz": -6.0}     # low-voltage fast activity; brief, sparse jerks
    for kind in sim.SEIZURE_MORPHOLOGY:
        visibility = sim.seizure_visibility(kind, n_patients=12)
        assert np.median(visibility) > floors.get(kind, -3.0), (kind, visibility)




def test_visibility_needs_the_montage_electrodes():
    with pytest.raises(ValueError, match="not among the simulated electrodes"):
        sim.montage_visibility(lambda rng, el, n, fs: np.zeros((len(el), n)), ["FP1", "F7"], [("FP1", "T3")],
                               population="icu", n_patients=1)
