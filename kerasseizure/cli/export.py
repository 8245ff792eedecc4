"""`export`: a .keras model -> a verified builtin-ops .tflite file (calibration data from a corpus)."""

from pathlib import Path

from kerasseizure.cli.common import (
    QUANTIZATIONS, REPRESENTATIONS, TUSZ_FS, CommandError, _add_feature_options, _build_features, _feature_kwargs,
    _fit_shape, _infer_hms_input, _infer_tusz_input, _input_specs, _is_hms_root, _positive_int, _warn,
)
from kerasseizure.errors import KerasSeizureError


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
    from kerasseizure.export.saving import load_keras_model
    from kerasseizure.export.tflite import export

    model = load_keras_model(args.model)

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


