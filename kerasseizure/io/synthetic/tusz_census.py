"""The plan of a full-size synthetic TUSZ v1.x corpus: the release's census, not a scaled sample.

Seizures and patients per type are the published ones exactly (`labels.TUSZ_COUNTS`), with the
multi-type patients that make the per-type patient counts add up to more than the patient total;
recordings per split are the release's (v1.5.2 sheet; v1.4.0 scaled, see RELEASE_CENSUS).
Only the background length of the recordings is a parameter: the feature caches read the seizure
segments, so shortening the background keeps every measurement on the seizures meaningful while
the corpus fits the disk (docs/synthetic.md, "Full-size corpora").

The plan is a list of `tusz_plan._Patient` with their files, as `_plan_tusz` returns, so the same
writers produce the files.
"""

import datetime

import numpy as np

from kerasseizure.io import simulation as sim
from kerasseizure.io.labels import PATIENT_WISE_TYPE_ORDER, TUSZ_COUNTS
from kerasseizure.io.synthetic.common import exact_counts
from kerasseizure.io.synthetic.tusz_plan import (
    _add_session, _keep_tcp20_electrodes_only, _Patient, _place_in_file, _Seizure, _stratified,
)


def _scaled(figures, factor):
    return {split: int(round(v * factor)) for split, v in figures.items()}


# v1.5.2: 4,599 train and 1,013 dev recordings and 3 MYSZ seizures (the public sheet, docs/tusz.md);
# 592 train and 50 dev patients (release README figures, not re-checked here). The v1.4.0 recording and patient totals are
# not known here: the v1.5.2 ones scaled by its benchmark patients (167 / 237).
_V152_RECORDINGS = {"train": 4599, "dev": 1013}
_V152_PATIENTS = {"train": 592, "dev": 50}
RELEASE_CENSUS = {
    "1.5.2": dict(recordings=_V152_RECORDINGS, patients=_V152_PATIENTS, mysz=3),
    "1.4.0": dict(recordings=_scaled(_V152_RECORDINGS, 167 / 237), patients=_scaled(_V152_PATIENTS, 167 / 237),
                  mysz=3),
}
# Share of the benchmark (seizure) patients put in dev, stratified by primary type: 37 of 237 for
# v1.5.2, plus 13 seizure-free ones to make the release's 50 dev patients.
_DEV_SHARE = 0.16
# Seizure-bearing recordings hold at most this much seizure time each (bounds a file's memory).
_MAX_SEIZURE_SECONDS_PER_FILE = 900.0


def census_counts(version):
    """{type: (seizures, patients)} and the patient total of the v1.x benchmark (MYSZ excluded)."""
    if version not in RELEASE_CENSUS:
        raise ValueError(f"the full-size census exists for TUSZ {sorted(RELEASE_CENSUS)}, got {version!r}")
    counts = TUSZ_COUNTS[version]
    total = {"1.5.2": 237, "1.4.0": 167}[version]
    return counts, total


def _memberships(rng, counts, n_patients):
    """Seizure types of each benchmark patient: [[primary, extra, ...]] with exactly counts[t][1]
    patients holding type t and `n_patients` patients in all.

    Types are visited rarest first (the patient-wise protocol's order); a type's extra holders are
    drawn among patients created for rarer types, so a patient's primary is its rarest type and
    the patient-wise assignment finds every patient under its primary.
    """
    order = list(PATIENT_WISE_TYPE_ORDER)
    extras = sum(counts[t][1] for t in order) - n_patients
    if extras < 0:
        raise ValueError(f"{n_patients} patients exceed the per-type patient counts")
    quota = dict(zip(order[1:], _largest_remainder([counts[t][1] for t in order[1:]], extras)))
    patients, carry = [], 0
    for t in order:
        n_t = counts[t][1]
        take = min(quota.get(t, 0) + carry, len(patients), n_t)
        carry = quota.get(t, 0) + carry - take
        for i in sorted(rng.choice(len(patients), size=take, replace=False)):
            patients[i].append(t)
        patients.extend([t] for _ in range(n_t - take))
    if carry or len(patients) != n_patients:
        raise ValueError("the per-type patient counts cannot be met with that patient total")
    return patients


def _largest_remainder(weights, total):
    """Integers proportional to `weights` summing to `total`."""
    p = np.asarray(weights, dtype=float) / np.sum(weights) * total
    out = np.floor(p).astype(int)
    for i in np.argsort(-(p - out), kind="stable")[: total - out.sum()]:
        out[i] += 1
    return out.tolist()


def _benchmark_patients(rng, version, mysz):
    """(types per patient, {type: seizures per patient}) meeting the published counts exactly."""
    counts, total = census_counts(version)
    kinds = _memberships(rng, counts, total)
    seizures = [dict() for _ in kinds]
    for t in PATIENT_WISE_TYPE_ORDER:
        holders = [i for i, k in enumerate(kinds) if t in k]
        # Seizures per patient are heavy-tailed in TUSZ (a few patients hold dozens).
        for i, n in zip(holders, exact_counts(rng, counts[t][0], len(holders), sigma=1.0)):
            seizures[i][t] = n
    if mysz:
        hosts = [i for i, k in enumerate(kinds) if k[0] in ("gnsz", "absz")]
        host = hosts[rng.integers(len(hosts))]
        kinds[host].append("mysz")
        seizures[host]["mysz"] = RELEASE_CENSUS[version]["mysz"]
    return kinds, seizures


def _splits(rng, kinds, version):
    """Split of each benchmark patient: every k-th of them in dev, walking them grouped by type."""
    dev_name = "dev_test" if version == "1.4.0" else "dev"
    n = len(kinds)
    order = sorted(rng.permutation(n), key=lambda i: PATIENT_WISE_TYPE_ORDER.index(kinds[i][0]))
    step = 1.0 / _DEV_SHARE
    dev = {order[int(j * step)] for j in range(int(n * _DEV_SHARE))}
    return [dev_name if i in dev else "train" for i in range(n)], dev_name


def plan_tusz_census(rng, version, minutes_per_file, max_seizure_seconds, rates, montages, mysz):
    """Patients (with sessions, files and seizures) of a full-size v1.x corpus."""
    if minutes_per_file <= 0:
        raise ValueError(f"minutes_per_file must be > 0, got {minutes_per_file}")
    census_counts(version)   # checks the version
    census = RELEASE_CENSUS[version]
    kinds, seizure_counts = _benchmark_patients(rng, version, mysz)
    splits, dev_name = _splits(rng, kinds, version)
    n_dev_bench = splits.count(dev_name)
    free = {"train": census["patients"]["train"] - (len(kinds) - n_dev_bench),
            dev_name: census["patients"]["dev"] - n_dev_bench}
    if min(free.values()) < 0:
        raise ValueError("the release's patient totals are below its benchmark patients")
    kinds += [[] for _ in range(sum(free.values()))]
    seizure_counts += [{} for _ in range(sum(free.values()))]
    splits += ["train"] * free["train"] + [dev_name] * free[dev_name]

    n_patients = len(kinds)
    ids = [f"{int(n):08d}" for n in np.sort(rng.choice(np.arange(1, 13000), size=n_patients, replace=False))]
    order = rng.permutation(n_patients)   # ids are sorted; decouple them from the types
    patients = [_census_patient(rng, ids[order[j]], splits[j], kinds[j], seizure_counts[j]) for j in range(n_patients)]
    patients.sort(key=lambda p: p.pid)

    files_per_patient = {}
    for split, key in (("train", "train"), (dev_name, "dev")):
        members = [p for p in patients if p.split == split]
        # Patients with seizures were recorded longer (LTM): three times the weight.
        weights = [3.0 if p.types else 1.0 for p in members]
        for p, n in zip(members, exact_counts(rng, census["recordings"][key], len(members), sigma=0.8,
                                              weights=weights)):
            files_per_patient[p.pid] = n
    _add_files(rng, patients, files_per_patient, rates, montages)
    for p in patients:
        _place_seizures(rng, p, minutes_per_file, max_seizure_seconds)
    _keep_tcp20_electrodes_only(rng, patients)
    return patients


def _census_patient(rng, pid, split, kinds, counts):
    profile = sim.draw_background_profile(rng, "outpatient")
    focus = sim.draw_seizure_signature("fnsz", rng).center
    signatures = {k: sim.draw_seizure_signature(k, rng, center=focus if k in ("fnsz", "cpsz", "spsz") else None)
                  for k in kinds}
    return _Patient(pid=pid, split=split, primary=kinds[0] if kinds else "", types=list(kinds),
                    sex=("M", "F")[rng.integers(2)], age=int(rng.integers(2, 90)), profile=profile,
                    signatures=signatures, counts=dict(counts))


def _add_files(rng, patients, files_per_patient, rates, montages):
    """Sessions of 1-4 recordings for each patient, dated, with a rate and montage per session."""
    sessions = []
    for p in patients:
        left = files_per_patient[p.pid]
        while left:
            size = min(left, int(rng.integers(1, 5)))
            sessions.append((p, size))
            left -= size
    session_rates = iter(_stratified(rng, rates, len(sessions)))
    session_montages = iter(_stratified(rng, montages, len(sessions)))
    number, current, date, session = 0, None, None, 0
    for p, size in sessions:
        if p is not current:
            current, session = p, 0
            date = datetime.date(int(rng.integers(2002, 2016)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
        session += int(rng.integers(1, 3))
        number = _add_session(rng, p, session, date, next(session_montages), int(next(session_rates)), size, number)
        date += datetime.timedelta(days=int(rng.integers(1, 400)))


def _place_seizures(rng, patient, minutes_per_file, max_seizure_seconds):
    """Seizures into a few of the patient's recordings, then each recording's length and onsets.

    A patient with n seizures has about sqrt(n) seizure-bearing recordings (more when their
    seizure time exceeds 15 min each); recordings last `minutes_per_file` x a log-normal spread
    (sigma 0.6), stretched to hold their seizures with >= 8 s of background around each.
    """
    kinds = [k for k in patient.types for _ in range(patient.counts[k])]
    seizures = []
    for i in rng.permutation(len(kinds)):
        sig = sim.jitter_signature(patient.signatures[kinds[i]], rng)
        seizures.append(_Seizure(kinds[i], 0.0, sim.draw_seizure_duration(sig, rng, max_seizure_seconds), sig))
    if seizures:
        total = sum(s.duration for s in seizures)
        wanted = max(int(round(np.sqrt(len(seizures)))), int(np.ceil(total / _MAX_SEIZURE_SECONDS_PER_FILE)))
        picks = sorted(rng.choice(len(patient.files), size=min(wanted, len(patient.files)), replace=False))
        for s in seizures:
            patient.files[picks[rng.integers(len(picks))]].seizures.append(s)
    for f in patient.files:
        _place_in_file(rng, f, minutes_per_file * 60.0 * rng.lognormal(0.0, 0.6))
