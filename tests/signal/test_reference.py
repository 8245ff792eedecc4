"""The NumPy references: definitional loops, argument rules, and the TF-free import guarantee."""

import json
import textwrap

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal

from kerasseizure.errors import SignalError
from kerasseizure.io.channels import SCALP_ELECTRODES, TCP20, TCP22
from kerasseizure.signal import reference, reference_spectral
from tests.blocked_imports import HEAVY, run_without


def _noise(shape, seed=0, scale=30.0):
    return scale * np.random.default_rng(seed).standard_normal(shape)


# ----------------------------------------------------------------------------- definitional loops


def _ibm_fft_loop(x, fs=250, wl=1.0, ws=0.25, fmax=24.0):
    """IBM's `generate_fft_images` loop for one (channels, time) array, one window at a time."""
    length, step = int(np.floor(wl * fs)), int(np.floor(ws * fs))
    bins = int(np.floor(fmax * wl))
    windows, start = [], 0
    while start + length < x.shape[-1]:
        magnitude = np.abs(np.fft.rfft(x[:, start : start + length], axis=-1))[:, 1 : bins + 1]
        zero = magnitude <= 0
        magnitude[zero] = 0.1 * magnitude[~zero].min()
        windows.append(np.log10(magnitude))
        start += step
    return np.stack(windows)


def _ses_loop(spectra, box_size=3, sigma=1.0, truncate=4.0, radii=(1, 2, 4), normalize=True):
    """The SES of each window by 2-D scipy.ndimage calls, window by window (the reconstruction's definition)."""
    images = []
    for window in spectra:
        spectrum = np.fft.fft2(window)
        log_amplitude = np.log(np.maximum(np.abs(spectrum), 1e-12))
        residual = log_amplitude - scipy.ndimage.uniform_filter(log_amplitude, size=box_size, mode="wrap")
        rebuilt = np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))
        salient = scipy.ndimage.gaussian_filter(np.abs(rebuilt) ** 2, sigma, mode="reflect", truncate=truncate)
        contrast = sum(np.abs(window - scipy.ndimage.uniform_filter(window, size=2 * r + 1, mode="reflect"))
                       for r in radii)
        if normalize:
            salient = salient / salient.max() if salient.max() > 0 else salient
            contrast = contrast / contrast.max() if contrast.max() > 0 else contrast
        images.append(np.stack([window, salient, contrast], axis=-1))
    return np.stack(images)


@pytest.mark.parametrize("n, fs, wl, ws, fmax", [
    (251, 250, 1.0, 0.25, 24.0), (312, 250, 1.0, 0.25, 24.0), (1000, 250, 1.0, 0.25, 48.0),
    (2500, 250, 2.0, 0.5, 96.0), (4200, 250, 16.0, 4.0, 12.0), (900, 256, 1.0, 0.25, 24.0),
])
def test_fft_windows_reference_equals_ibm_loop(n, fs, wl, ws, fmax):
    x = _noise((6, n), seed=n)
    x[2] = 0.0  # a flat channel exercises the per-window floor rule
    expected = _ibm_fft_loop(x, fs, wl, ws, fmax)
    actual = reference.fft_windows_reference(x, fs, wl, ws, fmax)
    assert actual.shape == expected.shape == (reference.fft_window_count(n, fs, wl, ws), 6, int(fmax * wl))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-12)


def test_fft_windows_reference_batches_and_chunks(monkeypatch):
    x = _noise((2, 3, 5, 1300), seed=1)
    single = np.stack([np.stack([_ibm_fft_loop(c) for c in b]) for b in x])
    np.testing.assert_allclose(reference.fft_windows_reference(x), single, atol=1e-12)
    monkeypatch.setattr(reference_spectral, "_FFT_CHUNK_VALUES", 1)  # one window per rfft call
    np.testing.assert_allclose(reference.fft_windows_reference(x), single, atol=1e-12)


@pytest.mark.parametrize("options", [{}, {"box_size": 5, "sigma": 2.0, "radii": (3, 6)},
                                     {"sigma": 0.5, "truncate": 2.0, "normalize": False}])
def test_ses_reference_equals_window_loop(options):
    x = _noise((20, 1250), seed=2)
    fmax = 48.0 if options else 24.0
    expected = _ses_loop(_ibm_fft_loop(x, fmax=fmax), **options)
    actual = reference.saliency_encoded_spectrogram_reference(x, fmax=fmax, **options)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-12)
    batched = reference.saliency_encoded_spectrogram_reference(np.stack([x, x[::-1]]), fmax=fmax, **options)
    np.testing.assert_allclose(batched[0], actual, atol=1e-12)


def test_window_frames_are_ibm_windows():
    x = np.arange(3 * 700, dtype=float).reshape(3, 700)
    frames = reference.window_frames(x)
    assert frames.shape == (reference.fft_window_count(700), 3, 250)
    for k, window in enumerate(frames):
        np.testing.assert_array_equal(window, x[:, 62 * k : 62 * k + 250])
    # A window ending exactly at the end is dropped.
    assert len(reference.window_frames(np.zeros((1, 250 + 62)))) == 1
    with pytest.raises(SignalError, match="too short"):
        reference.window_frames(np.zeros((2, 250)))


def test_fft_windows_reference_bad_input():
    with pytest.raises(SignalError, match="all zeros"):
        reference.fft_windows_reference(np.zeros((4, 1000)))
    bad = _noise((4, 1000))
    bad[1, 5] = np.nan
    with pytest.raises(SignalError, match="NaN"):
        reference.fft_windows_reference(bad)
    with pytest.raises(ValueError, match="Nyquist"):
        reference.fft_windows_reference(_noise((4, 1000)), fs=40, fmax=24)


# ----------------------------------------------------------------------------- montage and resampling


@pytest.mark.parametrize("montage, pairs", [("tcp20", TCP20), ("tcp22", TCP22)])
def test_tcp_bipolar_reference_is_electrode_differences(montage, pairs):
    names = [f"EEG {e}-REF" for e in SCALP_ELECTRODES][::-1] + ["EKG1"]
    x = _noise((len(names), 50), seed=3)
    out = reference.tcp_bipolar_reference(x, names, montage)
    row = {name.split()[1].split("-")[0]: i for i, name in enumerate(names) if name.startswith("EEG")}
    for c, (a, b) in enumerate(pairs):
        np.testing.assert_array_equal(out[c], x[row[a]] - x[row[b]])
    with pytest.raises(SignalError, match="channels"):
        reference.tcp_bipolar_reference(x[:-1], names)
    keep = [i for i, name in enumerate(names) if "FP1" not in name]
    with pytest.raises(SignalError, match="missing electrodes.*FP1"):
        reference.tcp_bipolar_reference(x[keep], [names[i] for i in keep])


def test_resample_reference_plans_and_errors():
    x = _noise((3, 512), seed=4)
    np.testing.assert_allclose(reference.resample_reference(x, fs_in=256, fs_out=250),
                               scipy.signal.resample(x, 500, axis=-1))
    np.testing.assert_allclose(reference.resample_reference(x, fs_in=256, fs_out=250, method="polyphase"),
                               scipy.signal.resample_poly(x, 125, 128, axis=-1))
    np.testing.assert_array_equal(reference.resample_reference(x, fs_in=250, fs_out=250), x)
    assert reference.resample_plan(512, 512) == ("identity",)
    # Rates as an EDF header's NumPy scalars give the same plain plans.
    for kind in (np.int64, np.float32, np.float64):
        for method, plan in (("fft", ("fft", 500)), ("polyphase", ("polyphase", 125, 128))):
            got = reference.resample_plan(np.int64(512), fs_in=kind(256), fs_out=kind(250), method=method)
            assert got == plan and all(type(v) in (str, int) for v in got)
    with pytest.raises(ValueError, match="positive"):
        reference.resample_reference(x, fs_in=0, fs_out=250)
    with pytest.raises(SignalError, match="0 samples"):
        reference.resample_reference(x[:, :1], fs_in=256, fs_out=250)
    with pytest.raises(ValueError, match="method"):
        reference.resample_reference(x, 10, method="linear")
    bad = x.copy()
    bad[0, 0] = np.inf
    with pytest.raises(SignalError, match="NaN/inf"):
        reference.resample_reference(bad, fs_in=256, fs_out=250)


def test_filter_matrices_apply_scipy_filters():
    v = _noise((7, 3), seed=5)
    np.testing.assert_allclose(reference.box_filter_matrix(7, 9, "reflect") @ v,
                               scipy.ndimage.uniform_filter1d(v, 9, axis=0, mode="reflect"), atol=1e-12)
    np.testing.assert_allclose(reference.gaussian_filter_matrix(7, 1.5, 3.0) @ v,
                               scipy.ndimage.gaussian_filter1d(v, 1.5, axis=0, mode="reflect", truncate=3.0),
                               atol=1e-12)
    frame = _noise((4, 250), seed=6)
    parts = frame @ reference.dft_basis(250, 24)
    np.testing.assert_allclose(parts[:, :24] + 1j * parts[:, 24:], np.fft.rfft(frame)[:, 1:25], atol=1e-9)


# ----------------------------------------------------------------------------- TensorFlow-free


# Runs in a fresh interpreter where importing TensorFlow, Keras or librosa raises ImportError.
_TF_FREE_SCRIPT = textwrap.dedent("""
    import json
    import sys

    import numpy as np

    import kerasseizure.signal.reference as ref
    from kerasseizure.signal import fft_windows_reference, saliency_encoded_spectrogram_reference

    out_path, names, seed = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    raw = 40.0 * np.random.default_rng(seed).standard_normal((len(names), 2560))
    bipolar = ref.tcp_bipolar_reference(raw, names)
    x = ref.resample_reference(bipolar, fs_in=256, fs_out=250)
    x = x.astype(np.float32).astype(np.float64)  # the TF side reads float32
    np.savez(out_path, raw=raw, bipolar=bipolar, x=x, fft=fft_windows_reference(x, fmax=48.0),
             ses=saliency_encoded_spectrogram_reference(x))
    try:
        import kerasseizure.signal
        kerasseizure.signal.fft_windows
    except ImportError:
        needs_tf = True
    else:
        needs_tf = False
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "librosa"))
    print(json.dumps({"heavy": heavy, "tf_side_needs_tf": needs_tf}))
""")


def test_reference_module_is_tensorflow_free(tmp_path):
    names = [f"EEG {e}-REF" for e in SCALP_ELECTRODES] + ["EKG1"]
    out_path = tmp_path / "features.npz"
    result = run_without(_TF_FREE_SCRIPT, [out_path, json.dumps(names), 7], blocked=HEAVY + ("librosa",), timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"heavy": [], "tf_side_needs_tf": True}

    # What the TF-free process computed equals the TensorFlow transforms (tolerances of docs/signal.md).
    from kerasseizure.signal import fft_windows, resample, saliency_encoded_spectrogram, tcp_bipolar

    got = np.load(out_path)
    np.testing.assert_allclose(got["bipolar"], tcp_bipolar(got["raw"].astype(np.float32), names).numpy(), atol=1e-3)
    tf_x = resample(got["bipolar"].astype(np.float32), fs_in=256, fs_out=250).numpy()
    assert np.abs(got["x"] - tf_x).max() < 1e-5 * np.abs(got["x"]).max()  # float32 rounding of x included
    x = got["x"].astype(np.float32)
    # float32 DFT error ~1e-7 of a window's peak: a bin 1000x below the peak moves ~3e-5 in log10.
    np.testing.assert_allclose(got["fft"], fft_windows(x, fmax=48.0).numpy(), atol=1e-4)
    np.testing.assert_allclose(got["ses"], saliency_encoded_spectrogram(x).numpy(), atol=2e-4)
