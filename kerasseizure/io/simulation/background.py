"""Background EEG: 10-20 electrode geometry, noise primitives, ECG and `simulate_background`.

Signals in microvolts, shaped [electrodes, samples]; every function draws from the
`numpy.random.Generator` it is given. The private helpers `_weights`, `_distances_to` and
`_MUSCLE_WEIGHTS` are shared with the seizure and HMS-pattern simulators of this package.
"""

import dataclasses

import numpy as np

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
