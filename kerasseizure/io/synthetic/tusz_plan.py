"""The plan of a synthetic TUSZ corpus: patients, their seizure types and signatures, sessions,
files and seizure times, all drawn from one random stream before any signal is simulated."""

import dataclasses
import datetime

import numpy as np

from kerasseizure.io import simulation as sim
from kerasseizure.io.channels import SCALP_ELECTRODES, TCP20
from kerasseizure.io.labels import PATIENT_WISE_TYPE_ORDER, SEIZURE_TYPES, TUSZ_COUNTS

# EEG electrodes of a recording. TUSZ headers mostly carry the 21 of the 10-20 system with the
# A1/A2 ear references (the 01_tcp_ar and 02_tcp_le folders); 03_tcp_ar_a recordings lack A1/A2
# (19), and a rare one keeps only the 17 electrodes that TCP20 needs (no FZ/PZ/A1/A2): 163, 53
# and 1 of 217 public v2.0.x headers.
ELECTRODES_21 = SCALP_ELECTRODES
ELECTRODES_19 = tuple(e for e in SCALP_ELECTRODES if e not in ("A1", "A2"))
ELECTRODES_17 = tuple(e for e in SCALP_ELECTRODES if any(e in pair for pair in TCP20))
# Non-EEG and extra channels seen in TUH headers; each session carries a random subset.
_EXTRAS_POOL = ("EKG1", "ROC", "LOC", "T1", "T2", "26", "27", "28", "29", "30", "PHOTIC", "IBI", "BURSTS", "SUPPR")


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
    electrodes: tuple = ELECTRODES_21
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
    forced_free = False
    number = 0
    for patient in patients:
        date = datetime.date(int(rng.integers(2002, 2016)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
        session = 0
        for _ in range(sessions_per_patient):
            session += int(rng.integers(1, 3))
            number = _add_session(rng, patient, session, date, next(session_montages), int(next(session_rates)),
                                  files_per_session, number)
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
            _place_in_file(rng, f, minutes_per_file * 60.0 * rng.uniform(0.85, 1.15))
    _keep_tcp20_electrodes_only(rng, patients)
    return patients


def _add_session(rng, patient, session, date, montage, fs, n_files, number):
    """Append one session's `n_files` recordings (numbered from `number`) to `patient`; returns the next number.

    Draws the session's extra channels and whether its channels are stored shuffled, in that order.
    """
    extras = _draw_extras(rng)
    shuffled = bool(rng.random() < 0.2)
    for token in range(n_files):
        patient.files.append(_File(patient, session, date, montage, fs, token, extras=extras,
                                   electrodes=ELECTRODES_19 if montage == "03_tcp_ar_a" else ELECTRODES_21,
                                   shuffled=shuffled, number=number + token))
    return number + n_files


def _draw_extras(rng):
    """The non-EEG and extra channels of a session (a random subset of those seen in TUH files)."""
    picks = rng.random(len(_EXTRAS_POOL)) < 0.5
    picks[0] = picks[0] or rng.random() < 0.6   # most recordings carry an EKG lead
    return tuple(e for e, keep in zip(_EXTRAS_POOL, picks) if keep)


def _place_in_file(rng, f, nominal, gap=8.0):
    """The file's duration (`nominal` s, stretched to hold its seizures with `gap` s of background
    around each) and its seizures' onsets, spread by a Dirichlet draw over the free time."""
    total = sum(s.duration for s in f.seizures)
    f.duration = int(np.ceil(max(nominal, total + gap * (len(f.seizures) + 1))))
    free = f.duration - total - gap * (len(f.seizures) + 1)
    gaps = gap + free * rng.dirichlet(np.ones(len(f.seizures) + 1))
    t = 0.0
    for s, g in zip(f.seizures, gaps):
        t += g
        s.onset = t
        t += s.duration


def _keep_tcp20_electrodes_only(rng, patients):
    """One 03_tcp_ar_a session (train/dev preferred) gets the rare 17-electrode header, when
    another one keeps the common 19. Drawn after everything else so that the rest of the plan
    does not depend on it."""
    sessions = {}
    for p in patients:
        for f in p.files:
            if f.montage == "03_tcp_ar_a":
                sessions.setdefault((p.split != "eval", p.pid, f.session), []).append(f)
    if len(sessions) < 2:
        return
    preferred = max(key[0] for key in sessions)
    keys = sorted(key for key in sessions if key[0] == preferred)
    for f in sessions[keys[rng.integers(len(keys))]]:
        f.electrodes = ELECTRODES_17
