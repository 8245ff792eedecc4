"""The `kerasseizure` command line.

Sub-commands import what they need when they run, so `kerasseizure --help` is instant, the
corpus commands never load TensorFlow, and `predict` with a .tflite model runs on NumPy, SciPy
and LiteRT alone (no TensorFlow, no Keras).

Each sub-command is one `_add_<name>` function (its arguments) and one `_<name>` function (what
it does); `build_parser` lists them. See docs/cli.md.
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


# ============================================================================ make-demo-data


def _make_demo_data(args):
    from kerasseizure.io.synthetic import make_hms_corpus, make_tusz_corpus

    out = Path(args.directory)
    for version in args.tusz_versions:
        root = make_tusz_corpus(out / f"tusz-{version}", version=version, size=args.size, seed=args.seed,
                                overwrite=args.overwrite)
        print(f"TUSZ v{version} (synthetic): {root}")
    if not args.no_hms:
        root = make_hms_corpus(out / "hms", size=args.size, seed=args.seed, overwrite=args.overwrite)
        print(f"HMS (synthetic): {root}")


def _add_make_demo_data(commands):
    demo = commands.add_parser("make-demo-data", help="write synthetic TUSZ and HMS corpora in the real formats")
    demo.add_argument("directory", help="folder to create (tusz-<version>/ and hms/ go inside)")
    demo.add_argument("--size", default="demo", choices=("tests", "demo", "realistic"),
                      help="corpus size preset (default: demo)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--tusz-versions", nargs="+", default=["2.0.3", "1.5.2"],
                      choices=("2.0.3", "1.5.2", "1.4.0"), metavar="VERSION",
                      help="TUSZ layouts to write (default: 2.0.3 1.5.2)")
    demo.add_argument("--no-hms", action="store_true", help="skip the HMS corpus")
    demo.add_argument("--overwrite", action="store_true", help="replace existing synthetic corpora")
    demo.set_defaults(run=_make_demo_data)


# ============================================================================ describe


def _describe(args):
    import pandas as pd

    root = Path(args.path)
    with pd.option_context("display.max_rows", None, "display.width", 120):
        if (root / "train.csv").is_file():
            from kerasseizure.io.hms import HMSDataset

            dataset = HMSDataset(root)
            print(f"HMS corpus at {root}\n")
            print(dataset.describe().to_string())
            if dataset.test_csv.is_file():
                print(f"\ntest eeg_ids: {len(dataset.test_ids)}")
        else:
            from kerasseizure.io.tusz import TUSZCorpus

            corpus = TUSZCorpus(root, skip_bad=args.skip_bad)
            print(f"TUSZ v{corpus.version} at {root}\n")
            print(corpus.describe().to_string(float_format=lambda v: f"{v:,.1f}"))
            if len(corpus.skipped):
                print(f"\nskipped {len(corpus.skipped)} bad file(s):")
                print(corpus.skipped.to_string(index=False))


def _add_describe(commands):
    describe = commands.add_parser("describe", help="statistics of a TUSZ or HMS corpus")
    describe.add_argument("path", help="TUSZ release folder (holding edf/) or HMS folder (holding train.csv)")
    describe.add_argument("--skip-bad", action="store_true",
                          help="list bad files and go on instead of stopping at the first")
    describe.set_defaults(run=_describe)


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


# ============================================================================ prepare


def _prepare(args):
    root = Path(args.data_dir)
    if not root.is_dir():
        raise CommandError(f"{root}: no such corpus folder")
    kwargs = _feature_kwargs(args, args.representation, "prepare")
    features = _build_features(root, args.representation, args.cache_dir, kwargs)
    report = features.report
    print(f"cache: {features.path}")
    print("arrays: " + ", ".join(f"{name} {tuple(array.shape)} {array.dtype}"
                                  for name, array in sorted(features.arrays.items())))
    if args.representation == "hms":
        print(f"HMS {features.split} views {'+'.join(features.views)}: {len(features.table)} eeg_ids, "
              f"{len(features.skipped)} skipped")
        if len(features.skipped):
            print(features.skipped.to_string(index=False))
        print(f"NaN fills: {report.get('nan_filled_eeg_values', 0)} EEG values in "
              f"{report.get('eeg_ids_with_nan', 0)} eeg_ids, {report.get('all_nan_channels', 0)} all-NaN channels, "
              f"{report.get('nan_kaggle_values', 0)} Kaggle values")
        if "population" in features.table.columns:
            counts = features.table["population"].value_counts().to_dict()
            print("populations: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    else:
        kept = features.seizures[features.seizures["skipped"] == ""]
        print(f"TUSZ {features.representation}: {len(features.seizures)} seizures "
              f"({len(kept)} with windows, {len(features.skipped)} skipped), {len(features.windows)} windows")
        per_class = report.get("windows_per_class", {})
        seizures_per_class = kept["label"].value_counts().to_dict()
        print("per class (seizures / windows): " + ", ".join(
            f"{t} {seizures_per_class.get(t, 0)}/{per_class.get(t, 0)}" for t in features.classes))
        excluded = report.get("excluded_types") or {}
        if excluded:
            print("excluded types: " + ", ".join(f"{k} {v}" for k, v in sorted(excluded.items())))
        if len(features.skipped):
            reasons = features.skipped["skipped"].value_counts().to_dict()
            print("skipped: " + ", ".join(f"{k} {v}" for k, v in reasons.items()))
            print(features.skipped[["edf_path", "start", "stop", "label", "skipped"]].to_string(index=False))
    print(f"report: {Path(features.path) / 'report.json'}")


def _add_prepare(commands):
    prepare = commands.add_parser(
        "prepare", help="build the feature cache of a TUSZ or HMS corpus",
        description="Compute (or reuse) the cached features of a TUSZ corpus (fft, ses, ses_single) or an "
                    "HMS corpus (hms) and print where they went and the counts / skips report.")
    prepare.add_argument("data_dir", metavar="DATA_DIR",
                         help="TUSZ release folder (holding edf/) or HMS folder (holding train.csv)")
    prepare.add_argument("--representation", required=True, choices=REPRESENTATIONS,
                         help="fft (IBM), ses (SeizureNet teacher), ses_single (one member / students), "
                              "hms (WaveNet input and spectrogram panels)")
    _add_feature_options(prepare)
    prepare.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    prepare.set_defaults(run=_prepare)


# ============================================================================ export


def _load_keras_model(path):
    """A .keras model loaded with safe_mode=True (the package's custom layers registered)."""
    path = Path(path)
    if path.suffix != ".keras":
        raise CommandError(f"{path}: expected a .keras model file")
    if not path.is_file():
        raise CommandError(f"{path}: no such model file")
    import keras

    import kerasseizure.models  # noqa: F401  registers the package's layers for deserialization

    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # zip / config / unknown-layer errors from Keras
        raise CommandError(f"{path}: cannot load the Keras model ({type(error).__name__}: {error})") from error


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


def _tusz_export_data(args, model):
    """(representative, verify, preprocessing) from a TUSZ corpus through the pipeline."""
    import numpy as np

    specs = _input_specs(model)
    wl = args.wl if args.wl is not None else 1.0
    inferred = [_infer_tusz_input(shape, wl) for _, shape in specs]
    if any(i is None or i["kind"] == "raw" for i in inferred):
        raise CommandError(f"{args.model}: inputs {specs} are not TUSZ windows (fft (20, K[, 1]) or SES (20, K, 3))")
    representation = args.representation
    if representation is None:
        representation = "ses" if len(specs) > 1 else ("ses_single" if inferred[0]["kind"] == "ses" else "fft")
    kinds = {i["kind"] for i in inferred}
    if (representation == "fft") != (kinds == {"fft"}):
        raise CommandError(f"{args.model}: the model reads {'log-FFT' if kinds == {'fft'} else 'SES'} windows, "
                           f"not --representation {representation}")
    kwargs = _feature_kwargs(args, representation, "export")
    if "fmax" not in kwargs:  # the model's bins say which fmax it was trained on
        fmaxes = [i["fmax"] for i in inferred]
        kwargs["fmax"] = tuple(fmaxes) if representation == "ses" else fmaxes[0]
    if "montage" not in kwargs:
        kwargs["montage"] = inferred[0]["montage"]
    features = _build_features(Path(args.data_dir), representation, args.cache_dir, kwargs)
    n = len(features.windows)
    if n == 0:
        raise CommandError(f"{args.data_dir}: the corpus yields no windows")
    if len(specs) > 1:
        names = [name for name, _ in specs]
        missing = [name for name in names if name not in features.arrays]
        if missing:
            raise CommandError(f"{args.model}: inputs {missing} are not among the features {features.input_names}")
    else:
        names = [features.input_names[0]]
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(n)
    n_rep = min(args.representative_samples, max(n // 2, 1) if n > 1 else 1)
    rep_rows = np.sort(order[:n_rep])
    ver_rows = np.sort(order[n_rep : n_rep + args.verify_samples]) if n > n_rep else rep_rows

    def take(rows):
        arrays = [_fit_shape(np.asarray(features.arrays[name][rows], dtype=np.float32), shape,
                             f"{args.model} input {input_name}")
                  for name, (input_name, shape) in zip(names, specs)]
        return arrays[0] if len(arrays) == 1 else {input_name: a for (input_name, _), a in zip(specs, arrays)}

    labels = features.windows["label_index"].to_numpy(np.int32)[ver_rows]
    n_outputs = int(model.outputs[0].shape[-1])
    verify = (take(ver_rows), labels) if n_outputs == len(features.classes) else take(ver_rows)
    if n_outputs != len(features.classes):
        _warn("export", f"the model has {n_outputs} outputs, the features {len(features.classes)} classes: "
                        "verifying without labels")
    params = features.config["params"]
    preprocessing = None
    if len(specs) == 1:
        preprocessing = {"kind": inferred[0]["kind"], "fs": TUSZ_FS, "wl": params["wl"], "ws": params["ws"],
                         "fmax": float(params["fmax"][0] if isinstance(params["fmax"], list) else params["fmax"]),
                         "montage": features.config["montage"]}
        if "ses" in params:
            preprocessing["ses_options"] = dict(params["ses"])
    print(f"data: {features.path} ({n} windows; {len(rep_rows)} for calibration, {len(ver_rows)} for verification)")
    return take(rep_rows), verify, preprocessing


def _hms_export_data(args, model):
    import numpy as np

    from kerasseizure.pipelines import hms_dataset

    specs = _input_specs(model)
    views = [_infer_hms_input(shape) for _, shape in specs]
    if any(v is None for v in views) or len(set(views)) != len(views):
        raise CommandError(f"{args.model}: inputs {specs} are not HMS views (eeg (2000, 8), image (H, W, 3))")
    kwargs = _feature_kwargs(args, "hms", "export")
    kwargs.setdefault("views", tuple(views))
    image_shape = next((shape for (_, shape), v in zip(specs, views) if v == "image"), None)
    include_kaggle, image_size = True, None
    if image_shape is not None:
        if tuple(image_shape[:2]) == (512, 256):
            include_kaggle = False
        elif tuple(image_shape[:2]) != (512, 512):
            image_size = tuple(int(d) for d in image_shape[:2])
    features = _build_features(Path(args.data_dir), "hms", args.cache_dir, kwargs)
    n = len(features.table)
    if n == 0:
        raise CommandError(f"{args.data_dir}: no eeg_id could be prepared")
    inputs = "both" if len(views) == 2 else views[0]
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(n)
    n_rep = min(args.representative_samples, max(n // 2, 1) if n > 1 else 1)
    rep, ver = np.sort(order[:n_rep]), (np.sort(order[n_rep : n_rep + args.verify_samples]) if n > n_rep
                                        else np.sort(order[:n_rep]))
    common = dict(inputs=inputs, image_size=image_size, include_kaggle=include_kaggle, batch_size=16)
    representative = hms_dataset(features, rep, targets=False, **common)
    targets = features.split == "train"
    verify = hms_dataset(features, ver, targets=targets, **common)
    wavenet = features.config["params"].get("wavenet")
    preprocessing = {"kind": "hms", "views": list(views), "eeg": wavenet, "image_size": image_size,
                     "include_kaggle": include_kaggle,
                     "standardize_over": (features.config["params"].get("image") or {}).get("standardize_over")}
    print(f"data: {features.path} ({n} eeg_ids; {len(rep)} for calibration, {len(ver)} for verification)")
    return representative, verify, preprocessing


def _export(args):
    model_path = Path(args.model)
    out = Path(args.out) if args.out else model_path.with_name(f"{model_path.stem}_{args.quantization}.tflite")
    if out.suffix != ".tflite":
        raise CommandError(f"{out}: --out must end with .tflite")
    if args.data_dir is None:
        if args.quantization == "int8":
            raise CommandError("--quantization int8 needs --data-dir: a corpus whose windows calibrate the "
                               "activations (e.g. the training corpus)")
        if args.representation is not None:
            raise CommandError("--representation needs --data-dir")
    elif not Path(args.data_dir).is_dir():
        raise CommandError(f"{args.data_dir}: no such corpus folder")
    model = _load_keras_model(args.model)
    from kerasseizure.export.tflite import export

    representative = verify = preprocessing = None
    if args.data_dir is not None:
        if (args.representation or ("hms" if _is_hms_root(args.data_dir) else None)) == "hms":
            representative, verify, preprocessing = _hms_export_data(args, model)
        else:
            representative, verify, preprocessing = _tusz_export_data(args, model)
    else:
        _warn("export", "no --data-dir: verifying on random standard-normal inputs, which says little about "
                        "agreement on EEG (pass --data-dir CORPUS for real windows)")
    try:
        report = export(model, out, quantization=args.quantization, representative_data=representative,
                        verify_data=verify, int8_io=args.int8_io, probabilities=args.probabilities,
                        min_agreement=args.min_agreement, max_abs_diff=args.max_abs_diff,
                        max_f1_drop=args.max_f1_drop, max_kl_increase=args.max_kl_increase,
                        preprocessing=preprocessing, max_representative_samples=args.representative_samples,
                        max_verify_samples=args.verify_samples, num_threads=args.num_threads, seed=args.seed)
    except KerasSeizureError:
        raise
    except ValueError as error:
        raise CommandError(str(error)) from error
    _print_export_report(report)


def _print_export_report(report):
    from kerasseizure.export.litert_runtime import report_path_for

    v = report.verification
    print(f"exported: {report.path} ({report.quantization}{', int8 I/O' if report.int8_io else ''})")
    print(f"size: {report.size_bytes:,} bytes ({report.size_bytes / 1024:.1f} KiB); "
          f"Keras parameters: {report.keras_parameters:,}")
    for detail in report.inputs:
        print(f"input {detail['name']}: {detail['shape']} {detail['dtype']}")
    print(f"output: {report.output_kind}; preprocessing: {report.preprocessing}")
    line = (f"verification on {v['n_samples']} {v['source']} samples: argmax agreement "
            f"{v['argmax_agreement']:.4f}, max |diff| {v['max_abs_diff']}")
    for key in ("weighted_f1_keras", "weighted_f1_tflite", "kl_keras", "kl_tflite"):
        if v.get(key) is not None:
            line += f", {key} {v[key]:.4f}"
    print(line)
    print("ops: " + ", ".join(f"{op} x{count}" for op, count in sorted(report.op_counts.items())))
    print(f"report: {report_path_for(report.path)}")


def _add_export(commands):
    export = commands.add_parser(
        "export", help="convert a .keras model to a verified builtin-ops .tflite file",
        description="Load a .keras model (safe_mode=True), convert it to TFLite with builtin ops only, verify "
                    "the file against Keras and write the report beside it (<out>.json). With --data-dir the "
                    "calibration and verification windows come from a corpus through the feature pipeline "
                    "(the representation and fmax follow the model's input unless given).")
    export.add_argument("model", metavar="MODEL.keras", help="the trained model")
    export.add_argument("--quantization", default="none", choices=QUANTIZATIONS,
                        help="none (float32), float16, dynamic (int8 weights) or int8 (needs --data-dir)")
    export.add_argument("--out", help="the .tflite file (default: <model stem>_<quantization>.tflite beside it)")
    export.add_argument("--data-dir", metavar="CORPUS",
                        help="TUSZ or HMS corpus giving calibration / verification windows")
    export.add_argument("--representation", choices=REPRESENTATIONS,
                        help="features of --data-dir (default: inferred from the model's input)")
    export.add_argument("--int8-io", action="store_true", help="int8 inputs and outputs too (with int8)")
    export.add_argument("--probabilities", action="store_true", help="append a softmax: the file outputs probabilities")
    export.add_argument("--min-agreement", type=float,
                        help="minimum argmax agreement with Keras (default 0.99; 0.95 for int8; "
                             "0 for untrained models)")
    export.add_argument("--max-abs-diff", type=float, help="maximum |LiteRT - Keras| of the outputs")
    export.add_argument("--max-f1-drop", type=float, help="maximum weighted-F1 loss (TUSZ labels)")
    export.add_argument("--max-kl-increase", type=float, help="maximum KL increase (HMS targets)")
    export.add_argument("--representative-samples", type=_positive_int, default=256,
                        help="calibration windows (default 256)")
    export.add_argument("--verify-samples", type=_positive_int, default=1024,
                        help="verification windows, disjoint from the calibration ones when the corpus "
                             "allows (default 1024)")
    export.add_argument("--num-threads", type=_positive_int, default=1, help="LiteRT threads while verifying")
    export.add_argument("--seed", type=int, default=0, help="draw of the windows / random inputs")
    _add_feature_options(export)
    export.add_argument("--no-progress", action="store_true", help="no progress line while building features")
    export.set_defaults(run=_export)


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


# ============================================================================ predict


class _LiteModel:
    """A .tflite file through the TensorFlow-free LiteRT runtime."""

    def __init__(self, path, num_threads, output_kind, batch_size):
        from kerasseizure.export.litert_runtime import LiteRTClassifier

        try:
            self.classifier = LiteRTClassifier(path, num_threads=num_threads, output_kind=output_kind,
                                               batch_size=batch_size)
        except ImportError as error:
            raise CommandError(f"{path}: running .tflite files needs ai-edge-litert ({error})") from error
        self.report = self.classifier.report
        details = self.classifier.input_details
        self.specs = [(name, tuple(int(d) if d >= 0 else None for d in details[name]["shape_signature"][1:]))
                      for name in self.classifier.input_names]
        self.n_classes = int(self.classifier.output_details[self.classifier.output_names[0]]["shape"][-1])

    def predict(self, arrays):
        return self.classifier.predict(arrays if len(arrays) > 1 else arrays[0])


class _KerasModel:
    """A .keras model (loads TensorFlow); outputs turned into probabilities like LiteRTClassifier does."""

    def __init__(self, path, output_kind, batch_size):
        self.model = _load_keras_model(path)
        self.report = {}
        self.specs = _input_specs(self.model)
        self.n_classes = int(self.model.outputs[0].shape[-1])
        self.batch_size = batch_size
        if output_kind is None:
            last = self.model.layers[-1]
            activation = getattr(getattr(last, "activation", None), "__name__", "")
            output_kind = "probabilities" if type(last).__name__ == "Softmax" or activation == "softmax" else "logits"
        self.output_kind = output_kind

    def predict(self, arrays):
        import numpy as np

        from kerasseizure.export.litert_runtime import softmax

        x = arrays[0] if len(arrays) == 1 else {name: a for (name, _), a in zip(self.specs, arrays)}
        scores = np.asarray(self.model.predict(x, batch_size=self.batch_size, verbose=0), dtype=np.float32)
        return softmax(scores) if self.output_kind == "logits" else scores


def _load_predict_model(args):
    path = Path(args.model)
    if not path.is_file():
        raise CommandError(f"{path}: no such model file")
    if path.suffix == ".tflite":
        return _LiteModel(path, args.num_threads, args.output_kind, args.batch_size)
    if path.suffix == ".keras":
        return _KerasModel(path, args.output_kind, args.batch_size)
    raise CommandError(f"{path}: MODEL must be a .tflite or .keras file")


def _class_names(args, n_classes, default):
    if args.classes:
        names = [c.strip() for c in args.classes.split(",") if c.strip()]
        if len(names) != n_classes:
            raise CommandError(f"--classes names {len(names)} classes, the model outputs {n_classes}")
        return names
    if default is not None and len(default) == n_classes:
        return list(default)
    return [f"class_{i}" for i in range(n_classes)]


# ---------------------------------------------------------------------------- EDF (TUSZ)


def _read_edf(path):
    """(signals (electrodes, time), electrode names, fs, duration) of every scalp electrode of an EDF."""
    import numpy as np

    from kerasseizure.export.litert_runtime import TARGET_FS
    from kerasseizure.io.edf import read_electrodes
    from kerasseizure.signal.reference import resample_reference

    signals = read_electrodes(path, dtype=np.float64)
    if not signals.electrodes:
        raise CommandError(f"{path}: no scalp EEG electrode found")
    duration = signals.stop - signals.start
    if len(set(signals.rates)) == 1:
        return np.stack(signals.signals), list(signals.electrodes), float(signals.rates[0]), duration
    # Electrodes at different rates: each resampled to 250 Hz on its own (FFT resampling is linear,
    # so this equals resampling the bipolar differences, as preprocess_recording does).
    try:
        resampled = [resample_reference(x, fs_in=fs, fs_out=TARGET_FS) for x, fs in zip(signals.signals, signals.rates)]
    except KerasSeizureError as error:
        raise CommandError(f"{path}: {error}") from error
    length = min(len(x) for x in resampled)
    return np.stack([x[:length] for x in resampled]), list(signals.electrodes), float(TARGET_FS), duration


def _edf_settings(model):
    """Per model input: preprocess_recording keyword arguments (from the export report, else the shape)."""
    report = model.report.get("preprocessing") if model.report else None
    if report and len(model.specs) == 1 and report.get("kind") in ("ses", "fft", "raw"):
        options = {k: v for k, v in report.items() if k != "fs"}
        return [options]
    settings = []
    for name, shape in model.specs:
        inferred = _infer_tusz_input(shape)
        if inferred is None:
            raise CommandError(f"model input {name} {shape} is not a TUSZ window: an EDF cannot feed it "
                               "(HMS models take .parquet input)")
        settings.append({"wl": 1.0, "ws": 0.25, **inferred})
    return settings


def _predict_edf(model, paths, args):
    import numpy as np
    import pandas as pd

    from kerasseizure.export.litert_runtime import TARGET_FS, pool_windows, preprocess_recording
    from kerasseizure.io.labels import SEIZURE_TYPES

    settings = _edf_settings(model)
    classes = _class_names(args, model.n_classes, SEIZURE_TYPES)
    grids = {(float(s.get("wl", 1.0)), float(s.get("ws", 0.25))) for s in settings}
    if len(grids) != 1:
        raise CommandError(f"model inputs use different window grids {sorted(grids)}")
    wl, ws = grids.pop()
    length = math.floor(wl * TARGET_FS) / TARGET_FS
    step = math.floor(ws * TARGET_FS) / TARGET_FS
    frames = []
    for path in paths:
        signals, names, fs, duration = _read_edf(path)
        try:
            arrays = [_fit_shape(preprocess_recording(signals, names, fs=fs, **options), shape, f"{path}")
                      for options, (_, shape) in zip(settings, model.specs)]
        except KerasSeizureError as error:
            raise CommandError(f"{path}: {error}") from error
        except ValueError as error:  # e.g. a recording shorter than one window
            raise CommandError(f"{path}: {error}") from error
        probabilities = np.asarray(model.predict(arrays), dtype=np.float64)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        n = len(probabilities)
        starts = np.arange(n) * step
        frame = pd.DataFrame({"recording": str(path), "level": "window", "window": np.arange(n),
                              "start_seconds": np.round(starts, 6), "end_seconds": np.round(starts + length, 6)})
        for k, name in enumerate(classes):
            frame[name] = probabilities[:, k]
        pooled = pool_windows(probabilities, method=args.pooling)
        pooled = pooled / pooled.sum()
        row = {"recording": str(path), "level": "recording", "window": pd.NA, "start_seconds": 0.0,
               "end_seconds": round(float(duration), 6), **dict(zip(classes, pooled))}
        frame = pd.concat([frame, pd.DataFrame([row])], ignore_index=True)
        frame["window"] = frame["window"].astype("Int64")
        frame["predicted"] = np.asarray(classes)[frame[classes].to_numpy(np.float64).argmax(axis=1)]
        frames.append(frame)
        print(f"{path}: {n} windows, recording: {classes[int(np.argmax(pooled))]} ({pooled.max():.3f})")
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------- parquet (HMS)


def _hms_inputs(path):
    """(eeg parquet files, HMS root or None, split) of a .parquet file or a folder of them."""
    path = Path(path)
    if path.is_file():
        folder = path.parent
        files = [path]
    else:
        folder = path
        if (path / "test_eegs").is_dir():
            folder = path / "test_eegs"
        files = sorted(folder.glob("*.parquet"))
        if not files:
            raise CommandError(f"{path}: no .parquet file in this folder")
    split = "train" if folder.name == "train_eegs" else "test"
    root = folder.parent if folder.name in ("train_eegs", "test_eegs") and _is_hms_root(folder.parent) else None
    return files, root, split


def _eeg_id(path):
    stem = Path(path).stem
    return int(stem) if stem.isdigit() else stem


def _bilinear_resize(image, size):
    """tf.image.resize(method="bilinear") in NumPy (half-pixel centres, no antialiasing), (H, W, C)."""
    import numpy as np

    def axis_weights(n_in, n_out):
        position = np.clip((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0, n_in - 1)
        low = np.floor(position).astype(int)
        high = np.minimum(low + 1, n_in - 1)
        return low, high, (position - low)

    h_low, h_high, h_w = axis_weights(image.shape[0], size[0])
    w_low, w_high, w_w = axis_weights(image.shape[1], size[1])
    rows = image[h_low] * (1 - h_w)[:, None, None] + image[h_high] * h_w[:, None, None]
    return (rows[:, w_low] * (1 - w_w)[None, :, None] + rows[:, w_high] * w_w[None, :, None]).astype(np.float32)


def _hms_views(model):
    views = []
    for name, shape in model.specs:
        view = _infer_hms_input(shape)
        if view is None:
            raise CommandError(f"model input {name} {shape} is not an HMS view (eeg (2000, 8) or image (H, W, 3)): "
                               "a parquet EEG cannot feed it (TUSZ models take an .edf)")
        views.append(view)
    return views


def _predict_parquet(model, paths, root, split, args):
    import numpy as np
    import pandas as pd

    from kerasseizure.io.channels import HMS_EEG_COLUMNS
    from kerasseizure.io.hms import HMSDataset, _read_parquet_columns
    from kerasseizure.io.labels import HMS_VOTE_COLUMNS
    from kerasseizure.signal.reference import (
        hms_eeg_spectrogram_reference, kaggle_spectrogram_panels_reference, wavenet_input_reference,
    )

    views = _hms_views(model)
    if model.n_classes != len(HMS_VOTE_COLUMNS):
        raise CommandError(f"{args.model}: outputs {model.n_classes} classes, HMS has {len(HMS_VOTE_COLUMNS)}")
    report = (model.report or {}).get("preprocessing") or {}
    report = report if report.get("kind") == "hms" else {}
    eeg_options = dict(report.get("eeg") or {})
    eeg_options.update({k: v for k, v in _given(args, ("low_hz", "high_hz", "clip", "scale", "keep_every")).items()})
    if getattr(args, "filter_order", None) is not None:
        eeg_options["order"] = args.filter_order
    if getattr(args, "zero_phase", None):
        eeg_options["zero_phase"] = True
    dataset, spectrogram_of, offsets = None, {}, {}
    image_shape = next((shape for (_, shape), v in zip(model.specs, views) if v == "image"), None)
    needs_kaggle = image_shape is not None and tuple(image_shape[:2]) != (512, 256) and \
        report.get("include_kaggle", True)
    if needs_kaggle:
        if root is None:
            raise CommandError(f"{args.input}: the image model needs the Kaggle spectrograms; give the competition "
                               "folder (holding test.csv and test_spectrograms/) or its test_eegs/ folder")
        dataset = HMSDataset(root)
        if split == "test":
            table = dataset.test_ids
            spectrogram_of = dict(zip(table["eeg_id"].astype(int), table["spectrogram_id"].astype(int)))
        else:
            table = dataset.labels
            spectrogram_of = dict(zip(table["eeg_id"].astype(int), table["spectrogram_id"].astype(int)))
            offsets = dict(zip(table["eeg_id"].astype(int), (table["spectrogram_label_offset_seconds_min"]
                                                             + table["spectrogram_label_offset_seconds_max"]) / 2))
    rows = []
    for path in paths:
        eeg = _read_parquet_columns(path, HMS_EEG_COLUMNS, "EEG")
        if eeg.shape[0] < HMS_EEG_SAMPLES:
            raise CommandError(f"{path}: EEG has {eeg.shape[0]} samples ({eeg.shape[0] / 200:g} s), "
                               f"shorter than the {HMS_EEG_SAMPLES}-sample (50 s) window")
        start = (eeg.shape[0] - HMS_EEG_SAMPLES) // 2  # the middle 50 s, as the starters take it
        window = eeg[start : start + HMS_EEG_SAMPLES]
        eeg_id = _eeg_id(path)
        arrays = []
        for (name, shape), view in zip(model.specs, views):
            if view == "eeg":
                x = wavenet_input_reference(window, fs=200, **eeg_options).astype(np.float32)
            else:
                panels = hms_eeg_spectrogram_reference(window, fs=200)
                half = np.concatenate([panels[:, :, k] for k in range(4)], axis=0)
                if needs_kaggle:
                    if eeg_id not in spectrogram_of:
                        raise CommandError(f"{path}: eeg_id {eeg_id} is not listed in {root}/{split}.csv")
                    kaggle = dataset.spectrogram_window(spectrogram_of[eeg_id], float(offsets.get(eeg_id, 0.0)),
                                                        split=split).values
                    kaggle_panels = kaggle_spectrogram_panels_reference(
                        kaggle, standardize_over=report.get("standardize_over") or "panel")
                    half = np.concatenate([np.concatenate([kaggle_panels[:, :, k] for k in range(4)], axis=0), half],
                                          axis=1)
                image = np.repeat(half[..., None].astype(np.float32), 3, axis=-1)
                if tuple(image.shape[:2]) != tuple(shape[:2]):
                    image = _bilinear_resize(image, tuple(int(d) for d in shape[:2]))
                x = image
            arrays.append(_fit_shape(x[None], shape, f"{path}"))
        probabilities = np.asarray(model.predict(arrays), dtype=np.float64)[0]
        probabilities = probabilities / probabilities.sum()
        rows.append({"eeg_id": eeg_id, **dict(zip(HMS_VOTE_COLUMNS, probabilities))})
    frame = pd.DataFrame(rows, columns=["eeg_id", *HMS_VOTE_COLUMNS])
    print(f"{len(frame)} eeg_id(s) predicted ({'+'.join(views)})")
    return frame


def _predict(args):
    source = Path(args.input)
    if not source.exists():
        raise CommandError(f"{source}: no such file or folder")
    edfs = [source] if source.is_file() and source.suffix.lower() == ".edf" else (
        sorted(p for p in source.rglob("*") if p.suffix.lower() == ".edf") if source.is_dir() else [])
    parquet = source.suffix.lower() == ".parquet" or (source.is_dir() and not edfs)
    if not edfs and not parquet:
        raise CommandError(f"{source}: INPUT must be an .edf file, an HMS EEG .parquet file or a folder of them")
    model = _load_predict_model(args)
    if edfs:
        frame = _predict_edf(model, edfs, args)
    else:
        files, root, split = _hms_inputs(source)
        frame = _predict_parquet(model, files, root, split, args)
    if args.out == "-":
        frame.to_csv(sys.stdout, index=False)
        return
    from kerasseizure.files import atomic_path

    with atomic_path(args.out) as tmp:
        frame.to_csv(tmp, index=False)
    print(f"wrote {len(frame)} rows to {args.out}")


def _add_predict(commands):
    predict = commands.add_parser(
        "predict", help="class probabilities of EDF recordings (TUSZ) or HMS EEG parquet files",
        description="Run a .tflite model (LiteRT, no TensorFlow) or a .keras model on an EDF recording "
                    "(per-window probabilities with window times plus a pooled per-recording row; "
                    "preprocessing from the export report when present) or on HMS EEG parquet files "
                    "(one row per eeg_id in the sample_submission layout).")
    predict.add_argument("model", metavar="MODEL", help="a .tflite or .keras model")
    predict.add_argument("input", metavar="INPUT",
                         help="an .edf file (or a folder of them), an HMS EEG .parquet file, or a folder of "
                              "HMS test parquet files (or the competition folder: its test_eegs/ is used)")
    predict.add_argument("--out", default="predictions.csv",
                         help="CSV to write atomically (default predictions.csv; '-' for stdout)")
    predict.add_argument("--classes", help="comma-separated class names of the TUSZ model's outputs "
                                           "(default: the seven benchmark types when it has 7 outputs)")
    predict.add_argument("--pooling", default="mean", choices=("mean", "max"),
                         help="per-recording pooling of window probabilities (default mean)")
    predict.add_argument("--output-kind", choices=("logits", "probabilities"),
                         help="what the model outputs (default: from the export report / the last layer)")
    predict.add_argument("--batch-size", type=_positive_int, default=64, help="windows per inference call")
    predict.add_argument("--num-threads", type=_positive_int, default=1, help="LiteRT threads")
    group = predict.add_argument_group("HMS WaveNet input (default: the export report's, else the starter's)")
    _add_wavenet_options(group)
    predict.set_defaults(run=_predict)


# ============================================================================ parser


def build_parser():
    parser = argparse.ArgumentParser(
        prog="kerasseizure",
        description="SeizureNet (TUSZ) and HMS harmful-brain-activity reproductions in Keras 3.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    # One function per sub-command; `train` and `evaluate` slot in here.
    for add in (_add_make_demo_data, _add_describe, _add_prepare, _add_export, _add_predict):
        add(commands)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except KerasSeizureError as error:
        print(f"kerasseizure {args.command}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error of ours.
        sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
