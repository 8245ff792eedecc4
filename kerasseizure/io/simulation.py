"""EEG simulators behind the synthetic corpora: background, TUSZ seizure types, HMS patterns, votes.

Everything is vectorised NumPy driven by an explicit `numpy.random.Generator`; nothing here keeps
state between calls. Signals are in microvolts, shaped [electrodes, samples], on the 10-20
electrodes named as in `kerasseizure.io.channels` (upper case: FP1, T3, ...).

The model, in short (docs/synthetic.md has the full list and the limits):
- background = spatially smoothed 1/f sources + posterior alpha gated by an eyes-open/closed state
  + frontal eye blinks + electrode pops + muscle bursts + 60 Hz line noise + ECG leakage + drift;
- a seizure = a rhythm whose frequency, amplitude and spatial field evolve, with a type-specific
  waveform (spike-and-wave, low-voltage fast, polyspikes...), optional EMG and background attenuation;
- every patient draws a `BackgroundProfile` and, per seizure type, a `SeizureSignature` (frequency,
  focus, spread, waveform) that all of that patient's seizures of the type share. This patient
  identity is what makes patient-wise evaluation harder than seizure-wise, as on the real corpus.
"""

import dataclasses

import numpy as np
from kerasseizure.io.labels import HMS_CLASSES

# Azimuthal-equidistant 10-20 positions (x: left -> right, y: back -> front; Cz at the origin,
# the Fp/O ring at radius ~1). Extra positions for the non-standard TUH channels we simulate.
ELECTRODE_POSITIONS = {
    "FP1": (-0.31, 0.95), "FP2": (0.31, 0.95),
    "F7": (-0.81, 0.59), "F3": (-0.39, 0.47), "FZ": (0.0, 0.45), "F4": (0.39, 0.47), "F8": (0.81, 0.59),
    "T3": (-1.0, 0.0), "C3": (-0.45, 0.0), "CZ": (0.0, 0.0), "C4": (0.45, 0.0), "T4": (1.0, 0.0),
    "T5": (-0.81, -0.59), "P3": (-0.39, -0.47), "PZ": (0.0, -0.45), "P4": (0.39, -0.47),
    "T6": (0.81, -0.59), "O1": (-0.31, -0.95), "O2": (0.31, -0.95),
    "A1": (-1.18, -0.12), "A2": (1.18, -0.12),
    "T1": (-0.98, 0.32), "T2": (0.98, 0.32),
    "LOC": (-0.38, 1.18), "ROC": (0.38, 1.18),
}

# Where each background component lives (relative weights; unnamed electrodes get 0).
_ALPHA_WEIGHTS = {"O1": 1.0, "O2": 1.0, "P3": 0.6, "P4": 0.6, "PZ": 0.6, "T5": 0.5, "T6": 0.5,
                  "C3": 0.15, "C4": 0.15, "CZ": 0.15, "T3": 0.1, "T4": 0.1}
_BLINK_WEIGHTS = {"FP1": 1.0, "FP2": 1.0, "LOC": 1.2, "ROC": 1.2, "F7": 0.35, "F8": 0.35,
                  "F3": 0.4, "F4": 0.4, "FZ": 0.45, "T1": 0.15, "T2": 0.15}
_MUSCLE_WEIGHTS = {"FP1": 0.8, "FP2": 0.8, "F7": 1.0, "F8": 1.0, "T3": 1.0, "T4": 1.0, "T5": 0.8,
                   "T6": 0.8, "A1": 1.0, "A2": 1.0, "T1": 1.0, "T2": 1.0, "LOC": 0.6, "ROC": 0.6}
_ECG_WEIGHTS = {"A1": 1.0, "A2": 0.7, "T5": 0.4, "T6": 0.3, "T3": 0.3, "T4": 0.2, "O1": 0.15,
                "O2": 0.1}

# Candidate foci of focal activity, weighted towards temporal and frontal lobes (most focal
# epilepsies are temporal, then frontal).
_FOCAL_CENTERS = {"T3": 3.0, "T4": 3.0, "F7": 2.0, "F8": 2.0, "T5": 1.5, "T6": 1.5, "F3": 1.2,
                  "F4": 1.2, "C3": 1.0, "C4": 1.0, "FP1": 0.6, "FP2": 0.6, "P3": 0.8, "P4": 0.8,
                  "O1": 0.5, "O2": 0.5}


def electrode_positions(electrodes):
    """(n, 2) array of 10-20 plane positions for electrode names (case-insensitive).

    Raises:
        ValueError: for a name without a known position.
    """
    try:
        return np.array([ELECTRODE_POSITIONS[name.upper()] for name in electrodes], dtype=float)
    except KeyError as err:
        raise ValueError(f"no 10-20 position for electrode {err.args[0]!r}; "
                         f"known: {sorted(ELECTRODE_POSITIONS)}") from None


def _weights(table, electrodes):
    return np.array([table.get(name.upper(), 0.0) for name in electrodes], dtype=float)


def _distances_to(electrodes, center):
    pos = electrode_positions(electrodes)
    return np.linalg.norm(pos - np.array(ELECTRODE_POSITIONS[center.upper()]), axis=1)


def spatial_kernel(electrodes, length_scale=0.35):
    """Row-normalised Gaussian mixing matrix over the 10-20 plane.

    Mixing independent per-electrode sources through it gives neighbouring electrodes correlated
    signals (volume conduction) while distant ones stay nearly independent.
    """
    pos = electrode_positions(electrodes)
    d2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1)
    kernel = np.exp(-d2 / (2.0 * length_scale ** 2))
    return kernel / np.sqrt((kernel ** 2).sum(axis=1, keepdims=True))


# ----------------------------------------------------------------------------- noise primitives

def _complex_gaussian(rng, shape):
    # Single precision halves the cost of the dominant step; plenty for noise.
    spec = np.empty(shape, dtype=np.complex64)
    spec.real = rng.standard_normal(shape, dtype=np.float32)
    spec.imag = rng.standard_normal(shape, dtype=np.float32)
    return spec


def _shaped_noise(rng, n_rows, n_samples, fs, amplitude_of_f):
    """Gaussian noise with the given amplitude spectrum, each row scaled to unit std."""
    freqs = np.fft.rfftfreq(n_samples, 1.0 / fs)
    amp = amplitude_of_f(freqs)
    spec = _complex_gaussian(rng, (n_rows, freqs.size))
    spec *= amp.astype(np.float32)
    x = np.fft.irfft(spec, n=n_samples, axis=-1).astype(np.float64)
    std = x.std(axis=-1, keepdims=True)
    return x / np.where(std > 0, std, 1.0)


def _mixture_noise(rng, n_rows, n_samples, fs, components):
    """Gaussian noise that is the sum of independent spectral components in one inverse FFT.

    `components`: (std, amplitude_of_f) pairs; each component contributes `std` (in expectation)
    with the spectral shape `amplitude_of_f`. Cheaper than one FFT per component.
    """
    freqs = np.fft.rfftfreq(n_samples, 1.0 / fs)
    power = np.zeros(freqs.size)
    for std, amplitude_of_f in components:
        amp = amplitude_of_f(freqs)
        amp[0] = 0.0
        norm = np.sqrt((amp ** 2).sum())
        if std > 0 and norm > 0:
            # irfft of unit complex Gaussians with amplitude a_k has variance 4 * sum(a_k^2) / n^2.
            power += (std * n_samples / (2.0 * norm) * amp) ** 2
    spec = _complex_gaussian(rng, (n_rows, freqs.size))
    spec *= np.sqrt(power).astype(np.float32)
    return np.fft.irfft(spec, n=n_samples, axis=-1).astype(np.float64)


def _pink(exponent, f_knee=0.5):
    return lambda f: np.maximum(f, f_knee) ** (-exponent / 2.0)


def _band(low, high, edge):
    def amplitude(f):
        rise = np.clip((f - low + edge) / edge, 0.0, 1.0)
        fall = np.clip((high + edge - f) / edge, 0.0, 1.0)
        return (0.5 - 0.5 * np.cos(np.pi * rise)) * (0.5 - 0.5 * np.cos(np.pi * fall))
    return amplitude


def colored_noise(rng, n_rows, n_samples, fs, exponent=1.0, f_knee=0.5):
    """Unit-std noise with power spectral density ~ 1/f**exponent above `f_knee` Hz (flat below)."""
    def amplitude(f):
        a = np.maximum(f, f_knee) ** (-exponent / 2.0)
        a[0] = 0.0
        return a
    return _shaped_noise(rng, n_rows, n_samples, fs, amplitude)


def band_noise(rng, n_rows, n_samples, fs, low, high, edge=1.0):
    """Unit-std noise band-limited to [low, high] Hz (raised-cosine edges `edge` Hz wide)."""
    return _shaped_noise(rng, n_rows, n_samples, fs, _band(low, min(high, fs / 2.0 - edge), edge))


def narrowband_noise(rng, n_rows, n_samples, fs, center, bandwidth):
    """Unit-std noise with a Gaussian spectral peak: a rhythm that waxes and wanes naturally."""
    return _shaped_noise(rng, n_rows, n_samples, fs,
                         lambda f: np.exp(-0.5 * ((f - center) / bandwidth) ** 2))


def _events(rng, rate_hz, n_samples, fs):
    """Sample indices of a Poisson process of `rate_hz` events per second."""
    count = rng.poisson(rate_hz * n_samples / fs)
    return np.sort(rng.integers(0, n_samples, size=count))


def _smooth_step(n_samples, fs, change_points, values, ramp_s=0.5):
    """Piecewise-constant `values` switching at `change_points` (samples), smoothed over `ramp_s`."""
    idx = np.searchsorted(change_points, np.arange(n_samples), side="right")
    raw = np.asarray(values, dtype=float)[idx]
    width = max(1, int(ramp_s * fs))
    kernel = np.hanning(width + 2)[1:-1]
    return np.convolve(np.pad(raw, (width, width), mode="edge"), kernel / kernel.sum(),
                       mode="same")[width:-width]


def ecg_trace(rng, n_samples, fs, heart_rate_bpm=72.0, amplitude=1.0):
    """An ECG-like trace: P, QRS and T waves at a slightly variable heart rate (peak ~ amplitude)."""
    period = 60.0 / heart_rate_bpm
    n_beats = int(n_samples / fs / period) + 2
    intervals = period * (1.0 + 0.04 * rng.standard_normal(n_beats))
    beats = (np.cumsum(intervals) - rng.uniform(0, period)) * fs
    beats = beats[(beats >= 0) & (beats < n_samples)].astype(int)
    t = np.arange(-int(0.3 * fs), int(0.5 * fs)) / fs
    beat = (0.12 * np.exp(-0.5 * ((t + 0.16) / 0.025) ** 2)      # P
            - 0.12 * np.exp(-0.5 * ((t + 0.02) / 0.008) ** 2)    # Q
            + 1.00 * np.exp(-0.5 * (t / 0.010) ** 2)             # R
            - 0.20 * np.exp(-0.5 * ((t - 0.025) / 0.010) ** 2)   # S
            + 0.28 * np.exp(-0.5 * ((t - 0.25) / 0.05) ** 2))    # T
    train = np.zeros(n_samples)
    train[beats] = 1.0 + 0.05 * rng.standard_normal(beats.size)
    return amplitude * np.convolve(train, beat, mode="same")


# ----------------------------------------------------------------------------- background

@dataclasses.dataclass(frozen=True)
class BackgroundProfile:
    """One patient's (or session's) background EEG parameters. Amplitudes in uV, rates in Hz."""

    amplitude_uv: float = 20.0          # std of the 1/f component per electrode
    exponent: float = 1.4               # PSD ~ 1/f**exponent
    spatial_length: float = 0.35        # volume-conduction length scale (10-20 plane units)
    alpha_frequency: float = 10.0       # posterior dominant rhythm
    alpha_amplitude_uv: float = 25.0    # alpha std at O1/O2, eyes closed
    alpha_open_gain: float = 0.2        # alpha blocked on eye opening
    delta_uv: float = 0.0               # extra diffuse polymorphic delta (encephalopathy)
    closed_fraction: float = 0.5        # time share with eyes closed
    blink_rate_hz: float = 0.3          # while eyes are open
    blink_amplitude_uv: float = 120.0
    pop_rate_hz: float = 0.01           # electrode pops, whole montage
    muscle_rate_hz: float = 0.02        # muscle bursts, whole montage
    muscle_amplitude_uv: float = 20.0
    line_frequency: float = 60.0
    line_noise_uv: float = 3.0
    electrode_noise_uv: float = 1.5
    drift_uv: float = 8.0
    heart_rate_bpm: float = 72.0
    ecg_leak_uv: float = 4.0
    gains: tuple = ()                   # per-electrode gain, aligned with ELECTRODE_POSITIONS keys

    def gain(self, electrodes):
        if not self.gains:
            return np.ones(len(electrodes))
        table = dict(zip(ELECTRODE_POSITIONS, self.gains))
        return np.array([table[name.upper()] for name in electrodes])


def draw_background_profile(rng, population="outpatient"):
    """A random patient background. `population`: "outpatient" (TUSZ-like) or "icu" (HMS-like:
    slower, more delta, weaker alpha, eyes mostly open or unresponsive)."""
    if population not in ("outpatient", "icu"):
        raise ValueError(f"population must be 'outpatient' or 'icu', got {population!r}")
    icu = population == "icu"
    return BackgroundProfile(
        amplitude_uv=float(rng.lognormal(np.log(24.0 if icu else 20.0), 0.3)),
        exponent=float(rng.uniform(1.6, 2.2) if icu else rng.uniform(1.1, 1.7)),
        spatial_length=float(rng.uniform(0.28, 0.45)),
        alpha_frequency=float(rng.uniform(6.5, 9.5) if icu else rng.uniform(8.5, 11.5)),
        alpha_amplitude_uv=float(rng.lognormal(np.log(8.0 if icu else 25.0), 0.35)),
        alpha_open_gain=float(rng.uniform(0.1, 0.35)),
        delta_uv=float(rng.uniform(10.0, 35.0) if icu else rng.uniform(0.0, 8.0)),
        closed_fraction=float(rng.uniform(0.0, 0.3) if icu else rng.uniform(0.3, 0.7)),
        blink_rate_hz=float(rng.uniform(0.05, 0.2) if icu else rng.uniform(0.15, 0.5)),
        blink_amplitude_uv=float(rng.uniform(100.0, 250.0)),
        pop_rate_hz=float(rng.lognormal(np.log(0.01), 0.8)),
        muscle_rate_hz=float(rng.lognormal(np.log(0.03 if icu else 0.02), 0.6)),
        muscle_amplitude_uv=float(rng.uniform(10.0, 40.0)),
        line_frequency=60.0,
        line_noise_uv=float(rng.lognormal(np.log(3.0), 0.7)),
        electrode_noise_uv=float(rng.uniform(0.8, 3.0)),
        drift_uv=float(rng.uniform(3.0, 15.0)),
        heart_rate_bpm=float(rng.uniform(80.0, 110.0) if icu else rng.uniform(58.0, 90.0)),
        ecg_leak_uv=float(rng.uniform(1.0, 10.0)),
        gains=tuple(float(g) for g in rng.lognormal(0.0, 0.12, size=len(ELECTRODE_POSITIONS))),
    )


def simulate_background(profile, electrodes, n_samples, fs, rng, eyes_closed=None, ecg=None):
    """Background EEG [len(electrodes), n_samples] in uV for electrodes of ELECTRODE_POSITIONS.

    Args:
        profile: a `BackgroundProfile`.
        electrodes: electrode names (case-insensitive).
        n_samples, fs: length and sampling rate (Hz).
        rng: numpy Generator.
        eyes_closed: None alternates eyes-open/closed blocks (share `profile.closed_fraction`);
            True / False holds one state for the whole signal (no blinks while closed).
        ecg: the patient's unit-peak ECG (`ecg_trace`) to leak into the EEG, so that an EKG
            channel written beside it beats in step; None simulates one.
    """
    n = int(n_samples)
    n_e = len(electrodes)
    gains = profile.gain(electrodes)[:, None]

    # 1/f cortical sources (plus diffuse polymorphic delta when the profile has it), mixed
    # through the volume-conduction kernel.
    sources = _mixture_noise(rng, n_e, n, fs, [(profile.amplitude_uv, _pink(profile.exponent)),
                                               (profile.delta_uv, _band(0.5, 4.0, 0.5))])
    x = spatial_kernel(electrodes, profile.spatial_length) @ sources

    # Eyes-open/closed state: exponential block lengths (mean ~25 s).
    if eyes_closed is None:
        n_blocks = max(2, int(n / fs / 25.0) + 2)
        closed_first = rng.random() < profile.closed_fraction
        lengths = rng.exponential(25.0, size=n_blocks) * fs
        changes = np.cumsum(lengths)[:-1]
        states = np.array([(i % 2 == 0) == closed_first for i in range(n_blocks)], dtype=float)
        closed = _smooth_step(n, fs, changes, states)
    else:
        closed = np.full(n, 1.0 if eyes_closed else 0.0)

    # Posterior dominant rhythm: two partly coherent hemispheric generators.
    alpha = narrowband_noise(rng, 2, n, fs, profile.alpha_frequency, 0.45)
    alpha[1] = 0.7 * alpha[0] + np.sqrt(1 - 0.49) * alpha[1]
    pos = electrode_positions(electrodes)
    left = np.clip(0.5 - pos[:, 0] * 2.0, 0.0, 1.0)[:, None]
    alpha_field = _weights(_ALPHA_WEIGHTS, electrodes)[:, None] * (left * alpha[0] + (1 - left) * alpha[1])
    state_gain = profile.alpha_open_gain + (1 - profile.alpha_open_gain) * closed
    x += profile.alpha_amplitude_uv * alpha_field * state_gain[None, :]

    x *= gains

    # Eye blinks: frontal, positive, ~300 ms, only with eyes open.
    blink_idx = _events(rng, profile.blink_rate_hz, n, fs)
    blink_idx = blink_idx[closed[blink_idx] < 0.5]
    if blink_idx.size:
        half = int(0.4 * fs)
        blink_shape = np.exp(-0.5 * ((np.arange(-half, half + 1) / fs) / 0.09) ** 2)
        blink_field = _weights(_BLINK_WEIGHTS, electrodes)[:, None]
        for i, amp in zip(blink_idx, profile.blink_amplitude_uv * rng.uniform(0.6, 1.3, size=blink_idx.size)):
            lo, hi = max(i - half, 0), min(i + half + 1, n)
            x[:, lo:hi] += amp * blink_field * blink_shape[None, lo - i + half:hi - i + half]

    # Electrode pops: a step at one electrode decaying over ~0.2 s.
    tau = rng.uniform(0.1, 0.3)
    decay = np.exp(-np.arange(int(5 * tau * fs)) / (tau * fs))
    for i in _events(rng, profile.pop_rate_hz, n, fs):
        hi = min(i + decay.size, n)
        x[rng.integers(n_e), i:hi] += rng.choice([-1.0, 1.0]) * rng.uniform(60, 300) * decay[:hi - i]

    # Muscle bursts: broadband 20 Hz+ at temporal/frontal sites, 0.5-4 s.
    muscle = _weights(_MUSCLE_WEIGHTS, electrodes)[:, None]
    for start in _events(rng, profile.muscle_rate_hz, n, fs):
        length = min(int(rng.uniform(0.5, 4.0) * fs), n - start)
        if length < 8:
            continue
        envelope = np.hanning(length)
        emg = band_noise(rng, n_e, length, fs, 20.0, min(150.0, 0.45 * fs), edge=5.0)
        x[:, start:start + length] += profile.muscle_amplitude_uv * muscle * emg * envelope

    t = np.arange(n) / fs
    if profile.line_noise_uv > 0 and profile.line_frequency < fs / 2:
        line_amp = profile.line_noise_uv * rng.lognormal(0.0, 0.5, size=n_e)
        phase = rng.uniform(0, 0.3, size=n_e)  # mains phase nearly common to all leads
        w = 2 * np.pi * profile.line_frequency * t
        x += np.outer(line_amp * np.cos(phase), np.sin(w)) + np.outer(line_amp * np.sin(phase), np.cos(w))

    if ecg is None:
        ecg = ecg_trace(rng, n, fs, profile.heart_rate_bpm)
    x += profile.ecg_leak_uv * _weights(_ECG_WEIGHTS, electrodes)[:, None] * ecg[None, :]
    # Per-electrode slow drift and amplifier/electrode noise.
    x += _mixture_noise(rng, n_e, n, fs, [(profile.drift_uv, _band(0.0, 0.3, 0.2)),
                                          (profile.electrode_noise_uv, lambda f: np.ones_like(f))])
    return x


# ----------------------------------------------------------------------------- TUSZ seizures

# Literature-motivated ranges per type (frequencies Hz, amplitudes uV, durations s). Sources:
# ILAE 2017 classification; Fisher et al. 2017; Sanei & Chambers "EEG Signal Processing" ch. 4;
# the TUSZ annotation guidelines (Ochal et al. 2020). `floor` = share of the peak field seen at
# every electrode (1 = generalized, 0 = purely focal); `spread` = Gaussian field radius.
SEIZURE_MORPHOLOGY = {
    # generalized 3 Hz spike-and-wave, abrupt, short, frontal maximum, slight slowing
    "absz": dict(freq=(2.6, 3.9), slowing=(0.75, 0.92), amp=(120, 280), floor=(0.55, 0.75),
                 spread=(0.6, 0.9), spike=(0.6, 1.0), emg=(0, 0), atten=(0.5, 0.8), growth=(0, 0.2),
                 spread_growth=(0, 0), propagation=(0.0, 0.05), duration=(8.0, 0.4, 3.0, 25.0),
                 ramp=(0.2, 0.4), centers=("FZ",)),
    # generalized low-voltage fast activity (beta) with background attenuation, tonic EMG
    "tnsz": dict(freq=(14.0, 24.0), slowing=(0.85, 1.05), amp=(15, 45), floor=(0.5, 0.8),
                 spread=(0.7, 1.1), spike=(0, 0.1), emg=(5, 25), atten=(0.15, 0.45), growth=(0.3, 1.0),
                 spread_growth=(0, 0), propagation=(0.0, 0.1), duration=(15.0, 0.5, 5.0, 60.0),
                 ramp=(0.5, 1.5), centers=("FZ", "CZ")),
    # tonic fast phase then clonic rhythmic slowing spike-waves under heavy EMG
    "tcsz": dict(freq=(3.0, 6.0), slowing=(0.4, 0.65), amp=(80, 200), floor=(0.55, 0.8),
                 spread=(0.7, 1.1), spike=(0.4, 0.9), emg=(40, 150), atten=(0.6, 1.0), growth=(0, 0.5),
                 spread_growth=(0, 0), propagation=(0.0, 0.3), duration=(70.0, 0.35, 25.0, 200.0),
                 ramp=(1.0, 3.0), centers=("CZ", "FZ"), tonic_freq=(12.0, 22.0), tonic_share=(0.2, 0.35)),
    # generalized rhythmic theta/delta, mildly sharp
    "gnsz": dict(freq=(2.5, 7.0), slowing=(0.7, 1.0), amp=(50, 140), floor=(0.45, 0.75),
                 spread=(0.6, 1.0), spike=(0, 0.5), emg=(0, 6), atten=(0.7, 1.0), growth=(0, 0.6),
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
    "mysz": dict(freq=(12.0, 20.0), slowing=(0.9, 1.0), amp=(100, 250), floor=(0.6, 0.8),
                 spread=(0.7, 1.0), spike=(0.8, 1.0), emg=(20, 60), atten=(1.0, 1.0), growth=(0, 0),
                 spread_growth=(0, 0), propagation=(0.0, 0.05), duration=(2.5, 0.4, 1.0, 6.0),
                 ramp=(0.05, 0.1), centers=("CZ", "FZ")),
}


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
    """
    index = {name.upper(): i for i, name in enumerate(electrodes)}
    involved, delay = [], []
    for a, b in pairs:
        ia, ib = index[a.upper()], index[b.upper()]
        involved.append(max(activity.weights[ia], activity.weights[ib]) >= threshold)
        delay.append(min(activity.delays[ia], activity.delays[ib]))
    return np.array(involved), np.array(delay)


# ----------------------------------------------------------------------------- HMS patterns

# HMS pattern parameters (ACNS 2021 critical-care EEG terminology): discharge rates and rhythm
# frequencies in Hz, amplitudes in uV.
PATTERN_MORPHOLOGY = {
    "Seizure": dict(freq=(3.0, 9.0), amp=(60, 150)),
    "LPD": dict(freq=(0.6, 1.6), amp=(80, 200)),
    "GPD": dict(freq=(0.7, 2.2), amp=(60, 160)),
    "LRDA": dict(freq=(1.0, 2.8), amp=(50, 120)),
    "GRDA": dict(freq=(1.0, 2.8), amp=(40, 100)),
    "Other": dict(freq=(0.5, 4.0), amp=(15, 40)),
}
_LATERAL_CENTERS = {"left": ("F7", "T3", "C3", "F3", "T5"), "right": ("F8", "T4", "C4", "F4", "T6")}


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
    center = ("FZ" if kind != "GPD" else ("FZ", "CZ")[rng.integers(2)]) if generalized else lateral
    return PatternSignature(
        kind=kind, frequency=float(rng.uniform(*m["freq"])), amplitude_uv=float(rng.uniform(*m["amp"])),
        side="both" if generalized else side, center=center,
        spread=float(rng.uniform(0.8, 1.2) if generalized else rng.uniform(0.45, 0.8)),
        floor=float(rng.uniform(0.5, 0.75) if generalized else 0.0),
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


def _discharge_kernel(fs, triphasic, sharp_s=0.025):
    t = np.arange(-int(0.1 * fs), int(0.7 * fs)) / fs
    sharp = -np.exp(-0.5 * (t / sharp_s) ** 2)                   # surface-negative sharp wave
    after = 0.45 * np.exp(-0.5 * ((t - 0.09) / 0.045) ** 2)       # positive after-going phase
    third = -0.35 * triphasic * np.exp(-0.5 * ((t - 0.25) / 0.08) ** 2)
    return sharp + after + third


def simulate_pattern(signature, electrodes, n_samples, fs, rng, strength=1.0):
    """HMS pattern activity [electrodes, n_samples] (uV) to add to a background.

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
    return strength * s.amplitude_uv * field[:, None] * (wax * wave)[None, :]


# Plausible confusions between patterns (the "ictal-interictal continuum" of the HMS paper):
# the second pattern of an ambiguous case is drawn from these rows.
PATTERN_CONFUSIONS = {
    "Seizure": ("LPD", "LRDA", "GPD", "Other"),
    "LPD": ("Seizure", "GPD", "LRDA"),
    "GPD": ("LPD", "GRDA", "Seizure", "Other"),
    "LRDA": ("GRDA", "Seizure", "LPD", "Other"),
    "GRDA": ("Other", "LRDA", "GPD"),
    "Other": ("GRDA", "LRDA", "Seizure"),
}


def draw_vote_count(rng, high_vote_fraction=0.25):
    """Number of annotator votes of one labelled segment: 1-7 (most rows) or 10-28 (the experts
    who also labelled the test set), as the two populations of the HMS train.csv."""
    if rng.random() < high_vote_fraction:
        return int(rng.integers(10, 29))
    return int(rng.choice(np.arange(1, 8), p=[0.2, 0.14, 0.36, 0.1, 0.08, 0.06, 0.06]))


def annotator_votes(rng, kind, n_votes, second_kind=None, mix=1.0, noise=0.2):
    """Votes of `n_votes` simulated annotators, in HMS_CLASSES order (ints summing to n_votes).

    Each annotator sees pattern `kind` with probability `mix` and `second_kind` otherwise (the
    ambiguous cases), and with probability `noise` picks a plausible confusion of what they saw.
    """
    classes = list(HMS_CLASSES)
    probs = np.zeros(len(classes))
    probs[classes.index(kind)] += mix
    if second_kind is not None:
        probs[classes.index(second_kind)] += 1.0 - mix
    else:
        probs[classes.index(kind)] += 1.0 - mix
    confused = np.zeros(len(classes))
    for name, p in zip(classes, probs):
        if p > 0:
            options = PATTERN_CONFUSIONS[name]
            for option in options:
                confused[classes.index(option)] += p / len(options)
    probs = (1.0 - noise) * probs + noise * confused
    return rng.multinomial(n_votes, probs / probs.sum())
