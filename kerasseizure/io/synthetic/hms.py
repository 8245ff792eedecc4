"""`make_hms_corpus`: a synthetic Kaggle HMS competition folder, and `hms_spectrogram`, the
Kaggle-style 4-region spectrogram it stores beside each recording.

The layout constants (EEG rate, spectrogram regions and bins) come from `kerasseizure.io.hms`;
the files follow the competition's published layout (docs/hms.md, "HMS files as published").
"""

import dataclasses
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from kerasseizure.files import atomic_path, atomic_write_json
from kerasseizure.io import simulation as sim
from kerasseizure.io.channels import HMS_CHAINS, HMS_EEG_COLUMNS
from kerasseizure.io.hms import HMS_EEG_FS, HMS_SPECTROGRAM_BINS, HMS_SPECTROGRAM_REGIONS
from kerasseizure.io.labels import HMS_CLASSES, HMS_TEST_COLUMNS, HMS_TRAIN_COLUMNS, HMS_VOTE_COLUMNS
from kerasseizure.io.synthetic.common import (
    _prepare_out, _resolve, _write_csv, csv_sink, exact_counts, load_truth, writer_fingerprint,
)

# Size presets, as TUSZ_PRESETS: "tests" (unit and round-trip tests), "demo" (the pipeline end to
# end in minutes), "realistic" (benchmarks at the real corpus' scale).
HMS_PRESETS = {
    "tests": dict(n_eegs=12, n_test=2, eegs_per_spectrogram=(1, 3), spectrograms_per_patient=(1, 1),
                  extra_seconds=(0, 20), sub_rows=(1, 4)),
    "demo": dict(n_eegs=300, n_test=5, eegs_per_spectrogram=(1, 5), spectrograms_per_patient=(1, 3),
                 extra_seconds=(0, 60), sub_rows=(1, 6)),
    "realistic": dict(n_eegs=1000, n_test=20, eegs_per_spectrogram=(1, 8), spectrograms_per_patient=(1, 4),
                      extra_seconds=(0, 300), sub_rows=(1, 12)),
    # The competition's train.csv census: exact totals instead of per-item ranges (HMS_CENSUS).
    "full": dict(n_eegs=17089, n_test=1, census=True, extra_seconds=(0, 10)),
}
# train.csv of the competition: 17,089 eeg_ids, 11,138 spectrogram_ids, 1,950 patients, 106,800
# rows. A "full" corpus with another n_eegs keeps these ratios.
HMS_CENSUS = dict(eeg_ids=17089, spectrograms=11138, patients=1950, rows=106800)

# Kaggle spectrogram bins: k * 200 / 1024 Hz for k = 3..102 (0.59 .. 19.92 Hz), the rfft bins of
# a 1024-sample window at HMS_EEG_FS.
HMS_SPECTROGRAM_FFT_BINS = np.arange(3, 3 + HMS_SPECTROGRAM_BINS)
HMS_SPECTROGRAM_FREQS = HMS_SPECTROGRAM_FFT_BINS * HMS_EEG_FS / 1024.0


def _bin_name(frequency):
    """A Kaggle bin name: 2 decimals rounded half up, trailing zeros dropped ('4.1', '3.13'), as
    in the files; Python's round() would give '3.12' for 3.125 Hz."""
    text = f"{Decimal(float(frequency)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".")


HMS_SPECTROGRAM_COLUMNS = ("time",) + tuple(f"{r}_{_bin_name(f)}" for r in HMS_SPECTROGRAM_REGIONS
                                            for f in HMS_SPECTROGRAM_FREQS)
HMS_CLASS_SHARES = {"Seizure": 0.16, "LPD": 0.14, "GPD": 0.14, "LRDA": 0.12, "GRDA": 0.16, "Other": 0.28}


def hms_spectrogram(eeg, fs=HMS_EEG_FS, n_rows=None):
    """Kaggle-style spectrogram of a recording: (rows, 400) float32 power, one row per 2 s.

    Row r is centred at 2r + 1 s: Hann-windowed 1024-sample periodograms (uV^2/Hz) of the four
    differences of each chain, averaged per chain, bins 3..102 (0.59-19.92 Hz); regions in the
    parquet order LL, RL, LP, RP. `eeg`: [time, 19+] in HMS_EEG_COLUMNS order (no NaNs).
    """
    index = {name: i for i, name in enumerate(HMS_EEG_COLUMNS)}
    n = eeg.shape[0]
    n_rows = n // (2 * fs) if n_rows is None else n_rows
    centers = (np.arange(n_rows) * 2 + 1) * fs
    window = np.hanning(1024)
    scale = 2.0 / (fs * (window ** 2).sum())
    out = []
    for region in HMS_SPECTROGRAM_REGIONS:
        power = np.zeros((n_rows, HMS_SPECTROGRAM_FFT_BINS.size))
        for a, b in HMS_CHAINS[region]:
            diff = np.pad(eeg[:, index[a]] - eeg[:, index[b]], (512, 512))
            frames = np.lib.stride_tricks.sliding_window_view(diff, 1024)[centers]
            spec = np.fft.rfft(frames * window, axis=1)[:, HMS_SPECTROGRAM_FFT_BINS]
            power += scale * np.abs(spec) ** 2
        out.append(power / 4.0)
    return np.concatenate(out, axis=1).astype(np.float32)


@dataclasses.dataclass
class _HMSRecording:
    spectrogram_id: int
    patient_id: int
    duration: int                          # s
    segments: list                         # (start s, stop s, kind, second, mix)
    eegs: list = dataclasses.field(default_factory=list)
    test: bool = False
    number: int = 0


def _draw_case(rng, high_fraction, kind=None):
    """(kind, second kind or None, mix, n_votes) of one labelled segment."""
    names = list(HMS_CLASS_SHARES)
    p = np.array([HMS_CLASS_SHARES[k] for k in names])
    kind = kind or names[rng.choice(len(names), p=p / p.sum())]
    n_votes = sim.draw_vote_count(rng, high_fraction)
    # Experts' rows (>= 10 votes) hold the harder cases more often, as on Kaggle.
    ambiguous = rng.random() < (0.5 if n_votes >= 10 else 0.3)
    if ambiguous:
        options = sim.PATTERN_CONFUSIONS[kind]
        second = options[rng.integers(len(options))]
        return kind, second, float(rng.uniform(0.45, 0.8)), n_votes
    return kind, None, 1.0, n_votes


def _hms_signal(rec, profile, signatures, seed):
    """[time, 20] float32 recording (HMS_EEG_COLUMNS order, EKG last) with its patterns."""
    rng = np.random.default_rng([seed, 11, rec.number])
    n = rec.duration * HMS_EEG_FS
    electrodes = [c.upper() for c in HMS_EEG_COLUMNS[:-1]]
    ecg = sim.ecg_trace(rng, n, HMS_EEG_FS, profile.heart_rate_bpm)
    x = sim.simulate_background(profile, electrodes, n, HMS_EEG_FS, rng, ecg=ecg)
    t = np.arange(n) / HMS_EEG_FS
    for start, stop, kind, second, mix in rec.segments:
        i0, i1 = int(start * HMS_EEG_FS), int(stop * HMS_EEG_FS)
        ramp = np.clip(np.minimum(t[i0:i1] - start, stop - t[i0:i1]) / 5.0, 0.0, 1.0)
        for k, strength in ((kind, mix), (second, 1.0 - mix)):
            if k is None or strength <= 0:
                continue
            activity = sim.simulate_pattern(signatures[k], electrodes, i1 - i0, HMS_EEG_FS, rng, strength)
            x[:, i0:i1] += ramp[None, :] * activity
    # Large common-mode drift (reference electrode): raw channel std ~ 800-1100 as on Kaggle, gone
    # from any bipolar difference.
    common = rng.uniform(800.0, 1050.0) * sim.band_noise(rng, 1, n, HMS_EEG_FS, 0.1, 0.5, edge=0.08)[0]
    x = x + common[None, :] + rng.normal(0.0, 30.0, size=(x.shape[0], 1))
    ekg = rng.uniform(15000.0, 40000.0) * ecg + 300.0 * sim.band_noise(rng, 1, n, HMS_EEG_FS, 0.05, 0.5, edge=0.05)[0]
    return np.vstack([x, ekg[None, :]]).T.astype(np.float32)


def _write_parquet(path, frame):
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False, engine="pyarrow")


def _draw_patient(rng):
    profile = sim.draw_background_profile(rng, "icu")
    side = ("left", "right")[rng.integers(2)]   # lateralized patterns share the lesion side
    signatures = {k: sim.draw_pattern_signature(k, rng, side) for k in HMS_CLASSES}
    return dict(pid=None, profile=profile, signatures=signatures)


def _ranged_plan(rng, n_eegs, per_spec, spectrograms_per_patient):
    """Patients and recordings drawn from per-item ranges until `n_eegs` eeg_ids are placed."""
    patients, recordings = [], []
    eeg_budget = n_eegs
    while eeg_budget > 0:
        patient = _draw_patient(rng)
        for _ in range(int(rng.integers(spectrograms_per_patient[0], spectrograms_per_patient[1] + 1))):
            if eeg_budget <= 0:
                break
            k = min(int(rng.integers(per_spec[0], per_spec[1] + 1)), eeg_budget)
            eeg_budget -= k
            recordings.append(dict(patient=len(patients), k=k, test=False))
        patients.append(patient)
    return patients, recordings


def _census_totals(n_eegs):
    """{eeg_ids, spectrograms, patients, rows} of a corpus with the competition's ratios."""
    scale = n_eegs / HMS_CENSUS["eeg_ids"]
    totals = {k: max(1, int(round(v * scale))) for k, v in HMS_CENSUS.items()}
    totals["eeg_ids"] = n_eegs
    totals["spectrograms"] = min(totals["spectrograms"], n_eegs)
    totals["patients"] = min(totals["patients"], totals["spectrograms"])
    totals["rows"] = max(totals["rows"], n_eegs)
    return totals


def _census_plan(rng, census):
    """Patients, recordings and rows per eeg_id meeting the census totals exactly, each count
    heavy-tailed as on Kaggle (a few patients with dozens of recordings, a few eeg_ids with
    dozens of rows)."""
    per_patient = exact_counts(rng, census["spectrograms"], census["patients"], sigma=1.0)
    per_spectrogram = iter(exact_counts(rng, census["eeg_ids"], census["spectrograms"], sigma=0.8))
    rows_per_eeg = iter(exact_counts(rng, census["rows"], census["eeg_ids"], sigma=1.0))
    patients, recordings = [], []
    for count in per_patient:
        recordings += [dict(patient=len(patients), k=next(per_spectrogram), test=False) for _ in range(count)]
        patients.append(_draw_patient(rng))
    return patients, recordings, rows_per_eeg


def make_hms_corpus(out_dir, n_eegs=None, seed=0, size="tests", *, n_test=None, eegs_per_spectrogram=None,
                    spectrograms_per_patient=None, extra_seconds=None, sub_rows=None,
                    high_vote_fraction=0.25, nan_fraction=0.1, overwrite=False):
    """Write a synthetic HMS competition folder; return its root.

    Args:
        out_dir: root to create (train.csv, train_eegs/, train_spectrograms/, test.csv,
            test_eegs/, test_spectrograms/, sample_submission.csv, _truth/).
        n_eegs: labelled EEG files (train.csv eeg_ids). None: the preset's.
        seed: all randomness derives from it; same arguments -> byte-identical files.
        size: preset "tests" (12 eeg_ids, ~25 MB, a few seconds), "demo" (300) or "realistic" (1000);
            HMS_PRESETS lists them. Explicit arguments override it.
        n_test: test EEGs (exactly 50 s, 10-minute spectrograms).
        eegs_per_spectrogram: (min, max) eeg_ids cut from one long recording (one spectrogram_id).
        spectrograms_per_patient: (min, max) recordings per patient.
            size="full" replaces eegs_per_spectrogram, spectrograms_per_patient and sub_rows by
            the competition's exact totals (HMS_CENSUS, scaled when n_eegs differs).
        extra_seconds: (min, max) seconds beyond 50 of each EEG file (room for label offsets).
        sub_rows: (min, max) train.csv rows per eeg_id (label offsets within the file, same votes).
        high_vote_fraction: share of eeg_ids voted by 10-28 experts (the rest by 1-7).
        nan_fraction: share of EEG and spectrogram files with NaN runs (at least one of each, and one
            EEG file with a dead lead).
        overwrite: replace an existing synthetic corpus at `out_dir`.

    Returns:
        pathlib.Path of the root; the ground truth is in `<root>/_truth/` (see `load_truth`).
    """
    params = _resolve(HMS_PRESETS, size, n_eegs=n_eegs, n_test=n_test, eegs_per_spectrogram=eegs_per_spectrogram,
                      extra_seconds=extra_seconds, sub_rows=sub_rows, spectrograms_per_patient=spectrograms_per_patient)
    n_eegs, n_test = int(params["n_eegs"]), int(params["n_test"])
    census = _census_totals(n_eegs) if params.get("census") else None
    if census and any(params.get(k) is not None for k in ("eegs_per_spectrogram", "spectrograms_per_patient",
                                                         "sub_rows")):
        raise ValueError("size='full' sets eegs_per_spectrogram, spectrograms_per_patient and sub_rows "
                         "from the competition's totals")
    spectrograms_per_patient = params.get("spectrograms_per_patient")
    per_spec, extra, subs = params.get("eegs_per_spectrogram"), params["extra_seconds"], params.get("sub_rows")
    if n_eegs < 1 or n_test < 0:
        raise ValueError(f"need n_eegs >= 1 and n_test >= 0, got {n_eegs}, {n_test}")
    ranges = (("extra_seconds", extra),) if census else (
        ("eegs_per_spectrogram", per_spec), ("spectrograms_per_patient", spectrograms_per_patient),
        ("extra_seconds", extra), ("sub_rows", subs))
    for name, (lo, hi) in ranges:
        if not 0 <= lo <= hi:
            raise ValueError(f"{name} must be (min, max) with 0 <= min <= max, got {(lo, hi)}")
    if not census and (per_spec[0] < 1 or subs[0] < 1 or spectrograms_per_patient[0] < 1):
        raise ValueError("eegs_per_spectrogram, spectrograms_per_patient and sub_rows need min >= 1")
    root = _prepare_out(out_dir, ("train.csv", "test.csv", "sample_submission.csv", "train_eegs",
                                  "train_spectrograms", "test_eegs", "test_spectrograms", "_truth"), overwrite)
    rng = np.random.default_rng([seed, 10])

    # Plan: patients -> recordings (spectrogram_ids) -> eeg_ids -> label rows.
    if census:
        patients, recordings, rows_per_eeg = _census_plan(rng, census)
    else:
        (patients, recordings), rows_per_eeg = _ranged_plan(rng, n_eegs, per_spec, spectrograms_per_patient), None
    for _ in range(n_test):
        recordings.append(dict(patient=len(patients), k=1, test=True))
        patients.append(dict(pid=None, profile=sim.draw_background_profile(rng, "icu"),
                             signatures={k: sim.draw_pattern_signature(k, rng) for k in HMS_CLASSES}))
    for p, pid in zip(patients, rng.choice(np.arange(10000, 66000), size=len(patients), replace=False)):
        p["pid"] = int(pid)
    spec_ids = 1000 + rng.choice(2_147_000_000, size=len(recordings), replace=False)
    eeg_ids = iter(1_000_000 + rng.choice(4_293_000_000, size=n_eegs + n_test, replace=False))
    n_label_ids = census["rows"] if census else n_eegs * subs[1]
    label_ids = iter(1000 + rng.choice(4_293_000_000, size=n_label_ids, replace=False))

    test_rows, test_truth = [], []   # n_test rows, few
    truth_dir = root / "_truth"
    # Rows stream to disk as they come (memory: one recording's signals, whatever n_eegs).
    with csv_sink(root / "train.csv", HMS_TRAIN_COLUMNS) as train_rows, \
            csv_sink(truth_dir / "eegs.csv") as eeg_truth, csv_sink(truth_dir / "recordings.csv") as rec_truth:
        pattern_names = list(HMS_CLASS_SHARES)
        for number, plan in enumerate(recordings):
            patient = patients[plan["patient"]]
            eegs = []
            if plan["test"]:
                duration = 600
                case = _draw_case(rng, 1.0)
                eegs.append(dict(start=275, length=50, offsets=[0], case=case))
                segments = [(255.0, 345.0, case[0], case[1], case[2])]
            else:
                # Label centres must sit >= 300 s from both ends (the 600 s spectrogram window), so a
                # recording is 600 s plus one slot per eeg_id.
                slots = []
                for _ in range(plan["k"]):
                    n_sub = next(rows_per_eeg) if census else int(rng.integers(subs[0], subs[1] + 1))
                    length = 50 + max(2 * (n_sub - 1), int(rng.integers(extra[0], extra[1] + 1)))
                    slots.append((n_sub, length))
                slot_len = [length + int(rng.integers(10, 60)) for _, length in slots]  # >= 10 s apart
                duration = 600 + sum(slot_len)
                duration += duration % 2
                segments, t = [], 275.0
                for (n_sub, length), span in zip(slots, slot_len):
                    start = int(t + rng.integers(5, span - length - 4))
                    offsets = sorted(rng.choice(np.arange(0, length - 49, 2), size=n_sub, replace=False).tolist())
                    case = _draw_case(rng, high_vote_fraction)
                    eegs.append(dict(start=start, length=length, offsets=offsets, case=case))
                    # The pattern ramps up over the 5 s before the file and down over the 5 s after.
                    segments.append((start - 5.0, start + length + 5.0, case[0], case[1], case[2]))
                    t += span
                # Unlabelled context before and after: whatever the patient shows, or background.
                for lo, hi in ((0.0, segments[0][0]), (segments[-1][1], float(duration))):
                    if hi - lo > 30 and rng.random() < 0.6:
                        kind = pattern_names[rng.integers(len(pattern_names))]
                        segments.append((lo + 5.0, hi - 5.0, kind, None, float(rng.uniform(0.4, 1.0))))
            rec = _HMSRecording(int(spec_ids[number]), patient["pid"], duration, segments, eegs, plan["test"], number)
            data = _hms_signal(rec, patient["profile"], patient["signatures"], seed)
            spec = hms_spectrogram(data[:, :-1], n_rows=duration // 2)
            nan_rng = np.random.default_rng([seed, 12, number])
            spec_has_nan = number == 0 or nan_rng.random() < nan_fraction
            if spec_has_nan:  # runs of empty rows, as where the Kaggle spectrograms lost signal
                for _ in range(int(nan_rng.integers(1, 3))):
                    r0 = int(nan_rng.integers(0, spec.shape[0] - 5))
                    spec[r0:r0 + int(nan_rng.integers(1, 6))] = np.nan
            frame = pd.DataFrame(spec, columns=list(HMS_SPECTROGRAM_COLUMNS[1:]))
            frame.insert(0, "time", np.arange(spec.shape[0], dtype=np.int64) * 2 + 1)  # int64, as in the files
            split = "test" if rec.test else "train"
            _write_parquet(root / f"{split}_spectrograms" / f"{rec.spectrogram_id}.parquet", frame)
            rec_truth.add(dict(spectrogram_id=rec.spectrogram_id, patient_id=rec.patient_id, split=split,
                               duration=duration, n_eegs=len(eegs), spectrogram_nan=spec_has_nan,
                               segments=";".join(f"{a:.0f}-{b:.0f}:{k}" + (f"+{s}" if s else "")
                                                 for a, b, k, s, _ in sorted(rec.segments))))

            spec_sub = 0
            for e in eegs:
                eeg_id = int(next(eeg_ids))
                kind, second, mix, n_votes = e["case"]
                chunk = data[e["start"] * HMS_EEG_FS:(e["start"] + e["length"]) * HMS_EEG_FS].copy()
                has_nan = (not rec.test) and (eeg_truth.count == 0 or nan_rng.random() < nan_fraction)
                if has_nan:  # drop-outs: all channels NaN for 1-10 s, sometimes (always in the first) a dead lead
                    r0 = int(nan_rng.integers(0, chunk.shape[0] - 10 * HMS_EEG_FS))
                    chunk[r0:r0 + int(nan_rng.uniform(1, 10) * HMS_EEG_FS)] = np.nan
                    if nan_rng.random() < 0.3 or eeg_truth.count == 0:
                        chunk[:, int(nan_rng.integers(0, 19))] = np.nan
                folder = "test_eegs" if rec.test else "train_eegs"
                _write_parquet(root / folder / f"{eeg_id}.parquet", pd.DataFrame(chunk, columns=list(HMS_EEG_COLUMNS)))
                votes = sim.annotator_votes(rng, kind, n_votes, second, mix, noise=sim.annotator_noise(n_votes))
                consensus = HMS_CLASSES[int(np.argmax(votes))]
                truth = dict(eeg_id=eeg_id, spectrogram_id=rec.spectrogram_id, patient_id=rec.patient_id,
                             pattern=kind, second_pattern=second or "", mix=round(mix, 4),
                             start_in_recording=e["start"], length=e["length"], n_votes=int(n_votes),
                             eeg_nan=has_nan, side=patients[plan["patient"]]["signatures"][kind].side,
                             **{c: int(v) for c, v in zip(HMS_VOTE_COLUMNS, votes)})
                truth_columns = list(truth)
                if rec.test:
                    test_rows.append(dict(spectrogram_id=rec.spectrogram_id, eeg_id=eeg_id, patient_id=rec.patient_id))
                    test_truth.append(truth)
                    continue
                eeg_truth.add(truth)
                for sub, offset in enumerate(e["offsets"]):
                    train_rows.add(dict(
                        eeg_id=eeg_id, eeg_sub_id=sub, eeg_label_offset_seconds=float(offset),
                        spectrogram_id=rec.spectrogram_id, spectrogram_sub_id=spec_sub,
                        spectrogram_label_offset_seconds=float(e["start"] + offset + 25 - 300),
                        label_id=int(next(label_ids)), patient_id=rec.patient_id, expert_consensus=consensus,
                        **{c: int(v) for c, v in zip(HMS_VOTE_COLUMNS, votes)}))
                    spec_sub += 1

    _write_csv(root / "test.csv", pd.DataFrame(test_rows, columns=list(HMS_TEST_COLUMNS)))
    submission = pd.DataFrame({"eeg_id": [r["eeg_id"] for r in test_rows]})
    for c in HMS_VOTE_COLUMNS:
        submission[c] = 1.0 / len(HMS_VOTE_COLUMNS)
    _write_csv(root / "sample_submission.csv", submission)
    _write_csv(truth_dir / "test_labels.csv", pd.DataFrame(test_truth, columns=truth_columns))
    atomic_write_json(truth_dir / "corpus.json", dict(
        kind="hms", seed=seed, size=size, n_eegs=n_eegs, n_test=n_test, eegs_per_spectrogram=_listed(per_spec),
        spectrograms_per_patient=_listed(spectrograms_per_patient), extra_seconds=list(extra), sub_rows=_listed(subs),
        high_vote_fraction=high_vote_fraction, nan_fraction=nan_fraction, n_patients=len(patients),
        n_spectrograms=len(recordings), n_train_rows=train_rows.count, writer_sha256=writer_fingerprint(),
        **({"census": census} if census else {})))
    return root


def generating_vote_distributions(root):
    """Per training eeg_id, the vote distribution its votes were drawn from (the corpus's truth).

    Computed from `<root>/_truth/eegs.csv` (pattern, second pattern, mix, number of votes) with
    the writer's vote model (`simulation.vote_distribution`, `simulation.annotator_noise`).
    Returns a DataFrame: eeg_id, then one column per class in HMS_CLASSES order. Raises
    FileNotFoundError where `root` holds no synthetic ground truth (a real corpus).
    """
    eegs = load_truth(root)["eegs"]
    seconds = eegs["second_pattern"].fillna("")  # "" (no second pattern) reads back as NaN
    probabilities = [sim.vote_distribution(kind, second or None, float(mix), sim.annotator_noise(int(n_votes)))
                     for kind, second, mix, n_votes in zip(eegs["pattern"], seconds, eegs["mix"], eegs["n_votes"])]
    out = pd.DataFrame(np.reshape(probabilities, (-1, len(HMS_CLASSES))), columns=list(HMS_CLASSES))
    out.insert(0, "eeg_id", eegs["eeg_id"].to_numpy(np.int64))
    return out


def _listed(pair):
    return None if pair is None else list(pair)
