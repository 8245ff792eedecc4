"""Synthetic TUSZ and HMS corpora written in the real on-disk layouts.

`make_tusz_corpus` writes a TUH EEG Seizure Corpus tree (v1.4.0, v1.5.2 or v2.0.3: EDF files,
.tse/.tse_bi/.lbl/.lbl_bi or .csv/.csv_bi annotations, the v1.x seizure spreadsheet);
`make_hms_corpus` writes the Kaggle HMS layout (train.csv, train_eegs/, train_spectrograms/,
test.csv, test_eegs/, test_spectrograms/, sample_submission.csv). The signals come from
`kerasseizure.io.simulation`. Both are deterministic: the same arguments give byte-identical files.

The ground truth (what the readers should recover) goes to `<root>/_truth/`, outside the trees the
readers index; `load_truth(root)` returns it as DataFrames. See docs/synthetic.md.
"""

import dataclasses
import datetime
import io as _io
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from kerasseizure.files import atomic_path, atomic_write_json, atomic_write_text
from kerasseizure.io import simulation as sim
from kerasseizure.io.channels import HMS_CHAINS, HMS_EEG_COLUMNS, SCALP_ELECTRODES, TCP20, TCP22, pair_names
from kerasseizure.io.labels import (
    HMS_CLASSES, HMS_TEST_COLUMNS, HMS_TRAIN_COLUMNS, HMS_VOTE_COLUMNS, PATIENT_WISE_TYPE_ORDER,
    SEIZURE_TYPES, TUSZ_COUNTS,
)

TUSZ_VERSIONS = ("2.0.3", "1.5.2", "1.4.0")

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
}
HMS_PRESETS = {
    "tests": dict(n_eegs=12, n_test=2, eegs_per_spectrogram=(1, 3), spectrograms_per_patient=(1, 1),
                  extra_seconds=(0, 20), sub_rows=(1, 4)),
    "demo": dict(n_eegs=300, n_test=5, eegs_per_spectrogram=(1, 5), spectrograms_per_patient=(1, 3),
                 extra_seconds=(0, 60), sub_rows=(1, 6)),
    "realistic": dict(n_eegs=1000, n_test=20, eegs_per_spectrogram=(1, 8), spectrograms_per_patient=(1, 4),
                      extra_seconds=(0, 300), sub_rows=(1, 12)),
}

# Share of sessions per sampling rate and per montage directory (TUSZ v1.5.2 orders of magnitude).
DEFAULT_RATES = {250: 0.5, 256: 0.35, 400: 0.08, 512: 0.07}
DEFAULT_MONTAGES = {"01_tcp_ar": 0.55, "02_tcp_le": 0.3, "03_tcp_ar_a": 0.15}

# .lbl symbol table of TUSZ v1.x (index = position in the one-hot probability vector).
LBL_SYMBOLS = (
    "(null)", "spsw", "gped", "pled", "eybl", "artf", "bckg", "seiz", "fnsz", "gnsz", "spsz", "cpsz",
    "absz", "tnsz", "cnsz", "tcsz", "atsz", "mysz", "nesz", "intr", "slow", "eyem", "chew", "shiv",
    "musc", "elpp", "elst", "calb", "hphs", "trip", "elec",
)

_EDF_PHYSICAL = 4999.84   # uV, the range of most TUH EDF files (16-bit, ~0.15 uV resolution)
_DIGITAL = 32767
_FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)
_SPREADSHEET_HEADER = ("No.", "File No.", "Patient", "Session", "File", "EEG Type", "EEG SubType",
                       "LTM -or- Routine", "Gender", "Age", "Location", "Filename", "Seizure Time",
                       None, "Seizure Type")


def _resolve(preset_table, size, **overrides):
    if size not in preset_table:
        raise ValueError(f"size must be one of {sorted(preset_table)}, got {size!r}")
    params = dict(preset_table[size])
    params.update({k: v for k, v in overrides.items() if v is not None})
    return params


def _prepare_out(out_dir, generated, overwrite):
    root = Path(out_dir)
    existing = [root / name for name in generated if (root / name).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{root}: already holds {', '.join(p.name for p in existing)}; "
                              "pass overwrite=True to replace the synthetic corpus")
    for path in existing:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    root.mkdir(parents=True, exist_ok=True)
    return root


def _stratified(rng, weights, count):
    """`count` draws whose frequencies follow `weights` as closely as possible (largest remainder,
    every option at least once when count allows), shuffled: small corpora still see every rate."""
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    p /= p.sum()
    quota = np.floor(p * count).astype(int)
    if count >= len(keys):
        quota = np.maximum(quota, 1)
    while quota.sum() > count:
        quota[np.argmax(quota)] -= 1
    order = np.argsort(-(p * count - np.floor(p * count)), kind="stable")
    i = 0
    while quota.sum() < count:
        quota[order[i % len(keys)]] += 1
        i += 1
    draws = [k for k, q in zip(keys, quota) for _ in range(q)]
    return [draws[i] for i in rng.permutation(len(draws))]


# ============================================================================ TUSZ

@dataclasses.dataclass
class _Seizure:
    kind: str
    onset: float            # reference onset at the focus (s from file start)
    duration: float
    signature: sim.SeizureSignature


@dataclasses.dataclass
class _File:
    patient: "_Patient"
    session: int            # session number (sNNN)
    date: datetime.date
    montage: str
    fs: int
    token: int
    duration: int = 0
    seizures: list = dataclasses.field(default_factory=list)
    extras: tuple = ()
    shuffled: bool = False
    number: int = 0         # position in the corpus (seeds the file's own random stream)

    @property
    def stem(self):
        return f"{self.patient.pid}_s{self.session:03d}_t{self.token:03d}"


@dataclasses.dataclass
class _Patient:
    pid: str
    split: str
    primary: str
    types: list
    sex: str
    age: int
    profile: sim.BackgroundProfile
    signatures: dict
    counts: dict
    files: list = dataclasses.field(default_factory=list)


def _letters_id(number):
    """8 lower-case letters, as the v2.x anonymised patient ids (aaaaaaac, aaaaaajy, ...)."""
    chars = []
    for _ in range(8):
        number, r = divmod(number, 26)
        chars.append(chr(ord("a") + r))
    return "".join(reversed(chars))


def _plan_tusz(rng, version, n_patients, sessions_per_patient, files_per_session, minutes_per_file,
               seizures_scale, max_seizure_seconds, min_patients_per_type, min_seizures_per_type, rates,
               montages, mysz):
    counts = TUSZ_COUNTS["1.4.0" if version == "1.4.0" else "1.5.2"]
    types = list(SEIZURE_TYPES)
    n_eval = max(1, round(0.1 * n_patients)) if version.startswith("2.") else 0
    n_bench = n_patients - n_eval
    needed = len(types) * min_patients_per_type
    if n_bench < needed:
        raise ValueError(f"n_patients={n_patients} is too small: {needed} patients are needed for "
                         f"{min_patients_per_type} per seizure type" + (" plus the eval split" if n_eval else ""))
    share = np.array([counts[t][1] for t in types], dtype=float)
    share /= share.sum()
    primaries = [t for t in types for _ in range(min_patients_per_type)]
    primaries += list(rng.choice(types, size=n_bench - needed, p=share))
    primaries += list(rng.choice(types, size=n_eval, p=share))
    splits = ["eval" if i >= n_bench else None for i in range(n_patients)]
    # Dev: every 4th benchmark patient, walking through them grouped by type (stratified ~25%).
    dev_name = "dev_test" if version == "1.4.0" else "dev"
    grouped = sorted(rng.permutation(n_bench), key=lambda i: types.index(primaries[i]))
    offset = int(rng.integers(4))
    for c, i in enumerate(grouped):
        splits[i] = dev_name if (c + offset) % 4 == 3 else "train"

    if version.startswith("2."):
        ids = [_letters_id(int(n)) for n in np.sort(rng.choice(26 ** 4, size=n_patients, replace=False))]
    else:
        ids = [f"{int(n):08d}" for n in np.sort(rng.choice(np.arange(1, 13000), size=n_patients, replace=False))]
    order = rng.permutation(n_patients)  # ids are sorted; decouple them from the type allocation

    # Seizures per patient of each type such that the corpus' class totals follow the published
    # seizure counts even though small corpora over-represent the rare types' patients:
    # scale * S_t * N / (P_total * n_t); equals scale * S_t / P_t when patients are proportional.
    n_type = {t: primaries.count(t) for t in types}
    p_total = sum(c[1] for c in counts.values())
    ratio = {t: counts[t][0] * n_patients / (p_total * n_type[t]) for t in types}
    rank = {t: i for i, t in enumerate(PATIENT_WISE_TYPE_ORDER)}
    patients = []
    for j in range(n_patients):
        primary = primaries[j]
        kinds = [primary]
        # A second, more frequent type (never a rarer one, so the patient-wise protocol still
        # assigns the patient to its primary type).
        later = [t for t in types if rank[t] > rank[primary]]
        if later and rng.random() < 0.25:
            p = np.array([counts[t][1] for t in later], dtype=float)
            kinds.append(later[rng.choice(len(later), p=p / p.sum())])
        profile = sim.draw_background_profile(rng, "outpatient")
        # One focus per patient: its focal types share the region (a patient's epileptogenic zone).
        focus = sim.draw_seizure_signature("fnsz", rng).center
        signatures = {k: sim.draw_seizure_signature(k, rng, center=focus if k in ("fnsz", "cpsz", "spsz") else None)
                      for k in kinds}
        n_seiz = {}
        for k in kinds:
            expected = ratio[k] * seizures_scale * rng.lognormal(0.0, 0.5)
            n_seiz[k] = max(1, int(round(expected if k == primary else 0.5 * expected)))
        patients.append(_Patient(pid=ids[order[j]], split=splits[j], primary=primary, types=kinds,
                                 sex=("M", "F")[rng.integers(2)], age=int(rng.integers(2, 90)),
                                 profile=profile, signatures=signatures, counts=n_seiz))
    # The seizure-wise protocol runs KFold(5) per type: keep every type above that in train + dev.
    for kind in types:
        holders = [p for p in patients if kind in p.counts and p.split != "eval"]
        deficit = min_seizures_per_type - sum(p.counts[kind] for p in holders)
        for i in range(max(deficit, 0)):
            holders[i % len(holders)].counts[kind] += 1
    if mysz and n_patients >= 8:
        # MYSZ is rare (3 seizures in v1.5.2): one generalized-epilepsy patient gets one or two.
        hosts = [p for p in patients if p.primary in ("gnsz", "absz") and p.split != "eval"] or \
                [p for p in patients if p.split != "eval"]
        host = hosts[rng.integers(len(hosts))]
        host.types.append("mysz")
        host.signatures["mysz"] = sim.draw_seizure_signature("mysz", rng)
        host.counts["mysz"] = int(rng.integers(1, 3))
    patients.sort(key=lambda p: p.pid)

    n_sessions = n_patients * sessions_per_patient
    session_rates = iter(_stratified(rng, rates, n_sessions))
    session_montages = iter(_stratified(rng, montages, n_sessions))
    extras_pool = ("EKG1", "ROC", "LOC", "T1", "T2", "26", "27", "28", "29", "30", "PHOTIC", "IBI", "BURSTS", "SUPPR")
    forced_free = False
    number = 0
    for patient in patients:
        date = datetime.date(int(rng.integers(2002, 2016)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
        session = 0
        for _ in range(sessions_per_patient):
            session += int(rng.integers(1, 3))
            montage, fs = next(session_montages), int(next(session_rates))
            picks = rng.random(len(extras_pool)) < 0.5
            picks[0] = picks[0] or rng.random() < 0.6   # most recordings carry an EKG lead
            extras = tuple(e for e, keep in zip(extras_pool, picks) if keep)
            shuffled = bool(rng.random() < 0.2)
            for token in range(files_per_session):
                patient.files.append(_File(patient, session, date, montage, fs, token, extras=extras,
                                           shuffled=shuffled, number=number))
                number += 1
            date += datetime.timedelta(days=int(rng.integers(1, 400)))

        # Seizures to files; some files stay seizure-free (at least one in the corpus).
        seizures = [k for k in patient.types for _ in range(patient.counts[k])]
        seizures = [seizures[i] for i in rng.permutation(len(seizures))]
        holders = patient.files
        if len(patient.files) >= 2 and (not forced_free or rng.random() < 0.35):
            holders = patient.files[:-1]
            forced_free = True
        for kind in seizures:
            f = holders[rng.integers(len(holders))]
            sig = sim.jitter_signature(patient.signatures[kind], rng)
            f.seizures.append(_Seizure(kind, 0.0, sim.draw_seizure_duration(sig, rng, max_seizure_seconds), sig))

        for f in patient.files:
            gap = 8.0
            total = sum(s.duration for s in f.seizures)
            nominal = minutes_per_file * 60.0 * rng.uniform(0.85, 1.15)
            f.duration = int(np.ceil(max(nominal, total + gap * (len(f.seizures) + 1))))
            free = f.duration - total - gap * (len(f.seizures) + 1)
            gaps = gap + free * rng.dirichlet(np.ones(len(f.seizures) + 1))
            t = 0.0
            for s, g in zip(f.seizures, gaps):
                t += g
                s.onset = t
                t += s.duration
    return patients


def _eeg_electrodes(montage):
    return tuple(e for e in SCALP_ELECTRODES if montage != "03_tcp_ar_a" or e not in ("A1", "A2"))


def _tcp_pairs(montage):
    return TCP20 if montage == "03_tcp_ar_a" else TCP22


def _simulate_file(f, seed):
    """Signals and per-channel events of one file: (channels: [(label, dim, values, pmin, pmax)],
    events: [(channel name, start, stop, label)] per TCP channel, truth rows)."""
    rng = np.random.default_rng([seed, 1, f.number])
    fs, n = f.fs, f.duration * f.fs
    suffix = "LE" if f.montage == "02_tcp_le" else "REF"
    eeg = list(_eeg_electrodes(f.montage))
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
        involved, delay = sim.channel_involvement(act, electrodes, pairs)
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


def _write_edf(path, f, channels, start):
    import pyedflib  # deferred: pyedflib is only needed to write or read EDF

    headers = [dict(label=label, dimension=dim, sample_frequency=f.fs, physical_min=pmin,
                    physical_max=pmax, digital_min=-_DIGITAL, digital_max=_DIGITAL, transducer="",
                    prefilter="") for label, dim, _, pmin, pmax in channels]
    data = []
    for label, _, values, pmin, pmax in channels:
        v = np.clip(values, pmin, pmax)
        data.append(np.round((v - pmin) / (pmax - pmin) * (2 * _DIGITAL) - _DIGITAL).astype(np.int32))
    with atomic_path(path) as tmp:
        writer = pyedflib.EdfWriter(str(tmp), len(channels), file_type=pyedflib.FILETYPE_EDF)
        try:
            writer.setSignalHeaders(headers)
            writer.setStartdatetime(start)
            writer.setPatientCode(f.patient.pid)
            writer.setSex(f.patient.sex == "M")
            writer.setPatientName("synthetic")
            writer.setEquipment("kerasseizure")
            writer.writeSamples(data, digital=True)
        finally:
            writer.close()


def _tile(events, duration, seiz_label=None):
    """Events [(start, stop, label)] tiled with bckg over [0, duration]; seizure labels replaced by
    `seiz_label` when given (the _bi files)."""
    rows, t = [], 0.0
    for on, off, label in sorted(events):
        if on > t:
            rows.append((t, on, "bckg"))
        rows.append((on, off, seiz_label or label))
        t = off
    if t < duration:
        rows.append((t, float(duration), "bckg"))
    return rows


def _merge(events):
    """Union of overlapping same-label intervals (term-level events from channel events)."""
    out = []
    for on, off, label in sorted(events):
        if out and on <= out[-1][1] and label == out[-1][2]:
            out[-1] = (out[-1][0], max(out[-1][1], off), label)
        else:
            out.append((on, off, label))
    return out


def _tse_text(rows):
    return "version = tse_v1.0.0\n\n" + "".join(f"{a:.4f} {b:.4f} {lab} 1.0000\n" for a, b, lab in rows)


def _lbl_text(f, channel_rows):
    suffix = "LE" if f.montage == "02_tcp_le" else "REF"
    pairs = _tcp_pairs(f.montage)
    lines = ["version = lbl_v1.0.0", ""]
    lines += [f"montage = {i}, {a}-{b}: EEG {a}-{suffix} -- EEG {b}-{suffix}" for i, (a, b) in enumerate(pairs)]
    symbols = ", ".join(f"{i}: '{s}'" for i, s in enumerate(LBL_SYMBOLS))
    lines += ["", "number_of_levels = 1", "", "level[0] = 1", "", f"symbols[0] = {{{symbols}}}", ""]
    for c, rows in enumerate(channel_rows):
        for a, b, label in rows:
            probs = ", ".join("1.0" if s == label else "0.0" for s in LBL_SYMBOLS)
            lines.append(f"label = {{0, 0, {a:.4f}, {b:.4f}, {c}, [{probs}]}}")
    return "\n".join(lines) + "\n"


def _csv_text(stem, duration, named_rows):
    head = (f"# version = csv_v1.0.0\n# bname = {stem}\n# duration = {duration:.2f} secs\n"
            "# montage_file = $NEDC_NFC/lib/nedc_eas_default_montage.txt\n#\n"
            "channel,start_time,stop_time,label,confidence\n")
    return head + "".join(f"{ch},{a:.4f},{b:.4f},{lab},1.0000\n" for ch, rows in named_rows for a, b, lab in rows)


def _relative_dir(version, f):
    p = f.patient
    if version.startswith("2."):
        return Path("edf", p.split, p.pid, f"s{f.session:03d}_{f.date.year}", f.montage)
    return Path("edf", p.split, f.montage, p.pid[3:6], p.pid,
                f"s{f.session:03d}_{f.date.year}_{f.date.month:02d}_{f.date.day:02d}")


def _normalise_xlsx(path):
    """Rewrite an .xlsx with fixed zip timestamps so that the file is byte-identical across runs."""
    with zipfile.ZipFile(path) as src:
        items = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    # openpyxl stamps the save time into the document properties.
    items = [(name, re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                           rb"\g<1>2020-01-01T00:00:00Z\g<2>", data) if name == "docProps/core.xml" else data)
             for name, data in items]
    buffer = _io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name, data in items:
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, data)
    Path(path).write_bytes(buffer.getvalue())


def _write_spreadsheet(root, version, files, seizure_rows):
    import openpyxl  # deferred: only the v1.x spreadsheets need it

    fixed = datetime.datetime(2020, 1, 1)
    wb = openpyxl.Workbook()
    wb.properties.creator = "kerasseizure"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.remove(wb.active)
    splits = ("train", "dev_test") if version == "1.4.0" else ("train", "dev")
    prefix = "./edf/" if version == "1.4.0" else "./"
    for split in splits:
        ws = wb.create_sheet(split)
        ws.append(list(_SPREADSHEET_HEADER))
        ws.append([None] * 12 + ["Start", "Stop", None])
        row_no, file_no, total, total_dur, with_seiz = 0, 0, 0, 0.0, 0
        for f, rel in files:
            if f.patient.split != split:
                continue
            file_no += 1
            p = f.patient
            meta = [file_no, p.pid, f"s{f.session:03d}", f"t{f.token:03d}",
                    "EMU" if p.types[0] in ("absz", "mysz") else "Inpatient",
                    "EMU" if p.types[0] in ("absz", "mysz") else "General",
                    "LTM" if f.duration > 3600 else "Routine", p.sex, p.age, "Temple University Hospital"]
            rows = seizure_rows.get(f.stem, [])
            if not rows:
                row_no += 1
                ws.append([row_no] + meta + [None, None, None, None])
            else:
                with_seiz += 1
            for r in rows:
                row_no += 1
                total += 1
                total_dur += r["stop"] - r["start"]
                ws.append([row_no] + meta + [prefix + rel.with_suffix(".tse").relative_to("edf").as_posix(),
                                             r["start"], r["stop"], r["label"].upper()])
        if version == "1.4.0":  # v31r closes each sheet with summary rows
            ws.append(["Total number of seizures:", total])
            ws.append(["Total duration of seizures (secs):", round(total_dur, 4)])
            ws.append(["Total number of files:", file_no])
            ws.append(["Total number of files with seizures:", with_seiz])
    name = "seizures_v31r.xlsx" if version == "1.4.0" else "seizures_v36r.xlsx"
    path = root / "_DOCS" / name
    with atomic_path(path) as tmp:
        wb.save(tmp)
        _normalise_xlsx(tmp)
    return path


def make_tusz_corpus(out_dir, version="2.0.3", n_patients=None, seed=0, size="tests", *,
                     sessions_per_patient=None, files_per_session=None, minutes_per_file=None,
                     seizures_scale=None, max_seizure_seconds=None, min_patients_per_type=2,
                     min_seizures_per_type=6, rates=None, montages=None, mysz=True, overwrite=False):
    """Write a synthetic TUSZ corpus in the on-disk layout of `version`; return its root.

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
        overwrite: replace an existing synthetic corpus at `out_dir`.

    Returns:
        pathlib.Path of the root. The ground truth is in `<root>/_truth/` (see `load_truth`).
    """
    if version not in TUSZ_VERSIONS:
        raise ValueError(f"version must be one of {TUSZ_VERSIONS}, got {version!r}")
    params = _resolve(TUSZ_PRESETS, size, n_patients=n_patients, sessions_per_patient=sessions_per_patient,
                      files_per_session=files_per_session, minutes_per_file=minutes_per_file,
                      seizures_scale=seizures_scale)
    if max_seizure_seconds is not None:
        params["max_seizure_seconds"] = max_seizure_seconds
    for key in ("n_patients", "sessions_per_patient", "files_per_session"):
        if int(params[key]) < 1:
            raise ValueError(f"{key} must be >= 1, got {params[key]}")
    if params["minutes_per_file"] <= 0:
        raise ValueError(f"minutes_per_file must be > 0, got {params['minutes_per_file']}")
    rates = dict(rates or DEFAULT_RATES)
    montages = dict(montages or DEFAULT_MONTAGES)
    unknown = set(montages) - set(DEFAULT_MONTAGES)
    if unknown:
        raise ValueError(f"unknown montage directories {sorted(unknown)}; expected {sorted(DEFAULT_MONTAGES)}")
    root = _prepare_out(out_dir, ("edf", "_DOCS", "_truth"), overwrite)

    rng = np.random.default_rng([seed, 0])
    patients = _plan_tusz(rng, version, int(params["n_patients"]), int(params["sessions_per_patient"]),
                          int(params["files_per_session"]), float(params["minutes_per_file"]),
                          float(params["seizures_scale"]), params["max_seizure_seconds"],
                          int(min_patients_per_type), int(min_seizures_per_type), rates, montages, mysz)

    recordings, seizures, files, seizure_rows = [], [], [], {}
    for patient in patients:
        for f in patient.files:
            rel = _relative_dir(version, f) / f"{f.stem}.edf"
            channels, channel_events, truth = _simulate_file(f, seed)
            hour, minute = divmod(int(np.random.default_rng([seed, 2, f.number]).integers(7 * 60, 18 * 60)), 60)
            start = datetime.datetime(f.date.year, f.date.month, f.date.day, hour, minute, 0)
            _write_edf(root / rel, f, channels, start)

            names = list(channel_events)
            channel_rows = [_tile(channel_events[name], f.duration) for name in names]
            term = _merge([e for name in names for e in channel_events[name]])
            term_rows = _tile(term, f.duration)
            base = root / rel.with_suffix("")
            if version.startswith("2."):
                atomic_write_text(base.with_suffix(".csv"),
                                  _csv_text(f.stem, f.duration, zip(names, channel_rows)))
                atomic_write_text(base.with_suffix(".csv_bi"),
                                  _csv_text(f.stem, f.duration, [("TERM", _tile(term, f.duration, "seiz"))]))
            else:
                atomic_write_text(base.with_suffix(".tse"), _tse_text(term_rows))
                atomic_write_text(base.with_suffix(".tse_bi"), _tse_text(_tile(term, f.duration, "seiz")))
                atomic_write_text(base.with_suffix(".lbl"), _lbl_text(f, channel_rows))
                atomic_write_text(base.with_suffix(".lbl_bi"), _lbl_text(
                    f, [_tile(channel_events[name], f.duration, "seiz") for name in names]))

            n_eeg = len(_eeg_electrodes(f.montage))
            recordings.append(dict(edf_path=rel.as_posix(), patient_id=patient.pid, session=f"s{f.session:03d}",
                                   token=f"t{f.token:03d}", split=patient.split, montage_kind=f.montage,
                                   fs=f.fs, duration=f.duration, n_samples=f.duration * f.fs,
                                   n_eeg_channels=n_eeg, n_channels=len(channels),
                                   n_seizures=len(truth), version=version))
            for row in sorted(truth, key=lambda r: r["start"]):
                seizures.append(dict(patient_id=patient.pid, session=f"s{f.session:03d}", token=f"t{f.token:03d}",
                                     edf_path=rel.as_posix(), split=patient.split, montage_kind=f.montage,
                                     version=version, fs=f.fs, **row))
            seizure_rows[f.stem] = sorted(truth, key=lambda r: r["start"])
            files.append((f, rel))

    if not version.startswith("2."):
        _write_spreadsheet(root, version, files, seizure_rows)

    truth_dir = root / "_truth"
    _write_csv(truth_dir / "recordings.csv", pd.DataFrame(recordings))
    _write_csv(truth_dir / "seizures.csv", pd.DataFrame(seizures))
    _write_csv(truth_dir / "patients.csv", pd.DataFrame([_patient_row(p) for p in patients]))
    atomic_write_json(truth_dir / "corpus.json", dict(
        kind="tusz", version=version, seed=seed, size=size, min_patients_per_type=min_patients_per_type,
        min_seizures_per_type=min_seizures_per_type,
        rates={str(k): v for k, v in rates.items()}, montages=montages, mysz=mysz,
        n_recordings=len(recordings), n_seizures=len(seizures), **params))
    return root


def _patient_row(p):
    row = dict(patient_id=p.pid, split=p.split, primary_type=p.primary, types=" ".join(p.types), sex=p.sex,
               age=p.age, background_uv=round(p.profile.amplitude_uv, 4),
               alpha_frequency=round(p.profile.alpha_frequency, 4), exponent=round(p.profile.exponent, 4))
    for k, s in p.signatures.items():
        row[f"{k}_frequency"] = round(s.frequency, 4)
        row[f"{k}_center"] = s.center
    return row


def _write_csv(path, frame):
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n")


def load_truth(root):
    """The ground truth a synthetic corpus was written with: {name: DataFrame} plus "corpus" (dict).

    TUSZ: "recordings", "seizures" (start/stop = the annotated term-level event; signal_onset/
    signal_offset = the simulated activity at the focus), "patients". HMS: "eegs" (one row per
    eeg_id: pattern, mix, votes), "recordings", "test_labels".
    """
    import json

    truth_dir = Path(root) / "_truth"
    if not (truth_dir / "corpus.json").exists():
        raise FileNotFoundError(f"{truth_dir}: no synthetic ground truth (corpus.json) here")
    out = {"corpus": json.loads((truth_dir / "corpus.json").read_text(encoding="utf-8"))}
    for path in sorted(truth_dir.glob("*.csv")):
        out[path.stem] = pd.read_csv(path, dtype={"patient_id": str} if out["corpus"]["kind"] == "tusz" else None)
    return out


# ============================================================================ HMS

HMS_FS = 200
# Kaggle spectrogram bins: k * 200 / 1024 Hz for k = 3..102 (0.59 .. 19.92 Hz).
HMS_SPECTROGRAM_BINS = np.arange(3, 103)
HMS_SPECTROGRAM_FREQS = HMS_SPECTROGRAM_BINS * HMS_FS / 1024.0
HMS_SPECTROGRAM_REGIONS = ("LL", "RL", "LP", "RP")   # parquet column order
HMS_SPECTROGRAM_COLUMNS = ("time",) + tuple(f"{r}_{f:.2f}" for r in HMS_SPECTROGRAM_REGIONS
                                            for f in HMS_SPECTROGRAM_FREQS)
# Class shares of the labelled segments (eeg_ids): HMS train.csv is nearly balanced, Other largest.
HMS_CLASS_SHARES = {"Seizure": 0.16, "LPD": 0.14, "GPD": 0.14, "LRDA": 0.12, "GRDA": 0.16, "Other": 0.28}


def hms_spectrogram(eeg, fs=HMS_FS, n_rows=None):
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
        power = np.zeros((n_rows, HMS_SPECTROGRAM_BINS.size))
        for a, b in HMS_CHAINS[region]:
            diff = np.pad(eeg[:, index[a]] - eeg[:, index[b]], (512, 512))
            frames = np.lib.stride_tricks.sliding_window_view(diff, 1024)[centers]
            spec = np.fft.rfft(frames * window, axis=1)[:, HMS_SPECTROGRAM_BINS]
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
    n = rec.duration * HMS_FS
    electrodes = [c.upper() for c in HMS_EEG_COLUMNS[:-1]]
    ecg = sim.ecg_trace(rng, n, HMS_FS, profile.heart_rate_bpm)
    x = sim.simulate_background(profile, electrodes, n, HMS_FS, rng, ecg=ecg)
    t = np.arange(n) / HMS_FS
    for start, stop, kind, second, mix in rec.segments:
        i0, i1 = int(start * HMS_FS), int(stop * HMS_FS)
        ramp = np.clip(np.minimum(t[i0:i1] - start, stop - t[i0:i1]) / 5.0, 0.0, 1.0)
        for k, strength in ((kind, mix), (second, 1.0 - mix)):
            if k is None or strength <= 0:
                continue
            activity = sim.simulate_pattern(signatures[k], electrodes, i1 - i0, HMS_FS, rng, strength)
            x[:, i0:i1] += ramp[None, :] * activity
    # Large common-mode drift (reference electrode): raw channel std ~ 800-1100 as on Kaggle, gone
    # from any bipolar difference.
    common = rng.uniform(800.0, 1050.0) * sim.band_noise(rng, 1, n, HMS_FS, 0.1, 0.5, edge=0.08)[0]
    x = x + common[None, :] + rng.normal(0.0, 30.0, size=(x.shape[0], 1))
    ekg = rng.uniform(15000.0, 40000.0) * ecg + 300.0 * sim.band_noise(rng, 1, n, HMS_FS, 0.05, 0.5, edge=0.05)[0]
    return np.vstack([x, ekg[None, :]]).T.astype(np.float32)


def _write_parquet(path, frame):
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False, engine="pyarrow")


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
        extra_seconds: (min, max) seconds beyond 50 of each EEG file (room for label offsets).
        sub_rows: (min, max) train.csv rows per eeg_id (label offsets within the file, same votes).
        high_vote_fraction: share of eeg_ids voted by 10-28 experts (the rest by 1-7).
        nan_fraction: share of EEG and spectrogram files with NaN runs (at least one of each).
        overwrite: replace an existing synthetic corpus at `out_dir`.

    Returns:
        pathlib.Path of the root; the ground truth is in `<root>/_truth/` (see `load_truth`).
    """
    params = _resolve(HMS_PRESETS, size, n_eegs=n_eegs, n_test=n_test, eegs_per_spectrogram=eegs_per_spectrogram,
                      extra_seconds=extra_seconds, sub_rows=sub_rows, spectrograms_per_patient=spectrograms_per_patient)
    n_eegs, n_test = int(params["n_eegs"]), int(params["n_test"])
    spectrograms_per_patient = params["spectrograms_per_patient"]
    per_spec, extra, subs = params["eegs_per_spectrogram"], params["extra_seconds"], params["sub_rows"]
    if n_eegs < 1 or n_test < 0:
        raise ValueError(f"need n_eegs >= 1 and n_test >= 0, got {n_eegs}, {n_test}")
    for name, (lo, hi) in (("eegs_per_spectrogram", per_spec), ("spectrograms_per_patient", spectrograms_per_patient),
                           ("extra_seconds", extra), ("sub_rows", subs)):
        if not 0 <= lo <= hi:
            raise ValueError(f"{name} must be (min, max) with 0 <= min <= max, got {(lo, hi)}")
    if per_spec[0] < 1 or subs[0] < 1 or spectrograms_per_patient[0] < 1:
        raise ValueError("eegs_per_spectrogram, spectrograms_per_patient and sub_rows need min >= 1")
    root = _prepare_out(out_dir, ("train.csv", "test.csv", "sample_submission.csv", "train_eegs",
                                  "train_spectrograms", "test_eegs", "test_spectrograms", "_truth"), overwrite)
    rng = np.random.default_rng([seed, 10])

    # Plan: patients -> recordings (spectrogram_ids) -> eeg_ids -> label rows.
    patients, recordings = [], []
    eeg_budget = n_eegs
    while eeg_budget > 0:
        pid = None
        profile = sim.draw_background_profile(rng, "icu")
        side = ("left", "right")[rng.integers(2)]   # lateralized patterns share the lesion side
        signatures = {k: sim.draw_pattern_signature(k, rng, side) for k in HMS_CLASSES}
        for _ in range(int(rng.integers(spectrograms_per_patient[0], spectrograms_per_patient[1] + 1))):
            if eeg_budget <= 0:
                break
            k = min(int(rng.integers(per_spec[0], per_spec[1] + 1)), eeg_budget)
            eeg_budget -= k
            recordings.append(dict(patient=len(patients), k=k, test=False))
        patients.append(dict(pid=pid, profile=profile, signatures=signatures))
    for _ in range(n_test):
        recordings.append(dict(patient=len(patients), k=1, test=True))
        patients.append(dict(pid=None, profile=sim.draw_background_profile(rng, "icu"),
                             signatures={k: sim.draw_pattern_signature(k, rng) for k in HMS_CLASSES}))
    for p, pid in zip(patients, rng.choice(np.arange(10000, 66000), size=len(patients), replace=False)):
        p["pid"] = int(pid)
    spec_ids = 1000 + rng.choice(2_147_000_000, size=len(recordings), replace=False)
    eeg_ids = iter(1_000_000 + rng.choice(4_293_000_000, size=n_eegs + n_test, replace=False))
    label_ids = iter(1000 + rng.choice(4_293_000_000, size=n_eegs * subs[1], replace=False))

    train_rows, eeg_truth, rec_truth, test_rows, test_truth = [], [], [], [], []
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
                n_sub = int(rng.integers(subs[0], subs[1] + 1))
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
        frame.insert(0, "time", (np.arange(spec.shape[0]) * 2 + 1).astype(np.float64))
        split = "test" if rec.test else "train"
        _write_parquet(root / f"{split}_spectrograms" / f"{rec.spectrogram_id}.parquet", frame)
        rec_truth.append(dict(spectrogram_id=rec.spectrogram_id, patient_id=rec.patient_id, split=split,
                              duration=duration, n_eegs=len(eegs), spectrogram_nan=spec_has_nan,
                              segments=";".join(f"{a:.0f}-{b:.0f}:{k}" + (f"+{s}" if s else "")
                                                for a, b, k, s, _ in sorted(rec.segments))))

        spec_sub = 0
        for e in eegs:
            eeg_id = int(next(eeg_ids))
            kind, second, mix, n_votes = e["case"]
            chunk = data[e["start"] * HMS_FS:(e["start"] + e["length"]) * HMS_FS].copy()
            has_nan = (not rec.test) and (len(eeg_truth) == 0 or nan_rng.random() < nan_fraction)
            if has_nan:  # signal drop-outs: all channels NaN for 1-10 s, sometimes a dead lead
                r0 = int(nan_rng.integers(0, chunk.shape[0] - 10 * HMS_FS))
                chunk[r0:r0 + int(nan_rng.uniform(1, 10) * HMS_FS)] = np.nan
                if nan_rng.random() < 0.3:
                    chunk[:, int(nan_rng.integers(0, 19))] = np.nan
            folder = "test_eegs" if rec.test else "train_eegs"
            _write_parquet(root / folder / f"{eeg_id}.parquet", pd.DataFrame(chunk, columns=list(HMS_EEG_COLUMNS)))
            expert = n_votes >= 10
            votes = sim.annotator_votes(rng, kind, n_votes, second, mix, noise=0.12 if expert else 0.25)
            consensus = HMS_CLASSES[int(np.argmax(votes))]
            truth = dict(eeg_id=eeg_id, spectrogram_id=rec.spectrogram_id, patient_id=rec.patient_id,
                         pattern=kind, second_pattern=second or "", mix=round(mix, 4),
                         start_in_recording=e["start"], length=e["length"], n_votes=int(n_votes),
                         eeg_nan=has_nan, side=patients[plan["patient"]]["signatures"][kind].side,
                         **{c: int(v) for c, v in zip(HMS_VOTE_COLUMNS, votes)})
            if rec.test:
                test_rows.append(dict(spectrogram_id=rec.spectrogram_id, eeg_id=eeg_id, patient_id=rec.patient_id))
                test_truth.append(truth)
                continue
            eeg_truth.append(truth)
            for sub, offset in enumerate(e["offsets"]):
                train_rows.append(dict(
                    eeg_id=eeg_id, eeg_sub_id=sub, eeg_label_offset_seconds=float(offset),
                    spectrogram_id=rec.spectrogram_id, spectrogram_sub_id=spec_sub,
                    spectrogram_label_offset_seconds=float(e["start"] + offset + 25 - 300),
                    label_id=int(next(label_ids)), patient_id=rec.patient_id, expert_consensus=consensus,
                    **{c: int(v) for c, v in zip(HMS_VOTE_COLUMNS, votes)}))
                spec_sub += 1

    _write_csv(root / "train.csv", pd.DataFrame(train_rows, columns=list(HMS_TRAIN_COLUMNS)))
    _write_csv(root / "test.csv", pd.DataFrame(test_rows, columns=list(HMS_TEST_COLUMNS)))
    submission = pd.DataFrame({"eeg_id": [r["eeg_id"] for r in test_rows]})
    for c in HMS_VOTE_COLUMNS:
        submission[c] = 1.0 / len(HMS_VOTE_COLUMNS)
    _write_csv(root / "sample_submission.csv", submission)
    truth_dir = root / "_truth"
    _write_csv(truth_dir / "eegs.csv", pd.DataFrame(eeg_truth))
    _write_csv(truth_dir / "recordings.csv", pd.DataFrame(rec_truth))
    _write_csv(truth_dir / "test_labels.csv", pd.DataFrame(test_truth, columns=list(eeg_truth[0])))
    atomic_write_json(truth_dir / "corpus.json", dict(
        kind="hms", seed=seed, size=size, n_eegs=n_eegs, n_test=n_test, eegs_per_spectrogram=list(per_spec),
        spectrograms_per_patient=list(spectrograms_per_patient), extra_seconds=list(extra), sub_rows=list(subs),
        high_vote_fraction=high_vote_fraction, nan_fraction=nan_fraction, n_patients=len(patients),
        n_spectrograms=len(recordings), n_train_rows=len(train_rows)))
    return root
