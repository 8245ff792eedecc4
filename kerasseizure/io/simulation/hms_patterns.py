"""HMS patterns (Seizure, LPD, GPD, LRDA, GRDA, Other): per-patient `PatternSignature`s and
the simulated pattern activity added to an ICU background."""

import dataclasses

import numpy as np

from kerasseizure.io.channels import HMS_CHAINS
from kerasseizure.io.labels import HMS_CLASSES
from kerasseizure.io.simulation.background import (
    _MUSCLE_WEIGHTS, _distances_to, _weights, band_noise, electrode_positions, spatial_kernel,
)
from kerasseizure.io.simulation.seizures import GENERALIZED_FLOOR, GENERALIZED_SPREAD, rhythm_waveform

# HMS pattern parameters (ACNS 2021 critical-care EEG terminology): discharge rates and rhythm
# frequencies in Hz; amplitudes in uV as ACNS measures them, peak to trough in the longitudinal
# bipolar derivation where the pattern is largest (mostly its "medium" range, 50-199 uV, some
# "high", >= 200 uV). "Other" (diffuse polymorphic slowing) has no field: its amplitude is the
# slowing's standard deviation per electrode.
PATTERN_MORPHOLOGY = {
    "Seizure": dict(freq=(3.0, 9.0), amp=(70, 250)),
    "LPD": dict(freq=(0.6, 1.6), amp=(50, 250)),
    "GPD": dict(freq=(0.7, 2.2), amp=(50, 200)),
    "LRDA": dict(freq=(1.0, 2.8), amp=(50, 150)),
    "GRDA": dict(freq=(1.0, 2.8), amp=(40, 150)),
    "Other": dict(freq=(0.5, 4.0), amp=(15, 40)),
}
_LATERAL_CENTERS = {"left": ("F7", "T3", "C3", "F3", "T5"), "right": ("F8", "T4", "C4", "F4", "T6")}
# Generalized patterns are bilateral and symmetric with a predominance (ACNS main term 1): most
# often frontal (GRDA is typically frontally predominant), else midline or posterior.
_GENERALIZED_CENTERS = (("FZ", 0.6), ("CZ", 0.25), ("PZ", 0.15))
# The longitudinal bipolar derivations (the HMS chains) in which ACNS measures amplitude.
_BIPOLAR_PAIRS = tuple((a.upper(), b.upper()) for chain in HMS_CHAINS.values() for a, b in chain)


@dataclasses.dataclass(frozen=True)
class PatternSignature:
    """A patient's version of one HMS pattern."""

    kind: str
    frequency: float      # discharge rate (LPD/GPD) or rhythm frequency (others)
    amplitude_uv: float
    side: str             # "left", "right" or "both"
    center: str
    spread: float
    floor: float
    triphasic: float      # 0..1: share of the triphasic after-waves in a discharge
    generalized: bool     # Seizure only: generalized vs focal
    harmonics: tuple


def draw_pattern_signature(kind, rng, side=None):
    """A patient's signature for an HMS class name (HMS_CLASSES).

    `side` ("left"/"right") pins lateralized activity to one hemisphere (a patient's lesion side);
    None draws it."""
    if kind not in PATTERN_MORPHOLOGY:
        raise ValueError(f"unknown HMS pattern {kind!r}; expected one of {HMS_CLASSES}")
    m = PATTERN_MORPHOLOGY[kind]
    drawn = ("left", "right")[rng.integers(2)]
    side = side or drawn
    lateral = _LATERAL_CENTERS[side][rng.integers(5)]
    generalized = bool(rng.random() < 0.4) if kind == "Seizure" else kind in ("GPD", "GRDA", "Other")
    if kind == "LRDA":
        lateral = _LATERAL_CENTERS[side][rng.integers(2)]  # frontotemporal
    names, shares = zip(*_GENERALIZED_CENTERS)
    predominance = names[rng.choice(len(names), p=shares)]
    center = predominance if generalized else lateral
    return PatternSignature(
        kind=kind, frequency=float(rng.uniform(*m["freq"])), amplitude_uv=float(rng.uniform(*m["amp"])),
        side="both" if generalized else side, center=center,
        spread=float(rng.uniform(*GENERALIZED_SPREAD) if generalized else rng.uniform(0.35, 0.6)),
        floor=float(rng.uniform(*GENERALIZED_FLOOR) if generalized else 0.0),
        triphasic=float(rng.uniform(0.3, 1.0) if kind == "GPD" else rng.uniform(0.0, 0.3)),
        generalized=generalized,
        harmonics=(float(rng.uniform(0, 0.4)), float(rng.uniform(0, 2 * np.pi)),
                   float(rng.uniform(0, 0.2)), float(rng.uniform(0, 2 * np.pi))),
    )


def pattern_field(signature, electrodes):
    """Peak field (0..1) of a pattern over electrodes; lateralized fields spare the other side."""
    dist = _distances_to(electrodes, signature.center)
    field = signature.floor + (1 - signature.floor) * np.exp(-0.5 * (dist / signature.spread) ** 2)
    if signature.side != "both":
        x = electrode_positions(electrodes)[:, 0]
        same = x < 0 if signature.side == "left" else x > 0
        field = field * np.where(np.abs(x) < 0.05, 0.5, np.where(same, 1.0, 0.12))
    return field


def bipolar_amplitude(field, electrodes):
    """The largest |field(a) - field(b)| over the longitudinal bipolar derivations (the HMS chains)
    whose two electrodes are in `electrodes`: what a unit pattern with this field shows where it
    is largest in that montage."""
    index = {name.upper(): i for i, name in enumerate(electrodes)}
    gains = [abs(field[index[a]] - field[index[b]]) for a, b in _BIPOLAR_PAIRS if a in index and b in index]
    if not gains or max(gains) <= 0:
        raise ValueError("the field shows in no longitudinal bipolar derivation of these electrodes")
    return max(gains)


def _discharge_kernel(fs, triphasic, sharp_s=0.025):
    t = np.arange(-int(0.1 * fs), int(0.7 * fs)) / fs
    sharp = -np.exp(-0.5 * (t / sharp_s) ** 2)                   # surface-negative sharp wave
    after = 0.45 * np.exp(-0.5 * ((t - 0.09) / 0.045) ** 2)       # positive after-going phase
    third = -0.35 * triphasic * np.exp(-0.5 * ((t - 0.25) / 0.08) ** 2)
    return sharp + after + third


def simulate_pattern(signature, electrodes, n_samples, fs, rng, strength=1.0):
    """HMS pattern activity [electrodes, n_samples] (uV) to add to a background.

    Its typical peak-to-trough amplitude (0.5-99.5 percentiles, before the slow waxing and waning)
    in the longitudinal bipolar derivation where it is largest is `signature.amplitude_uv`, as
    ACNS measures amplitude; "Other" has no field (see PATTERN_MORPHOLOGY).
    `strength` scales it (mixtures of two patterns in ambiguous cases use strengths < 1).
    """
    s = signature
    n = int(n_samples)
    t = np.arange(n) / fs
    field = pattern_field(s, electrodes)
    # Slow waxing and waning shared by all electrodes (0.6 .. 1.4).
    wax = 1.0 + 0.4 * band_noise(rng, 1, n, fs, 0.0, 0.05, edge=0.03)[0].clip(-1, 1)

    if s.kind in ("LPD", "GPD"):
        period = 1.0 / s.frequency
        count = int(n / fs / period) + 2
        times = np.cumsum(period * (1.0 + 0.12 * rng.standard_normal(count))) - rng.uniform(0, period)
        idx = (times[(times >= 0) & (times < n / fs)] * fs).astype(int)
        train = np.zeros(n)
        train[idx] = rng.lognormal(0.0, 0.15, size=idx.size)
        wave = np.convolve(train, _discharge_kernel(fs, s.triphasic), mode="same")
    elif s.kind in ("LRDA", "GRDA"):
        freq = s.frequency * (1.0 + 0.05 * band_noise(rng, 1, n, fs, 0.0, 0.2, edge=0.1)[0])
        phase = 2 * np.pi * np.cumsum(freq) / fs
        wave = rhythm_waveform(phase, freq, s.harmonics, spike=0.0)
    elif s.kind == "Seizure":
        # Evolving rhythm: frequency glides down and amplitude builds over ~40-120 s cycles.
        cycle = rng.uniform(40.0, 120.0)
        progress = ((t + rng.uniform(0, cycle)) % cycle) / cycle
        freq = s.frequency * (1.0 - 0.5 * progress)
        phase = 2 * np.pi * np.cumsum(freq) / fs
        wave = (0.6 + 0.8 * progress) * rhythm_waveform(phase, freq, s.harmonics, spike=0.4)
    else:  # Other: diffuse polymorphic slowing plus occasional muscle artifact
        slow = spatial_kernel(electrodes, 0.5) @ band_noise(rng, len(electrodes), n, fs, 0.5, 4.0, edge=0.5)
        slow /= slow.std(axis=1, keepdims=True)
        emg = band_noise(rng, len(electrodes), n, fs, 20.0, min(90.0, 0.45 * fs), edge=5.0)
        gate = (band_noise(rng, 1, n, fs, 0.0, 0.1, edge=0.05)[0] > 1.0).astype(float)
        muscle = _weights(_MUSCLE_WEIGHTS, electrodes)[:, None] * emg * gate
        return strength * s.amplitude_uv * (slow * wax + 1.5 * muscle)
    peak_to_trough = np.percentile(wave, 99.5) - np.percentile(wave, 0.5)
    gain = strength * s.amplitude_uv / (peak_to_trough * bipolar_amplitude(field, electrodes))
    return gain * field[:, None] * (wax * wave)[None, :]
