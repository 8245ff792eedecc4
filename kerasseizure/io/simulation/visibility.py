"""How far simulated activity stands out of its background in a bipolar montage (dB).

A class that the montage a model reads cannot show, however good the model, is a simulation
problem; these measures say which (docs/synthetic.md, "How hard is it?").
"""

import numpy as np
import scipy.signal

from kerasseizure.io.channels import HMS_EEG_COLUMNS, SCALP_ELECTRODES, TCP22, WAVENET_PAIRS
from kerasseizure.io.simulation.background import draw_background_profile, simulate_background
from kerasseizure.io.simulation.hms_patterns import draw_pattern_signature, simulate_pattern
from kerasseizure.io.simulation.seizures import draw_seizure_signature, simulate_seizure


def montage_visibility(simulate, electrodes, pairs, *, population, n_patients=40, seed=0, seconds=50, fs=200,
                       band_hz=(0.5, 20.0)):
    """Per simulated patient, the power of the activity alone in the bipolar difference where it is
    largest over the background's mean power per difference, both band-passed to `band_hz` (dB).

    Args:
        simulate: callable(rng, electrodes, n_samples, fs) -> activity [electrodes, n_samples] (uV);
            it draws the patient's signature from `rng`.
        electrodes: electrode names (ELECTRODE_POSITIONS keys).
        pairs: (a, b) electrode pairs of the montage.
        population: background population, "icu" (HMS) or "outpatient" (TUSZ).
        n_patients: patients simulated.
        seed: all randomness derives from it.
        seconds, fs: length and rate of each simulated signal.
        band_hz: (low, high) Butterworth band-pass, Hz.

    Returns:
        float array (n_patients,) of dB.
    """
    if n_patients < 1 or seconds <= 0:
        raise ValueError(f"need n_patients >= 1 and seconds > 0, got {n_patients}, {seconds}")
    index = {name.upper(): i for i, name in enumerate(electrodes)}
    missing = sorted({e.upper() for pair in pairs for e in pair} - set(index))
    if missing:
        raise ValueError(f"montage electrodes {missing} are not among the simulated electrodes")
    sos = scipy.signal.butter(4, band_hz, btype="band", fs=fs, output="sos")

    def power(x):
        d = np.stack([x[index[a.upper()]] - x[index[b.upper()]] for a, b in pairs])
        return (scipy.signal.sosfiltfilt(sos, d, axis=1) ** 2).mean(axis=1)

    rng = np.random.default_rng([seed, 17])
    n = int(seconds * fs)
    out = []
    for _ in range(int(n_patients)):
        background = power(simulate_background(draw_background_profile(rng, population), electrodes, n, fs, rng))
        out.append(10.0 * np.log10(power(simulate(rng, electrodes, n, fs)).max() / background.mean()))
    return np.array(out)


def pattern_visibility(kind, *, n_patients=40, seed=0, seconds=50, pairs=WAVENET_PAIRS):
    """`montage_visibility` of an HMS class on the ICU background, at the EEG files' 200 Hz, in
    the WaveNet's 8 differences by default (0.5-20 Hz, the band its input keeps).

    Example:
        >>> bool(np.median(pattern_visibility("GRDA", n_patients=4)) > -6.0)
        True
    """
    electrodes = [c.upper() for c in HMS_EEG_COLUMNS[:-1]]

    def simulate(rng, electrodes, n, fs):
        return simulate_pattern(draw_pattern_signature(kind, rng), electrodes, n, fs, rng)

    return montage_visibility(simulate, electrodes, pairs, population="icu", n_patients=n_patients, seed=seed,
                              seconds=seconds, fs=200, band_hz=(0.5, 20.0))


def seizure_visibility(kind, *, n_patients=40, seed=0, seconds=20, pairs=TCP22):
    """`montage_visibility` of a TUSZ seizure type (a SEIZURE_MORPHOLOGY key) on the outpatient
    background, at 250 Hz, in the TCP montage by default (0.5-24 Hz, the FFT features' band).

    Example:
        >>> seizure_visibility("fnsz", n_patients=2).shape
        (2,)
    """
    def simulate(rng, electrodes, n, fs):
        return simulate_seizure(draw_seizure_signature(kind, rng), electrodes, n / fs, fs, rng).signal

    return montage_visibility(simulate, list(SCALP_ELECTRODES), pairs, population="outpatient",
                              n_patients=n_patients, seed=seed, seconds=seconds, fs=250, band_hz=(0.5, 24.0))
