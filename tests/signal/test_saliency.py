import numpy as np
import pytest
import tensorflow as tf

from kerasseizure.signal import saliency, reference


def _smooth_background(height=20, width=24, seed=0):
    rng = np.random.default_rng(seed)
    rows, cols = np.meshgrid(np.linspace(0, 1, height), np.linspace(0, 1, width), indexing="ij")
    return (1.0 + 0.5 * rows + 0.3 * cols + 0.02 * rng.standard_normal((height, width))).astype(np.float32)


@pytest.mark.parametrize("size, mode", [(3, "wrap"), (5, "wrap"), (3, "reflect"), (9, "reflect")])
def test_box_mean_matches_uniform_filter(size, mode):
    import scipy.ndimage

    maps = np.random.default_rng(1).random((2, 20, 24)).astype(np.float32)
    actual = saliency.box_mean(maps, size, mode).numpy()
    for k in range(2):
        np.testing.assert_allclose(actual[k], scipy.ndimage.uniform_filter(maps[k].astype(np.float64), size, mode=mode), atol=1e-6)


@pytest.mark.parametrize("box_size, sigma", [(3, 1.0), (5, 2.0), (3, 0.5)])
def test_spectral_residual_matches_reference(box_size, sigma):
    maps = np.random.default_rng(2).random((3, 20, 48)).astype(np.float32)
    actual = saliency.spectral_residual_saliency(maps, box_size=box_size, sigma=sigma).numpy()
    for k in range(3):
        expected = reference.spectral_residual_saliency_reference(maps[k], box_size, sigma)
        np.testing.assert_allclose(actual[k], expected, rtol=1e-3, atol=1e-4 * expected.max())


@pytest.mark.parametrize("radii", [(1,), (1, 2, 4), (3, 6)])
def test_center_surround_matches_reference(radii):
    maps = np.random.default_rng(3).random((2, 20, 24)).astype(np.float32)
    actual = saliency.center_surround_saliency(maps, radii).numpy()
    for k in range(2):
        np.testing.assert_allclose(actual[k], reference.center_surround_saliency_reference(maps[k], radii), atol=1e-5)


def test_saliency_highlights_an_injected_blob():
    background = _smooth_background()
    with_blob = background.copy()
    with_blob[8:10, 14:16] += 2.0
    for method in (saliency.spectral_residual_saliency, saliency.center_surround_saliency):
        salient = method(with_blob).numpy()
        inside = salient[8:10, 14:16].mean()
        outside = np.delete(salient.ravel(), [8 * 24 + 14, 8 * 24 + 15, 9 * 24 + 14, 9 * 24 + 15]).mean()
        assert inside > 4.0 * outside, (method.__name__, inside, outside)
        peak = np.unravel_index(salient.argmax(), salient.shape)
        assert 7 <= peak[0] <= 10 and 13 <= peak[1] <= 16, (method.__name__, peak)


def test_ses_shape_finite_and_matches_reference():
    x = (30 * np.random.default_rng(4).standard_normal((20, 1250))).astype(np.float32)
    ses = saliency.saliency_encoded_spectrogram(x).numpy()
    assert ses.shape == (17, 20, 24, 3) and np.isfinite(ses).all()
    assert ses[..., 1:].max() == pytest.approx(1.0) and ses[..., 1:].min() >= 0.0
    expected = reference.saliency_encoded_spectrogram_reference(x)
    np.testing.assert_allclose(ses, expected, atol=2e-4)


def test_ses_marks_a_focal_rhythm():
    fs, seconds = 250, 4
    t = np.arange(seconds * fs) / fs
    rng = np.random.default_rng(5)
    x = 10.0 * rng.standard_normal((20, seconds * fs))
    x[6:9] += 200.0 * np.sin(2 * np.pi * 10.0 * t)  # a 10 Hz rhythm in channels 6-8
    ses = saliency.saliency_encoded_spectrogram(x.astype(np.float32), fs=fs).numpy()
    contrast = ses[..., 2].mean(axis=0)
    channel, bin_index = np.unravel_index(contrast.argmax(), contrast.shape)
    assert 5 <= channel <= 9 and 8 <= bin_index <= 10


def test_multi_spectral_set_shapes_and_tf_data():
    x = (30 * np.random.default_rng(6).standard_normal((3, 20, 750))).astype(np.float32)
    members = saliency.multi_spectral_ses(x, fs=250, fmax=(24, 48, 96))
    assert [m.shape for m in members] == [(3, 9, 20, b, 3) for b in (24, 48, 96)]
    dataset = tf.data.Dataset.from_tensor_slices(x).map(
        lambda s: saliency.multi_spectral_ses(s, fs=250, fmax=(24, 48))
    )
    first = next(iter(dataset))
    np.testing.assert_allclose(first[1].numpy(), members[1][0].numpy(), atol=1e-5)


def test_parameters_are_validated_and_large_boxes_follow_scipy():
    with pytest.raises(ValueError, match="odd"):
        saliency.box_mean(np.zeros((5, 5)), 4)
    with pytest.raises(ValueError, match="at least one radius"):
        saliency.center_surround_saliency(np.zeros((5, 5)), radii=())
    small = np.random.default_rng(7).random((5, 6)).astype(np.float32)
    np.testing.assert_allclose(saliency.center_surround_saliency(small, radii=(6,)).numpy(),
                               reference.center_surround_saliency_reference(small, radii=(6,)), atol=1e-5)
