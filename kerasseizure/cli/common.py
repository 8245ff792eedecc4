"""What the sub-commands share: the error type, corpus detection, feature options, model inputs.

Nothing here imports TensorFlow at import time.
"""

import argparse
import math
import sys
from pathlib import Path

from kerasseizure.errors import KerasSeizureError

TUSZ_REPRESENTATIONS = ("fft", "ses", "ses_single")
REPRESENTATIONS = TUSZ_REPRESENTATIONS + ("hms",)
QUANTIZATIONS = ("none", "float16", "dynamic", "int8")  # kerasseizure.export.tflite.QUANTIZATIONS
# The IBM grid's rate: every TUSZ feature (wl, ws, fmax) is defined at 250 Hz.
TUSZ_FS = 250
HMS_EEG_SAMPLES = 10_000  # 50 s at 200 Hz


class CommandError(KerasSeizureError, ValueError):
    """A sub-command cannot do what was asked (bad combination of options, unusable input)."""


def _warn(command, message):
    print(f"kerasseizure {command}: warning: {message}", file=sys.stderr)


def _is_hms_root(root):
    root = Path(root)
    return (root / "train.csv").is_file() or (root / "test.csv").is_file()


# ============================================================================ feature options
# Shared by `prepare` and `export --data-dir`: every option defaults to None, meaning "the
# pipeline's default", so only what the user gave is passed on (and checked against the corpus).

_TUSZ_OPTIONS = ("fs", "montage", "wl", "ws", "fmax", "box_size", "sigma", "truncate", "radii", "normalize",
                 "types", "splits")
_HMS_OPTIONS = ("views", "split", "spectrogram_offset", "kaggle_spectrogram", "low_hz", "high_hz",
                "filter_order", "zero_phase", "padlen", "clip", "scale", "keep_every", "standardize_over",
                "time_shift_views", "eeg_ids")
_COMMON_OPTIONS = ("dtype", "skip_bad", "rebuild")


def _add_feature_options(parser, hms=True):
    parser.add_argument("--cache-dir", help="folder of the feature caches (default: $KERASSEIZURE_CACHE or "
                                            "~/.cache/kerasseizure/features)")
    tusz = parser.add_argument_group("TUSZ features (fft, ses, ses_single)")
    tusz.add_argument("--fs", type=float, help="rate of the segments in Hz (IBM: 250)")
    tusz.add_argument("--montage", choices=("tcp20", "tcp22"), help="TCP montage (default tcp20)")
    tusz.add_argument("--wl", type=float, help="window length in seconds (default 1)")
    tusz.add_argument("--ws", type=float, help="window step in seconds (default 0.25)")
    tusz.add_argument("--fmax", type=float, nargs="+", metavar="HZ",
                      help="highest frequency kept: one value, or one per member for ses (default 24; ses 24 48 96)")
    tusz.add_argument("--box-size", type=int, help="SES spectral-residual box filter size (default 3)")
    tusz.add_argument("--sigma", type=float, help="SES saliency smoothing sigma (default 1.0)")
    tusz.add_argument("--truncate", type=float, help="SES Gaussian truncation (default 4.0)")
    tusz.add_argument("--radii", type=int, nargs="+", help="SES centre-surround radii (default 1 2 4)")
    tusz.add_argument("--no-normalize", dest="normalize", action="store_const", const=False,
                      help="do not scale the SES maps by their peak")
    tusz.add_argument("--types", nargs="+", metavar="TYPE",
                      help="seizure types kept, in class order (default: the seven benchmark types)")
    tusz.add_argument("--splits", nargs="+", metavar="SPLIT", help="splits pooled (default: train and dev)")
    if hms:
        group = parser.add_argument_group("HMS features (hms)")
        group.add_argument("--views", nargs="+", choices=("eeg", "image"), help="views cached (default: both)")
        group.add_argument("--split", choices=("train", "test"), help="train.csv or test.csv (default train)")
        group.add_argument("--spectrogram-offset", choices=("midpoint", "mean"),
                           help="Kaggle window rule of the default view (default midpoint)")
        group.add_argument("--no-kaggle-spectrogram", dest="kaggle_spectrogram", action="store_const", const=False,
                           help="EEG-only image (no Kaggle spectrogram panels)")
        _add_wavenet_options(group)
        group.add_argument("--padlen", type=int, help="zero-phase filter padding (default: SciPy's)")
        group.add_argument("--standardize-over", choices=("panel", "stack"),
                           help="Kaggle panel statistics (default panel)")
        group.add_argument("--time-shift-views", type=int, help="label-aligned sub-row variants per eeg_id (default 0)")
        group.add_argument("--eeg-ids", type=int, nargs="+", metavar="ID", help="only these eeg_ids")
    common = parser.add_argument_group("cache")
    common.add_argument("--dtype", choices=("float32", "float16"), help="storage dtype (default float32)")
    common.add_argument("--skip-bad", action="store_const", const=True,
                        help="skip and count unreadable seizures / eeg_ids instead of stopping")
    common.add_argument("--rebuild", action="store_const", const=True, help="recompute even if a cache exists")


def _add_wavenet_options(group):
    group.add_argument("--low-hz", type=float, help="WaveNet band-pass low edge (default none: the starter's "
                                                    "low-pass; the paper: 0.1)")
    group.add_argument("--high-hz", type=float, help="WaveNet low-pass / band-pass high edge (default 20)")
    group.add_argument("--filter-order", type=int, help="Butterworth order (default 4)")
    group.add_argument("--zero-phase", action="store_const", const=True,
                       help="zero-phase filtering instead of the starter's causal lfilter")
    group.add_argument("--clip", type=float, help="clip the differences to +-CLIP (default 1024)")
    group.add_argument("--scale", type=float, help="divide the clipped differences by SCALE (default 32)")
    group.add_argument("--keep-every", type=int, help="decimation factor (default 5: 200 -> 40 Hz)")


def _given(args, names):
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def _feature_kwargs(args, representation, command):
    """Keyword arguments of build_tusz_features / build_hms_features from the options given."""
    tusz, hms = _given(args, _TUSZ_OPTIONS), _given(args, _HMS_OPTIONS)
    kwargs = _given(args, _COMMON_OPTIONS)
    if representation == "hms":
        if tusz:
            raise CommandError(f"options {_flags(tusz)} apply to TUSZ features, not to --representation hms")
        kwargs.update(hms)
    else:
        if hms:
            raise CommandError(f"options {_flags(hms)} apply to HMS features, not to --representation "
                               f"{representation}")
        if "fmax" in tusz:
            fmax = tusz["fmax"]
            if representation != "ses":
                if len(fmax) != 1:
                    raise CommandError(f"--representation {representation} takes one --fmax, got {fmax}")
                fmax = fmax[0]
            tusz["fmax"] = fmax
        kwargs.update(tusz)
    kwargs["progress"] = not getattr(args, "no_progress", False)
    return kwargs


def _flags(options):
    return ", ".join("--" + name.replace("_", "-").replace("kaggle-spectrogram", "no-kaggle-spectrogram")
                     .replace("normalize", "no-normalize") for name in options)


def _build_features(root, representation, cache_dir, kwargs):
    """Build (or load) the feature cache of a TUSZ or HMS corpus; corpus kind checked against representation."""
    from kerasseizure.pipelines import build_hms_features, build_tusz_features

    is_hms = _is_hms_root(root)
    if is_hms and representation != "hms":
        raise CommandError(f"{root}: an HMS corpus (train.csv / test.csv); use --representation hms")
    if not is_hms and representation == "hms":
        raise CommandError(f"{root}: not an HMS corpus (no train.csv or test.csv); --representation hms needs one")
    try:
        if is_hms:
            return build_hms_features(root, cache_dir, **kwargs)
        return build_tusz_features(root, representation, cache_dir, **kwargs)
    except KerasSeizureError:
        raise
    except ValueError as error:  # bad option values (the pipelines' argument checks)
        raise CommandError(str(error)) from error


# ============================================================================ models


def _input_specs(model):
    """[(name, shape without batch)] of a Keras model's inputs."""
    return [(tensor.name, tuple(tensor.shape[1:])) for tensor in model.inputs]


def _infer_tusz_input(shape, wl=1.0):
    """What a TUSZ model input of `shape` reads: {"kind", "fmax" or "wl", "montage"}."""
    if len(shape) not in (2, 3) or shape[0] not in (20, 22) or any(d is None for d in shape):
        return None
    montage = "tcp20" if shape[0] == 20 else "tcp22"
    if len(shape) == 3 and shape[-1] in (1, 3):
        return {"kind": "ses" if shape[-1] == 3 else "fft", "fmax": shape[1] / wl, "montage": montage}
    if len(shape) == 2:
        if shape[1] <= TUSZ_FS * wl / 2:
            return {"kind": "fft", "fmax": shape[1] / wl, "montage": montage}
        return {"kind": "raw", "wl": shape[1] / TUSZ_FS, "montage": montage}
    return None


def _infer_hms_input(shape):
    """'eeg' for a (time, 8) WaveNet input, 'image' for (H, W, 3), else None."""
    if len(shape) == 2 and shape[-1] == 8:
        return "eeg"
    # Spectrogram images are hundreds of pixels a side; a TUSZ SES window (20, K, 3) is not one.
    if len(shape) == 3 and shape[-1] == 3 and shape[0] is not None and shape[1] is not None \
            and min(shape[0], shape[1]) >= 32:
        return "image"
    return None


def _fit_shape(array, shape, what):
    """Reshape (n, ...) to (n, *shape) when only unit axes differ (fft (n, 20, 24, 1) -> (n, 20, 24))."""
    if any(d is None for d in shape):  # a dynamic axis: the model takes what it gets
        return array
    target = tuple(int(d) for d in shape)
    if tuple(array.shape[1:]) == target:
        return array
    if math.prod(array.shape[1:]) == math.prod(target) and \
            [d for d in array.shape[1:] if d != 1] == [d for d in target if d != 1]:
        return array.reshape((array.shape[0], *target))
    raise CommandError(f"{what}: the features are {tuple(array.shape[1:])} per window but the model reads {target}")


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


