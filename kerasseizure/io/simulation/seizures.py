"""TUSZ seizure types: per-patient `SeizureSignature`s and the simulated seizure activity.

`SEIZURE_MORPHOLOGY` holds the literature-motivated ranges per type; `draw_seizure_signature`
draws a patient's version, `jitter_signature` one seizure's variant of it, `simulate_seizure`
the signal and `channel_involvement` which bipolar channels show it.
"""

import dataclasses

import numpy as np

from kerasseizure.io.simulation.background import _MUSCLE_WEIGHTS, _distances_to, _weights, band_noise

# Candidate foci of focal activity, weighted towards temporal and frontal lobes (most focal
# epilepsies are temporal, then frontal).
_FOCAL_CENTERS = {"T3": 3.0, "T4": 3.0, "F7": 2.0, "F8": 2.0, "T5": 1.5, "T6": 1.5, "F3": 1.2,
                  "F4": 1.2, "C3": 1.0, "C4": 1.0, "FP1": 0.6, "FP2": 0.6, "P3": 0.8, "P4": 0.8,
                  "O1": 0.5, "O2": 0.5}

# The field of generalized activity, for the TUSZ types and the HMS patterns alike: bilateral
# and symmetric with a predominance (ACNS 2021), a Gaussian of radius 0.5-0.75 over a floor of 5-20 %.
# A flatter field cancels in every bipolar difference, and TUSZ seizures were marked by annotators
# reading the TCP montage, so a type they marked must show there (`seizure_visibility`).
GENERALIZED_FLOOR = (0.05, 0.2)
GENERALIZED_SPREAD = (0.5, 0.75)

# Literature-motivated ranges per type (frequencies Hz, amplitudes uV, durations s). Sources:
# ILAE 2017 classification; Fisher et al. 2017; Sanei & Chambers "EEG Signal Processing" ch. 4;
# the TUSZ annotation guidelines (Ochal et al. 2020). `floor` = share of the peak field seen at
# every electrode (1 = generalized, 0 = purely focal); `spread` = Gaussian field radius.
SEIZURE_MORPHOLOGY = {
    # generalized 3 Hz spike-and-wave, abrupt, short, frontal maximum, slight slowing
    "absz": dict(freq=(2.6, 3.9), slowing=(0.75, 0.92), amp=(120, 280), floor=GENERALIZED_FLOOR,
                 spread=GENERALIZED_SPREAD, spike=(0.6, 1.0), emg=(0, 0), atten=(0.5, 0.8), growth=(0, 0.2),
                 spread_growth=(0, 0), propagation=(0.0, 0.05), duration=(8.0, 0.4, 3.0, 25.0),
                 ramp=(0.2, 0.4), centers=("FZ",)),
    # generalized low-voltage fast activity (beta) with background attenuation, tonic EMG
    "tnsz": dict(freq=(14.0, 24.0), slowing=(0.85, 1.05), amp=(15, 45), floor=GENERALIZED_FLOOR,
                 spread=GENERALIZED_SPREAD, spike=(0, 0.1), emg=(5, 25), atten=(0.15, 0.45), growth=(0.3, 1.0),
                 spread_growth=(0, 0), propagation=(0.0, 0.1), duration=(15.0, 0.5, 5.0, 60.0),
                 ramp=(0.5, 1.5), centers=("FZ", "CZ")),
    # tonic fast phase then clonic rhythmic slowing spike-waves under heavy EMG
    "tcsz": dict(freq=(3.0, 6.0), slowing=(0.4, 0.65), amp=(80, 200), floor=GENERALIZED_FLOOR,
                 spread=GENERALIZED_SPREAD, spike=(0.4, 0.9), emg=(40, 150), atten=(0.6, 1.0), growth=(0, 0.5),
                 spread_growth=(0, 0), propagation=(0.0, 0.3), duration=(70.0, 0.35, 25.0, 200.0),
                 ramp=(1.0, 3.0), centers=("CZ", "FZ"), tonic_freq=(12.0, 22.0), tonic_share=(0.2, 0.35)),
    # generalized rhythmic theta/delta, mildly sharp
    "gnsz": dict(freq=(2.5, 7.0), slowing=(0.7, 1.0), amp=(50, 140), floor=GENERALIZED_FLOOR,
                 spread=GENERALIZED_SPREAD, spike=(0, 0.5), emg=(0, 6), atten=(0.7, 1.0), growth=(0, 0.6),
                 spread_growth=(0, 0), propagation=(0.0, 0.4), duration=(25.0, 0.6, 6.0, 150.0),
                 ramp=(1.0, 3.0), centers=("FZ", "CZ", "PZ")),
    # focal rhythm confined to a region, evolving: faster and smaller at onset, slower and larger later
    "fnsz": dict(freq=(4.0, 9.0), slowing=(0.4, 0.7), amp=(40, 120), floor=(0, 0.05),
                 spread=(0.3, 0.5), spike=(0, 0.6), emg=(0, 4), atten=(0.8, 1.0), growth=(0.5, 1.2),
                 spread_growth=(0, 0.4), propagation=(0.5, 3.0), duration=(40.0, 0.6, 8.0, 180.0),
                 ramp=(1.5, 4.0), centers="focal"),
    # like fnsz with a wider, spreading field and more evolution (impaired awareness, automatisms)
    "cpsz": dict(freq=(3.5, 8.0), slowing=(0.35, 0.6), amp=(60, 150), floor=(0, 0.1),
                 spread=(0.45, 0.7), spike=(0, 0.6), emg=(0, 15), atten=(0.7, 1.0), growth=(0.8, 1.8),
                 spread_growth=(0.3, 0.8), propagation=(1.0, 4.0), duration=(60.0, 0.5, 15.0, 200.0),
                 ramp=(2.0, 5.0), centers="focal"),
    # small region, subtle, little evolution
    "spsz": dict(freq=(5.0, 12.0), slowing=(0.7, 0.95), amp=(20, 50), floor=(0, 0.02),
                 spread=(0.18, 0.3), spike=(0, 0.4), emg=(0, 3), atten=(0.9, 1.0), growth=(0, 0.5),
                 spread_growth=(0, 0.2), propagation=(0.2, 1.0), duration=(20.0, 0.6, 5.0, 90.0),
                 ramp=(1.0, 3.0), centers="focal"),
    # brief generalized polyspikes (jerks)
    "mysz": dict(freq=(12.0, 20.0), slowing=(0.9, 1.0), amp=(100, 250), floor=GENERALIZED_FLOOR,
                 spread=GENERALIZED_SPREAD, spike=(0.8, 1.0), emg=(20, 60), atten=(1.0, 1.0), growth=(0, 0),
                 spread_growth=(0, 0), propagation=(0.0, 0.05), duration=(2.5, 0.4, 1.0, 6.0),
                 ramp=(0.05, 0.1), centers=("CZ", "FZ")),
}

GENERALIZED_TYPES = tuple(kind for kind, m in SEIZURE_MORPHOLOGY.items() if m["centers"] != "focal")


@dataclasses.dataclass(frozen=True)
class SeizureSignature:
    """How one patient's seizures of one type look. Each seizure jitters these slightly."""

    kind: str
    frequency: float            # Hz at onset (clonic rhythm for tcsz, jerk-spike rate for mysz)
    end_frequency: float        # Hz at offset
    amplitude_uv: float         # peak field amplitude at the focus
    center: str                 # focus electrode (generalized types: the maximum)
    spread: float               # Gaussian field radius at onset
    spread_growth: float        # relative radius growth by the end (propagation of the field)
    floor: float                # share of the field present everywhere (1 = fully generalized)
    harmonics: tuple            # (h2, phase2, h3, phase3): the patient's waveform shape
    spike: float                # 0 = sinusoidal, 1 = spike-and-wave
    emg_uv: float               # muscle artifact during the seizure
    attenuation: float          # background gain during the seizure
    growth: float               # relative amplitude growth from onset to the end
    propagation_s: float        # onset delay per unit distance from the focus
    ramp_s: float               # onset/offset ramp
    duration_median_s: float
    duration_sigma: float
    duration_range: tuple
    tonic_frequency: float = 0.0   # tcsz: tonic-phase fast frequency
    tonic_share: float = 0.0       # tcsz: share of the seizure in the tonic phase


def draw_seizure_signature(kind, rng, center=None):
    """A patient's signature for seizure type `kind` (a key of SEIZURE_MORPHOLOGY).

    `center` pins the focus (e.g. to keep one patient's focal types on the same side)."""
    try:
        m = SEIZURE_MORPHOLOGY[kind]
    except KeyError:
        raise ValueError(f"unknown seizure type {kind!r}; expected one of {sorted(SEIZURE_MORPHOLOGY)}") from None
    u = lambda key: float(rng.uniform(*m[key]))  # noqa: E731
    if center is None:
        if m["centers"] == "focal":
            names = list(_FOCAL_CENTERS)
            p = np.array([_FOCAL_CENTERS[n] for n in names])
            center = names[rng.choice(len(names), p=p / p.sum())]
        else:
            center = m["centers"][rng.integers(len(m["centers"]))]
    freq = u("freq")
    median, sigma, lo, hi = m["duration"]
    return SeizureSignature(
        kind=kind, frequency=freq, end_frequency=freq * u("slowing"), amplitude_uv=u("amp"),
        center=center, spread=u("spread"), spread_growth=u("spread_growth"), floor=u("floor"),
        harmonics=(float(rng.uniform(0, 0.5)), float(rng.uniform(0, 2 * np.pi)),
                   float(rng.uniform(0, 0.3)), float(rng.uniform(0, 2 * np.pi))),
        spike=u("spike"), emg_uv=u("emg"), attenuation=u("atten"), growth=u("growth"),
        propagation_s=u("propagation"), ramp_s=u("ramp"),
        duration_median_s=float(median * rng.lognormal(0.0, 0.3)), duration_sigma=sigma,
        duration_range=(lo, hi),
        tonic_frequency=u("tonic_freq") if "tonic_freq" in m else 0.0,
        tonic_share=u("tonic_share") if "tonic_share" in m else 0.0,
    )


def jitter_signature(signature, rng, scale=1.0):
    """One seizure's variant of a patient signature: changes of rate, amplitude, field and shape
    that keep the patient recognisable (scale 1: ~10% in frequency, ~25% in amplitude)."""
    s = scale
    h2, p2, h3, p3 = signature.harmonics
    return dataclasses.replace(
        signature,
        frequency=signature.frequency * float(rng.lognormal(0, 0.10 * s)),
        end_frequency=signature.end_frequency * float(rng.lognormal(0, 0.10 * s)),
        amplitude_uv=signature.amplitude_uv * float(rng.lognormal(0, 0.25 * s)),
        spread=signature.spread * float(rng.lognormal(0, 0.15 * s)),
        growth=signature.growth * float(rng.lognormal(0, 0.3 * s)),
        harmonics=(h2 * float(rng.lognormal(0, 0.3 * s)), p2 + float(rng.normal(0, 0.3 * s)),
                   h3 * float(rng.lognormal(0, 0.3 * s)), p3 + float(rng.normal(0, 0.3 * s))),
        tonic_frequency=signature.tonic_frequency * float(rng.lognormal(0, 0.05 * s)),
    )


def draw_seizure_duration(signature, rng, max_seconds=None):
    """A seizure duration (s) from the signature's log-normal, clipped to its type's range."""
    lo, hi = signature.duration_range
    if max_seconds is not None:
        hi = min(hi, max_seconds)
        lo = min(lo, hi)
    d = signature.duration_median_s * rng.lognormal(0.0, signature.duration_sigma)
    return float(np.clip(d, lo, hi))


def _wrap(phase):
    return (phase + np.pi) % (2 * np.pi) - np.pi


def rhythm_waveform(phase, frequency, harmonics=(0.0, 0.0, 0.0, 0.0), spike=0.0, spike_width_s=0.02):
    """Periodic waveform of a running phase: harmonic-shaped wave blended with spike-and-wave.

    A spike (surface-negative, `spike_width_s` wide) sits at phase 0 and the slow wave follows it;
    `frequency` (Hz, scalar or per sample) sets the spike width in phase units. Unit-ish peak.
    """
    h2, p2, h3, p3 = harmonics
    wave = np.sin(phase) + h2 * np.sin(2 * phase + p2) + h3 * np.sin(3 * phase + p3)
    wave /= 1.0 + h2 + h3
    if spike > 0:
        width = 2 * np.pi * np.asarray(frequency) * spike_width_s
        spikes = -1.6 * np.exp(-0.5 * (_wrap(phase) / width) ** 2)
        slow = 0.8 * np.sin(phase - 0.5 * np.pi + 0.4)
        wave = (1 - spike) * wave + spike * (spikes + slow)
    return wave


@dataclasses.dataclass(frozen=True)
class SeizureActivity:
    """A simulated seizure: what to add, how to scale the background, where and when it shows."""

    signal: np.ndarray      # [electrodes, samples] uV to add
    background_gain: np.ndarray  # [samples] multiplies the background during the seizure
    weights: np.ndarray     # [electrodes] peak field (0..1) over the seizure
    delays: np.ndarray      # [electrodes] onset delay (s) after the seizure's reference onset


def _envelope(n, fs, ramp_s, growth):
    t = np.arange(n) / fs
    duration = n / fs
    ramp = max(min(ramp_s, duration / 3), 1.0 / fs)
    env = np.clip(t / ramp, 0, 1) * np.clip((duration - t) / min(ramp, 1.5), 0, 1)
    return env * (1.0 + growth * t / duration)


def simulate_seizure(signature, electrodes, duration_s, fs, rng):
    """One seizure of `signature` lasting `duration_s` seconds at `fs` Hz on `electrodes`.

    Returns a `SeizureActivity`; the caller scales its background by `background_gain` and adds
    `signal` over the seizure's samples.
    """
    s = signature
    n = max(int(round(duration_s * fs)), 2)
    t = np.arange(n) / fs
    frac = t / (n / fs)
    dist = _distances_to(electrodes, s.center)
    delays = s.propagation_s * dist

    # Instantaneous frequency: geometric glide onset -> offset with slow wobble (+-4%).
    wobble = 1.0 + 0.04 * band_noise(rng, 1, n, fs, 0.0, 0.3, edge=0.2)[0]
    freq = s.frequency * (s.end_frequency / s.frequency) ** frac * wobble
    phase = 2 * np.pi * np.cumsum(freq) / fs + rng.uniform(0, 2 * np.pi)
    env = _envelope(n, fs, s.ramp_s, s.growth)

    if s.kind == "tcsz":
        # Tonic: growing low-voltage fast activity; clonic: slowing spike-waves.
        t_tonic = s.tonic_share * n / fs
        clonic = 1.0 / (1.0 + np.exp(-(t - t_tonic) / 0.8))
        fast_phase = 2 * np.pi * np.cumsum(s.tonic_frequency * wobble) / fs
        fast = 0.35 * np.sin(fast_phase) * np.clip(t / max(t_tonic, 1e-3), 0.2, 1.0)
        clonic_frac = np.clip((t - t_tonic) / max(n / fs - t_tonic, 1e-3), 0, 1)
        slow_freq = s.frequency * (s.end_frequency / s.frequency) ** clonic_frac
        slow_phase = 2 * np.pi * np.cumsum(slow_freq * wobble) / fs
        wave = (1 - clonic) * fast + clonic * rhythm_waveform(slow_phase, slow_freq, s.harmonics, s.spike)
        emg_env = (1 - clonic) + clonic * (0.25 + 0.75 * (np.cos(slow_phase) > 0.3))
    elif s.kind == "mysz":
        # 1-3 jerks: each a 0.2-0.5 s burst of polyspikes then a slow wave.
        n_jerks = int(rng.integers(1, 4))
        jerk = np.zeros(n)
        for centre in rng.uniform(0.15, 0.85, size=n_jerks) * n / fs:
            burst = np.abs(t - centre) < rng.uniform(0.1, 0.25)
            jerk[burst] = 1.0
        jerk = np.convolve(jerk, np.hanning(int(0.05 * fs) + 2)[1:-1], mode="same")
        jerk /= max(jerk.max(), 1e-12)
        wave = jerk * rhythm_waveform(phase, freq, s.harmonics, s.spike, spike_width_s=0.012)
        env = np.ones(n)
        emg_env = jerk
    else:
        wave = rhythm_waveform(phase, freq, s.harmonics, s.spike)
        emg_env = env / max(env.max(), 1e-12)

    # Field: floor everywhere + Gaussian around the focus whose radius grows over the seizure.
    radius = s.spread * (1.0 + s.spread_growth * frac)
    field = s.floor + (1 - s.floor) * np.exp(-0.5 * (dist[:, None] / radius[None, :]) ** 2)
    # Delayed onset away from the focus: each electrode's envelope starts `delays` later.
    env_e = np.interp(t[None, :] - delays[:, None], t, env, left=0.0)
    out = s.amplitude_uv * field * env_e * wave[None, :]

    if s.emg_uv > 0:
        emg = band_noise(rng, len(electrodes), n, fs, 20.0, min(150.0, 0.45 * fs), edge=5.0)
        muscle = np.maximum(_weights(_MUSCLE_WEIGHTS, electrodes), 0.3)
        out += s.emg_uv * muscle[:, None] * emg * (emg_env * (env > 0))[None, :]

    gain = 1.0 - (1.0 - s.attenuation) * np.clip(env / max(env.max(), 1e-12) * 3.0, 0, 1)
    weights = field.max(axis=1)
    return SeizureActivity(signal=out, background_gain=gain, weights=weights, delays=delays)


def channel_involvement(activity, electrodes, pairs, threshold=0.3):
    """Which bipolar channels show a seizure, and their onset delays (s).

    A pair is involved when either electrode's peak field reaches `threshold`; its onset is the
    earlier of the two electrodes' delays. Returns (involved bool [pairs], delay [pairs]).
    Annotators mark a generalized seizure on every channel: pass `threshold=0` for those types
    (`GENERALIZED_TYPES`).
    """
    index = {name.upper(): i for i, name in enumerate(electrodes)}
    involved, delay = [], []
    for a, b in pairs:
        ia, ib = index[a.upper()], index[b.upper()]
        involved.append(max(activity.weights[ia], activity.weights[ib]) >= threshold)
        delay.append(min(activity.delays[ia], activity.delays[ib]))
    return np.array(involved), np.array(delay)
