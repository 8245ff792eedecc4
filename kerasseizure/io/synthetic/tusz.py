"""`make_tusz_corpus`: a synthetic TUH EEG Seizure Corpus (v2.0.3, v1.5.2 or v1.4.0) on disk.

The plan (`tusz_plan`) fixes patients, files and seizures; this module simulates each file's
signals and channel-level events and writes them through the formats of `tusz_files`, plus the
ground truth under `<root>/_truth/`.
"""

import datetime
import os

import numpy as np
import pandas as pd

from kerasseizure.files import atomic_write_json, atomic_write_text
from kerasseizure.io import simulation as sim
from kerasseizure.io.channels import SCALP_ELECTRODES, pair_names
from kerasseizure.io.synthetic.common import (
    _prepare_out, _resolve, _write_csv, csv_sink, load_truth, writer_fingerprint,
)
from kerasseizure.io.synthetic.tusz_census import plan_tusz_census
from kerasseizure.io.synthetic.tusz_files import (
    _EDF_PHYSICAL, _csv_text, _lbl_text, _merge, _relative_dir, _tcp_pairs, _tile, _tse_text, _write_edf,
)
from kerasseizure.io.synthetic.tusz_plan import _plan_tusz
from kerasseizure.io.synthetic.tusz_sheet import write_spreadsheet

TUSZ_VERSIONS = ("2.0.3", "1.5.2", "1.4.0")

# Median background length (min) of the "full" preset's recordings; see TUSZ_PRESETS.
FULL_MINUTES_PER_FILE = 0.5

# Size presets. "tests": a few MB in a few seconds (unit and round-trip tests); "demo": enough
# seizures to train the pipeline end to end in minutes; "realistic": tens of minutes per file
# (benchmarks of reading, resampling and windowing at the real corpus' file sizes).
TUSZ_PRESETS = {
    "tests": dict(n_patients=16, sessions_per_patient=1, files_per_session=2, minutes_per_file=0.25,
                  seizures_scale=0.06, max_seizure_seconds=20.0),
    "demo": dict(n_patients=24, sessions_per_patient=2, files_per_session=2, minutes_per_file=3.0,
                 seizures_scale=0.4, max_seizure_seconds=120.0),
    "realistic": dict(n_patients=24, sessions_per_patient=1, files_per_session=2, minutes_per_file=20.0,
                      seizures_scale=1.0, max_seizure_seconds=None),
    # The v1.x release's census (tusz_census): published seizures and patients per type, the
    # release's recordings per split; `minutes_per_file` is the median background length, far
    # below the real ~10 min so that the corpus fits ~6 GB (docs/synthetic.md, "Full-size corpora").
    "full": dict(minutes_per_file=FULL_MINUTES_PER_FILE, max_seizure_seconds=None),
}

# Share of sessions per sampling rate and per montage directory (TUSZ v1.5.2 orders of magnitude).
DEFAULT_RATES = {250: 0.5, 256: 0.35, 400: 0.08, 512: 0.07}
DEFAULT_MONTAGES = {"01_tcp_ar": 0.55, "02_tcp_le": 0.3, "03_tcp_ar_a": 0.15}


def _simulate_file(f, seed):
    """Signals and per-channel events of one file: (channels: [(label, dim, values, pmin, pmax)],
    events: [(channel name, start, stop, label)] per TCP channel, truth rows)."""
    rng = np.random.default_rng([seed, 1, f.number])
    fs, n = f.fs, f.duration * f.fs
    suffix = "LE" if f.montage == "02_tcp_le" else "REF"
    eeg = list(f.electrodes)
    extra_electrodes = [e for e in f.extras if e in sim.ELECTRODE_POSITIONS]
    electrodes = eeg + extra_electrodes
    profile = f.patient.profile
    ecg = sim.ecg_trace(rng, n, fs, profile.heart_rate_bpm)
    x = sim.simulate_background(profile, electrodes, n, fs, rng, ecg=ecg)

    pairs = _tcp_pairs(f.montage)
    names = pair_names(pairs)
    channel_events = {name: [] for name in names}
    truth = []
    for s in f.seizures:
        act = sim.simulate_seizure(s.signature, electrodes, s.duration, fs, rng)
        i0 = int(round(s.onset * fs))
        i1 = min(i0 + act.signal.shape[1], n)
        x[:, i0:i1] *= act.background_gain[None, :i1 - i0]
        x[:, i0:i1] += act.signal[:, :i1 - i0]
        threshold = 0.0 if s.kind in sim.GENERALIZED_TYPES else 0.3
        involved, delay = sim.channel_involvement(act, electrodes, pairs, threshold=threshold)
        focus = int(np.argmin(delay + (~involved) * 1e9))
        starts, stops = [], []
        for c, name in enumerate(names):
            if not involved[c]:
                continue
            on = s.onset + delay[c] + rng.uniform(-0.5, 1.0)
            off = s.onset + s.duration + rng.uniform(-1.0, 1.0)
            on, off = round(max(on, 0.0), 4), round(min(off, float(f.duration)), 4)
            if off - on < 0.5 and c != focus:
                continue
            if off - on < 0.5:
                on, off = round(s.onset, 4), round(min(s.onset + s.duration, f.duration), 4)
            channel_events[name].append((on, off, s.kind))
            starts.append(on)
            stops.append(off)
        truth.append(dict(start=min(starts), stop=max(stops), label=s.kind,
                          signal_onset=round(s.onset, 4), signal_offset=round(s.onset + s.duration, 4),
                          n_channels=len(starts), center=s.signature.center,
                          frequency=round(s.signature.frequency, 4),
                          end_frequency=round(s.signature.end_frequency, 4),
                          amplitude_uv=round(s.signature.amplitude_uv, 4)))

    # Referencing: common-average (ar) or linked ears (le), plus reference-electrode drift that
    # every referential channel shares (bipolar montages cancel it, as in real recordings).
    scalp = [i for i, e in enumerate(electrodes) if e in SCALP_ELECTRODES and e not in ("A1", "A2")]
    if f.montage == "02_tcp_le":
        ref = 0.5 * (x[electrodes.index("A1")] + x[electrodes.index("A2")])
    else:
        ref = x[scalp].mean(axis=0)
    common = 40.0 * sim.band_noise(rng, 1, n, fs, 0.0, 0.5, edge=0.3)[0]
    x = x - ref[None, :] + common[None, :]

    channels = [(f"EEG {e}-{suffix}", "uV", x[i], -_EDF_PHYSICAL, _EDF_PHYSICAL) for i, e in enumerate(eeg)]
    if f.shuffled:
        channels = [channels[i] for i in rng.permutation(len(channels))]
    for e in f.extras:
        if e in sim.ELECTRODE_POSITIONS:
            channels.append((f"EEG {e}-{suffix}", "uV", x[electrodes.index(e)], -_EDF_PHYSICAL, _EDF_PHYSICAL))
        elif e == "EKG1":
            amp = rng.uniform(300.0, 1500.0)
            channels.append((f"EEG EKG1-{suffix}", "uV", amp * ecg + 20.0 * sim.band_noise(rng, 1, n, fs, 0.0, 0.5)[0],
                             -_EDF_PHYSICAL, _EDF_PHYSICAL))
        elif e.isdigit():  # unconnected amplifier inputs: noise and mains
            t = np.arange(n) / fs
            values = rng.uniform(2, 6) * rng.standard_normal(n) + rng.uniform(5, 40) * np.sin(2 * np.pi * 60.0 * t)
            channels.append((f"EEG {e}-{suffix}", "uV", values, -_EDF_PHYSICAL, _EDF_PHYSICAL))
        elif e == "PHOTIC":
            values = np.zeros(n)
            if rng.random() < 0.5:  # a photic stimulation train (10 s at 1-20 flashes/s)
                t0, rate = int(rng.integers(0, max(1, n - 10 * fs))), rng.integers(1, 21)
                t = np.arange(10 * fs) / fs
                values[t0:t0 + 10 * fs] = 100.0 * ((t * rate) % 1.0 < 0.1)[: n - t0]
            channels.append((f"PHOTIC-{suffix}", "uV", values, -_EDF_PHYSICAL, _EDF_PHYSICAL))
        else:  # IBI, BURSTS, SUPPR: the acquisition system's burst-suppression trends
            channels.append((e, "", np.zeros(n), -1.0, 1.0))
    return channels, channel_events, truth


def make_tusz_corpus(out_dir, version="2.0.3", n_patients=None, seed=0, size="tests", *,
                     sessions_per_patient=None, files_per_session=None, minutes_per_file=None,
                     seizures_scale=None, max_seizure_seconds=None, min_patients_per_type=2,
                     min_seizures_per_type=6, rates=None, montages=None, mysz=True, missing_recordings=0,
                     overwrite=False):
    """Write a synthetic TUSZ corpus in the on-disk layout of `version`; return its root.

    The files reproduce the quirks of the real release files (docs/synthetic.md lists them).

    Args:
        out_dir: the corpus root to create (`<out_dir>/edf/...`, `<out_dir>/_DOCS/` for v1.x).
        version: "2.0.3" (csv annotations, letter patient ids, train/dev/eval), "1.5.2" or
            "1.4.0" (tse/lbl annotations, seizure spreadsheet, 8-digit ids).
        n_patients: patients in total (v2.0.3 puts ~10% in eval); at least
            7 * min_patients_per_type (+ the eval ones). None: the preset's.
        seed: all randomness derives from it; same arguments -> byte-identical files.
        size: preset "tests" (16 patients, ~30 files of 15-100 s, ~20 MB, a few seconds), "demo"
            (24 patients, 3-minute files) or "realistic" (20-minute files, ~0.9 GB); TUSZ_PRESETS
            lists them. Explicit arguments override it.
        sessions_per_patient, files_per_session: recording structure per patient.
        minutes_per_file: nominal file length (files stretch to hold their seizures).
        seizures_scale: expected seizures per patient relative to TUSZ v1.5.2 (seizures/patients).
        max_seizure_seconds: cap on seizure durations (None: the type's own range).
        min_patients_per_type: benchmark (train + dev) patients guaranteed per seizure type
            (use 3 for the 3-fold patient-wise protocol).
        min_seizures_per_type: benchmark seizures guaranteed per type (the seizure-wise protocol
            runs KFold(5) per type); otherwise class totals follow the v1.5.2 seizure counts.
        rates: {sampling rate: share of sessions}; default DEFAULT_RATES (250/256/400/512 Hz).
        montages: {montage directory: share of sessions}; default DEFAULT_MONTAGES.
        mysz: give one patient a rare myoclonic seizure or two (excluded by the benchmark).
        missing_recordings: v1.x only, a partial copy: this many recordings (at least one with
            seizures) stay listed in the spreadsheet but get no EDF or annotation file;
            `_truth/recordings.csv` and `seizures.csv` mark them in their `missing` column.
        overwrite: replace an existing synthetic corpus at `out_dir`.

    Returns:
        pathlib.Path of the root. The ground truth is in `<root>/_truth/` (see `load_truth`).
    """
    params, rates, montages = _settings(version, size, n_patients, sessions_per_patient, files_per_session,
                                        minutes_per_file, seizures_scale, max_seizure_seconds, rates, montages)
    patients = _plan(version, seed, size, params, min_patients_per_type, min_seizures_per_type, rates, montages,
                     mysz)
    missing = _missing_files(seed, version, patients, missing_recordings)
    root = _prepare_out(out_dir, ("edf", "_DOCS", "_truth"), overwrite)
    truth_dir = root / "_truth"
    with csv_sink(truth_dir / "recordings.csv") as recordings, csv_sink(truth_dir / "seizures.csv") as seizures:
        files, seizure_rows = _write_files(root, version, seed, patients, missing, recordings, seizures)
        counts = dict(n_recordings=len(files), n_seizures=sum(len(rows) for rows in seizure_rows.values()))

    if not version.startswith("2."):
        write_spreadsheet(root, version, files, seizure_rows, np.random.default_rng([seed, 5]))

    _write_csv(truth_dir / "patients.csv", pd.DataFrame([_patient_row(p) for p in patients]))
    atomic_write_json(truth_dir / "corpus.json", dict(
        kind="tusz", version=version, seed=seed, size=size, min_patients_per_type=min_patients_per_type,
        min_seizures_per_type=min_seizures_per_type,
        rates={str(k): v for k, v in rates.items()}, montages=montages, mysz=mysz,
        missing_recordings=missing_recordings, **counts, writer_sha256=writer_fingerprint(), **params))
    return root


def _write_files(root, version, seed, patients, missing, recordings, seizures):
    """Simulate and write every recording, one at a time (memory: one file's signals), streaming
    its truth rows to the `recordings` and `seizures` sinks. Returns what the spreadsheet needs:
    [(plan file, edf path)] and {stem: seizure rows}, a few small objects per recording."""
    files, seizure_rows = [], {}
    for patient in patients:
        for f in patient.files:
            rel = _relative_dir(version, f) / f"{f.stem}.edf"
            channels, channel_events, truth = _simulate_file(f, seed)
            if f.number not in missing:
                _write_recording(root, version, seed, f, rel, channels, channel_events)
            recordings.add(dict(edf_path=rel.as_posix(), patient_id=patient.pid, session=f"s{f.session:03d}",
                                token=f"t{f.token:03d}", split=patient.split, montage_kind=f.montage,
                                fs=f.fs, duration=f.duration, n_samples=f.duration * f.fs,
                                n_eeg_channels=len(f.electrodes), n_channels=len(channels),
                                n_seizures=len(truth), version=version, missing=f.number in missing))
            seizure_rows[f.stem] = sorted(truth, key=lambda r: r["start"])
            for row in seizure_rows[f.stem]:
                seizures.add(dict(patient_id=patient.pid, session=f"s{f.session:03d}", token=f"t{f.token:03d}",
                                  edf_path=rel.as_posix(), split=patient.split, montage_kind=f.montage,
                                  version=version, fs=f.fs, **row, missing=f.number in missing))
            files.append((f, rel))
    return files, seizure_rows


def simulated_seizure_activity(root):
    """Per annotated seizure, where the corpus simulated its activity (the corpus's truth).

    Returns a DataFrame from `<root>/_truth/seizures.csv`: edf_path (absolute, as `TUSZCorpus`
    gives it), start and stop (the annotated event), label, signal_onset and signal_offset (the
    simulated activity, which may start after the annotation and end before it). Raises
    FileNotFoundError where `root` holds no synthetic ground truth (a real corpus).
    """
    seizures = load_truth(root)["seizures"]
    out = seizures[["edf_path", "start", "stop", "label", "signal_onset", "signal_offset"]].copy()
    out["edf_path"] = [os.path.join(os.path.abspath(root), path) for path in out["edf_path"]]  # as TUSZCorpus
    return out.reset_index(drop=True)


def _settings(version, size, n_patients, sessions_per_patient, files_per_session, minutes_per_file,
              seizures_scale, max_seizure_seconds, rates, montages):
    """The preset with its explicit overrides, checked: (params, rates, montages)."""
    if version not in TUSZ_VERSIONS:
        raise ValueError(f"version must be one of {TUSZ_VERSIONS}, got {version!r}")
    if size == "full":
        fixed = dict(n_patients=n_patients, sessions_per_patient=sessions_per_patient,
                     files_per_session=files_per_session, seizures_scale=seizures_scale)
        given = sorted(k for k, v in fixed.items() if v is not None)
        if given or version.startswith("2."):
            raise ValueError("size='full' is the v1.x release's census: TUSZ 1.5.2 or 1.4.0, without "
                             f"{', '.join(given) or 'a v2.x layout'}")
        n_patients = sessions_per_patient = files_per_session = seizures_scale = None
    params = _resolve(TUSZ_PRESETS, size, n_patients=n_patients, sessions_per_patient=sessions_per_patient,
                      files_per_session=files_per_session, minutes_per_file=minutes_per_file,
                      seizures_scale=seizures_scale)
    if max_seizure_seconds is not None:
        params["max_seizure_seconds"] = max_seizure_seconds
    for key in ("n_patients", "sessions_per_patient", "files_per_session") if size != "full" else ():
        if int(params[key]) < 1:
            raise ValueError(f"{key} must be >= 1, got {params[key]}")
    if params["minutes_per_file"] <= 0:
        raise ValueError(f"minutes_per_file must be > 0, got {params['minutes_per_file']}")
    rates = dict(rates or DEFAULT_RATES)
    montages = dict(montages or DEFAULT_MONTAGES)
    unknown = set(montages) - set(DEFAULT_MONTAGES)
    if unknown:
        raise ValueError(f"unknown montage directories {sorted(unknown)}; expected {sorted(DEFAULT_MONTAGES)}")
    return params, rates, montages


def _plan(version, seed, size, params, min_patients_per_type, min_seizures_per_type, rates, montages, mysz):
    if size == "full":
        return plan_tusz_census(np.random.default_rng([seed, 0]), version, float(params["minutes_per_file"]),
                                params["max_seizure_seconds"], rates, montages, mysz)
    return _plan_tusz(np.random.default_rng([seed, 0]), version, int(params["n_patients"]),
                      int(params["sessions_per_patient"]), int(params["files_per_session"]),
                      float(params["minutes_per_file"]), float(params["seizures_scale"]),
                      params["max_seizure_seconds"], int(min_patients_per_type), int(min_seizures_per_type),
                      rates, montages, mysz)


def _missing_files(seed, version, patients, count):
    """Numbers of the files a partial copy lacks: one with seizures, the rest drawn among all."""
    files = [f for p in patients for f in p.files]
    if count and version.startswith("2."):
        raise ValueError("missing_recordings needs a v1.x corpus: v2.x lists no recordings beside the files")
    if not 0 <= count < len(files):
        raise ValueError(f"missing_recordings must be in [0, {len(files)}), got {count}")
    if not count:
        return set()
    rng = np.random.default_rng([seed, 4])
    seized = [f.number for f in files if f.seizures]
    first = seized[rng.integers(len(seized))]
    others = [f.number for f in files if f.number != first]
    return {first, *(int(n) for n in rng.choice(others, size=count - 1, replace=False))}


def _write_recording(root, version, seed, f, rel, channels, channel_events):
    """The EDF file of one recording and its annotation files."""
    hour, minute = divmod(int(np.random.default_rng([seed, 2, f.number]).integers(7 * 60, 18 * 60)), 60)
    _write_edf(root / rel, f, channels, datetime.datetime(f.date.year, f.date.month, f.date.day, hour, minute, 0))
    names = list(channel_events)
    term = _merge([e for name in names for e in channel_events[name]])
    base = root / rel.with_suffix("")
    if version.startswith("2."):
        atomic_write_text(base.with_suffix(".csv"), _csv_text(
            f.stem, f.duration, zip(names, [_tile(channel_events[name], f.duration) for name in names])))
        atomic_write_text(base.with_suffix(".csv_bi"),
                          _csv_text(f.stem, f.duration, [("TERM", _tile(term, f.duration, "seiz"))]))
        return
    atomic_write_text(base.with_suffix(".tse"), _tse_text(_tile(term, f.duration)))
    atomic_write_text(base.with_suffix(".tse_bi"), _tse_text(_tile(term, f.duration, "seiz")))
    atomic_write_text(base.with_suffix(".lbl"), _lbl_text(f, [_tile(channel_events[name], f.duration)
                                                              for name in names]))
    atomic_write_text(base.with_suffix(".lbl_bi"), _lbl_text(f, [_tile(channel_events[name], f.duration, "seiz")
                                                                 for name in names]))


def _patient_row(p):
    row = dict(patient_id=p.pid, split=p.split, primary_type=p.primary, types=" ".join(p.types), sex=p.sex,
               age=p.age, background_uv=round(p.profile.amplitude_uv, 4),
               alpha_frequency=round(p.profile.alpha_frequency, 4), exponent=round(p.profile.exponent, 4))
    for k, s in p.signatures.items():
        row[f"{k}_frequency"] = round(s.frequency, 4)
        row[f"{k}_center"] = s.center
    return row
