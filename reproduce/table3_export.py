"""Table 3's deployment steps: verified TFLite exports reused across runs, and LiteRT latency.

Each export is reused when the `.tflite`, its verification report and `<file>.source.json` (the
fingerprint of the weights it came from and the export settings) all match; each latency
measurement is cached in `<file>.latency.json`, keyed by the file's SHA-256. Used by
`reproduce.table3` (which re-exports these names).
"""

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from reproduce.common import cpu_model


def _sha256_file(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_fingerprint(model):
    """SHA-256 of a model's weights (names, shapes and bytes): which training an export came from."""
    digest = hashlib.sha256()
    for variable in model.weights:
        value = np.ascontiguousarray(np.asarray(variable.numpy()))
        digest.update(f"{variable.path}:{value.dtype}:{value.shape};".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def export_verified(model, path, quantization, representative, verify, min_agreement, log, options=None):
    """Export `model` to `path` unless a verified file of the same weights and settings is there.

    `options` are further `export` arguments (e.g. preprocessing, class_names), part of the settings.

    Returns (report dict, reused?). A file is reused when `<path>`, its report (passed, same
    quantization) and `<path>.source.json` (weights fingerprint + export settings) all match.
    A file that fails verification is not fatal: the exporter keeps it as
    `<stem>.rejected.tflite` with its report; it is evaluated and timed like the others, marked
    "verified: NO" in the table, and reused on a re-run just the same.
    """
    from kerasseizure.errors import ExportError
    from kerasseizure.export.tflite import export, rejected_path_for
    from kerasseizure.files import atomic_write_json

    path = Path(path)
    source = {"weights_sha256": weights_fingerprint(model), "quantization": quantization,
              "min_agreement": min_agreement, "calibration_windows": int(len(_first(representative))),
              "verify_windows": int(len(verify[1])), **({"options": options} if options else {})}
    for candidate, passed in ((path, True), (rejected_path_for(path), False)):
        report_path, source_path = Path(f"{candidate}.json"), Path(f"{candidate}.source.json")
        if candidate.is_file() and report_path.is_file() and source_path.is_file():
            report = json.loads(report_path.read_text(encoding="utf-8"))
            old = json.loads(source_path.read_text(encoding="utf-8"))
            if (bool(report.get("passed")) == passed and report.get("quantization") == quantization
                    and old == source and report.get("size_bytes") == candidate.stat().st_size):
                report["path"] = str(candidate)
                return report, True
    try:
        report = export(model, path, quantization, representative_data=representative, verify_data=verify,
                        min_agreement=min_agreement, max_verify_samples=max(1, int(len(verify[1]))),
                        **(options or {})).to_dict()
        target = path
    except ExportError as error:
        target = rejected_path_for(path)
        if not Path(f"{target}.json").is_file():
            raise
        log(f"warning: {error}")
        report = json.loads(Path(f"{target}.json").read_text(encoding="utf-8"))
    atomic_write_json(Path(f"{target}.source.json"), source)
    report["path"] = str(target)
    return report, False


def _first(x):
    return next(iter(x.values())) if isinstance(x, dict) else x


def measure_latency(path, window, runs, warmup):
    """LiteRT latency per window of one .tflite: batch 1, one thread, warm-up excluded (cached)."""
    from kerasseizure.export.litert_runtime import LiteRTClassifier
    from kerasseizure.export.tflite import latency_summary
    from kerasseizure.files import atomic_write_json

    cache = Path(f"{path}.latency.json")
    key = {"sha256": _sha256_file(path), "runs": int(runs), "warmup": int(warmup), "threads": 1, "batch": 1}
    if cache.is_file():
        stored = json.loads(cache.read_text(encoding="utf-8"))
        if stored.get("key") == key:
            return stored["latency"], True
    classifier = LiteRTClassifier(path, num_threads=1, batch_size=1)
    feed = {name: window[name] for name in classifier.input_names} if isinstance(window, dict) else window
    for _ in range(int(warmup)):
        classifier.predict_raw(feed)
    seconds = []
    for _ in range(int(runs)):
        start = time.perf_counter()
        classifier.predict_raw(feed)
        seconds.append(time.perf_counter() - start)
    latency = latency_summary(seconds)
    atomic_write_json(cache, {"key": key, "latency": latency, "cpu": cpu_model(),
                              "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    return latency, False
