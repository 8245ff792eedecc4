"""`detect`: seizure events of whole EDF recordings, as TUSZ `.csv_bi` and SzCORE `_events.tsv` files.

Each recording is read with `read_edf_recording` and streamed through `StreamingDetector` (whole,
or in chunks of --chunk-seconds, which gives the same events); its events are written atomically
to `<out>/csv_bi/<stem>.csv_bi` and `<out>/events/<stem>_events.tsv` (`kerasseizure.io.events`),
one folder per format so that `kerasseizure score REF <out>/events` (or `<out>/csv_bi`) pairs
them by name, and a timeline figure `<out>/figures/<stem>_timeline.png` is drawn when the
recording has a reference annotation. A .tflite model runs on NumPy, SciPy and LiteRT alone (preprocessing and class names
from its export report); a .keras model loads TensorFlow. See docs/detection.md.
"""

import argparse
import contextlib
import math
import time
from pathlib import Path

from kerasseizure.cli.common import CommandError, _positive_int
from kerasseizure.cli.predict import _LiteModel, _edf_settings, _highest_frequency, _load_predict_model, _read_edf
from kerasseizure.errors import KerasSeizureError

REFERENCE_SUFFIXES = (".csv_bi", ".tse_bi")


@contextlib.contextmanager
def _naming(path):
    """Re-raise the package's errors as a CommandError that starts with `path` (unless it names it)."""
    try:
        yield
    except KerasSeizureError as error:
        if str(path) in str(error):
            raise
        raise CommandError(f"{path}: {error}") from error


# ============================================================================ inputs


def _edf_paths(inputs):
    """The EDF files of the arguments (folders searched recursively), checked for clashing names."""
    paths = []
    for source in map(Path, inputs):
        if source.is_dir():
            found = sorted(p for p in source.rglob("*") if p.suffix.lower() == ".edf" and p.is_file())
            if not found:
                raise CommandError(f"{source}: no .edf file in this folder")
            paths.extend(found)
        elif source.is_file() and source.suffix.lower() == ".edf":
            paths.append(source)
        elif source.exists():
            raise CommandError(f"{source}: not an .edf file or a folder of them")
        else:
            raise CommandError(f"{source}: no such file or folder")
    by_stem = {}
    for path in paths:
        if path.stem in by_stem and by_stem[path.stem] != path:
            raise CommandError(f"{path}: same recording name as {by_stem[path.stem]}; their outputs would "
                               "share the file names <name>.csv_bi and <name>_events.tsv")
        by_stem[path.stem] = path
    return list(by_stem.values())


def _outputs(out, stem):
    # One folder per format: `kerasseizure score` refuses two event files of one recording in a folder.
    return {"csv_bi": out / "csv_bi" / f"{stem}.csv_bi", "tsv": out / "events" / f"{stem}_events.tsv",
            "figure": out / "figures" / f"{stem}_timeline.png"}


def _references(edfs, reference_dir, out):
    """{EDF: its reference annotation or None}: in --reference-dir (paired by name), else beside the EDF."""
    from kerasseizure.io.events import find_event_files

    in_folder = {}
    if reference_dir is not None:
        if not Path(reference_dir).is_dir():
            raise CommandError(f"{reference_dir}: no such reference folder")
        in_folder = find_event_files(reference_dir)
    references = {}
    for path in edfs:
        beside = (path.with_suffix(suffix) for suffix in REFERENCE_SUFFIXES)
        reference = in_folder.get(path.stem) or next((p for p in beside if p.is_file()), None)
        if reference is not None and any(reference.resolve() == output.resolve()
                                         for output in _outputs(out, path.stem).values()):
            raise CommandError(f"{reference}: --out {out} would overwrite this reference annotation; write the "
                               "detections to another folder")
        references[path] = reference
    return references


# ============================================================================ model


def _detector_classes(args, model):
    """The model's class names (--classes, else its export report's), checked to hold --background."""
    if args.classes:
        names, source = [name.strip() for name in args.classes.split(",") if name.strip()], "--classes"
    else:
        names, source = model.classifier.class_names if isinstance(model, _LiteModel) else None, "its export report"
        if names is None:
            raise CommandError(f"{args.model}: no class names; a detector needs the names of the model's classes, "
                               f"including its background class ({args.background!r}): give --classes (the "
                               ".tflite export report carries them when exported with class_names)")
    if len(names) != model.n_classes:
        raise CommandError(f"{args.model}: {source} names {len(names)} classes, the model outputs {model.n_classes}")
    if args.background not in names:
        raise CommandError(f"{args.model}: no background class {args.background!r} among its classes "
                           f"({', '.join(names)}); a model of seizure types only is not a detector (see "
                           "docs/detection.md); give --background if its background class has another name")
    return list(names)


def _detector_model(args):
    """(model for StreamingDetector, preprocessing, highest frequency or None, class names) of --model,
    loaded as `predict` loads it."""
    model = _load_predict_model(args)
    if len(model.specs) != 1:
        raise CommandError(f"{args.model}: the detector runs single-input models; this one reads "
                           f"{len(model.specs)} inputs")
    settings = _edf_settings(model)[0]
    classes = _detector_classes(args, model)
    runner = model.classifier if isinstance(model, _LiteModel) else model.model
    return runner, settings, _highest_frequency(model, [settings]), classes


# ============================================================================ one recording


def _stream(detector, signals, chunk):
    """(dates of the smoothed values, smoothed seizure probability, final events) of a recording fed
    in chunks of `chunk` samples (None: whole); any chunking gives the same events."""
    import numpy as np

    if chunk is None:
        outputs = [detector.run(signals)]
    else:
        outputs = [detector.feed(signals[:, start:start + chunk]) for start in range(0, signals.shape[1], chunk)]
        outputs.append(detector.flush())
    return (np.concatenate([o.smoothed_times for o in outputs]),
            np.concatenate([o.smoothed_probability for o in outputs]),
            [event for o in outputs for event in o.events_closed])


def _timeline_figure(path, name, dates, smoothed, events, reference, duration, args):
    """The smoothed seizure probability over time, the threshold(s), reference and detected seizures."""
    from matplotlib.figure import Figure  # Agg canvas: no display, no pyplot state

    from kerasseizure.files import atomic_path

    figure = Figure(figsize=(10, 3))
    axis = figure.subplots()
    for k, event in enumerate(reference.events):
        axis.axvspan(event.onset, event.stop, color="tab:green", alpha=0.25, lw=0,
                     label=None if k else "reference seizure")
    for k, event in enumerate(events):
        axis.axvspan(event.onset, event.stop, ymin=0.0, ymax=0.5, color="tab:red", alpha=0.3, lw=0,
                     label=None if k else "detected event")
    axis.plot(dates, smoothed, color="tab:blue", lw=1, label="smoothed seizure probability")
    axis.axhline(args.threshold, color="black", ls="--", lw=0.8, label=f"threshold {args.threshold:g}")
    if args.off_threshold is not None and args.off_threshold != args.threshold:
        axis.axhline(args.off_threshold, color="black", ls=":", lw=0.8, label=f"off threshold {args.off_threshold:g}")
    axis.set(xlim=(0, duration), ylim=(0, 1.02), xlabel="time (s)", ylabel="seizure probability",
             title=f"{name}: {len(events)} detected event(s), {len(reference.events)} reference seizure(s)")
    axis.legend(loc="upper right", fontsize=7)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)


def _detect_recording(path, model, settings, fmax, classes, reference, out, args):
    """Detect the seizures of one EDF and write its files; returns (events, duration s, seconds taken)."""
    from kerasseizure.export.streaming import StreamingDetector
    from kerasseizure.io.edf import read_header
    from kerasseizure.io.events import HED_SCORE_TYPES, Event, read_seizure_events, write_csv_bi, write_events_tsv

    signals, names, fs, duration = _read_edf(path, fmax)
    with _naming(path):
        detector = StreamingDetector(model, fs=fs, channel_names=names, preprocessing=settings, class_names=classes,
                                     background_index=classes.index(args.background), smooth_windows=args.smooth,
                                     threshold=args.threshold, off_threshold=args.off_threshold,
                                     min_duration_s=args.min_duration)
        chunk = None if args.chunk_seconds is None else max(1, round(args.chunk_seconds * fs))
        started = time.perf_counter()
        dates, smoothed, detected = _stream(detector, signals, chunk)
        seconds = time.perf_counter() - started
        events = [Event(e.onset, e.duration, HED_SCORE_TYPES.get(e.type.lower(), e.type), e.confidence)
                  for e in detected]
        # Read before anything is written, so that a bad annotation leaves nothing of this recording.
        shown = read_seizure_events(reference) if reference is not None and not args.no_figures else None
        files = _outputs(out, path.stem)
        write_csv_bi(files["csv_bi"], events, duration)
        write_events_tsv(files["tsv"], events, duration, date_time=read_header(path).start_datetime)
    if shown is not None:
        _timeline_figure(files["figure"], path.stem, dates, smoothed, events, shown, duration, args)
    return events, duration, seconds


def _detect(args):
    if args.off_threshold is not None and args.off_threshold > args.threshold:
        raise CommandError(f"--off-threshold {args.off_threshold:g} lies above --threshold {args.threshold:g}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CommandError(f"{out}: --out must be a folder")
    edfs = _edf_paths(args.inputs)
    references = _references(edfs, args.reference_dir, out)
    model, settings, fmax, classes = _detector_model(args)
    for path in edfs:
        events, duration, seconds = _detect_recording(path, model, settings, fmax, classes, references[path], out,
                                                      args)
        print(f"{path}: {len(events)} seizure event(s) in {duration:g} s ({duration / max(seconds, 1e-6):.0f}x "
              "real time)")
    unreferenced = sum(reference is None for reference in references.values())
    if unreferenced and not args.no_figures:
        print(f"no timeline figure for {unreferenced} recording(s) without a reference annotation "
              f"(<name>.csv_bi or .tse_bi beside the EDF, or in --reference-dir)")
    print(f"wrote the events of {len(edfs)} recording(s) to {out}")
    return 0


# ============================================================================ arguments


def _number(low, high=math.inf, low_open=False):
    """An argparse type: a float in [low, high] (low excluded when `low_open`)."""
    def parse(text):
        value = float(text)
        if not (low < value if low_open else low <= value) or not value <= high:
            bound = f"{'(' if low_open else '['}{low:g}, {high:g}]"
            raise argparse.ArgumentTypeError(f"must lie in {bound}, got {text}")
        return value
    return parse


def _add_detect(commands):
    detect = commands.add_parser(
        "detect", help="seizure events of EDF recordings through a detector with a background class",
        description="Stream each EDF recording through a .tflite (LiteRT, no TensorFlow) or .keras model with a "
                    "background class (StreamingDetector: smoothed seizure probability, threshold, minimum "
                    "duration) and write its events to OUT/csv_bi/<name>.csv_bi and OUT/events/<name>_events.tsv, "
                    "the formats `kerasseizure score` reads; OUT/figures/<name>_timeline.png when a reference "
                    "annotation is found. "
                    "See docs/detection.md.")
    detect.add_argument("inputs", nargs="+", metavar="EDF_OR_FOLDER",
                        help=".edf files or folders (searched recursively for .edf files)")
    detect.add_argument("--model", required=True, help="a .tflite or .keras model with a background class")
    detect.add_argument("--out", required=True, help="folder of the event files and figures")
    detect.add_argument("--classes", help="comma-separated class names of the model's outputs (default: the "
                                          ".tflite export report's class_names)")
    detect.add_argument("--background", default="bckg", help="name of the background class (default bckg)")
    detect.add_argument("--threshold", type=_number(0.0, 1.0, low_open=True), default=0.5,
                        help="smoothed seizure probability that starts an event (default 0.5)")
    detect.add_argument("--off-threshold", type=_number(0.0, 1.0),
                        help="smoothed probability below which an event ends (default: --threshold)")
    detect.add_argument("--min-duration", type=_number(0.0), default=10.0,
                        help="shortest event kept, in seconds (default 10)")
    detect.add_argument("--smooth", type=_positive_int, default=8,
                        help="windows in the causal moving average of the seizure probability (default 8)")
    detect.add_argument("--chunk-seconds", type=_number(0.0, low_open=True),
                        help="feed each recording in chunks of this many seconds, as a live stream would "
                             "(the events are the same; default: whole)")
    detect.add_argument("--no-figures", action="store_true", help="do not draw the timeline figures")
    detect.add_argument("--reference-dir", help="folder of reference annotations (<name>.csv_bi, .tse_bi or "
                                                "_events.tsv, paired by name) for the figures; default: the "
                                                ".csv_bi or .tse_bi beside each EDF")
    # What `predict`'s model loader also reads: one LiteRT thread, 64 windows a call, the output kind
    # from the export report or the last layer.
    detect.set_defaults(run=_detect, num_threads=1, batch_size=64, output_kind=None)
