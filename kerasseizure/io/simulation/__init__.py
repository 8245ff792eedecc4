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

Modules: `background` (10-20 electrode geometry, noise primitives, ECG, `BackgroundProfile`,
`simulate_background`), `seizures` (TUSZ seizure types: `SeizureSignature`, `simulate_seizure`,
`channel_involvement`), `hms_patterns` (the HMS classes: `PatternSignature`, `simulate_pattern`),
`votes` (annotator votes of the HMS labels) and `visibility` (how far simulated activity stands
out of its background in a bipolar montage). Every public name is re-exported here.
"""

from kerasseizure.io.simulation.background import (
    ELECTRODE_POSITIONS, BackgroundProfile, band_noise, colored_noise, draw_background_profile, ecg_trace,
    electrode_positions, narrowband_noise, simulate_background, spatial_kernel,
)
from kerasseizure.io.simulation.hms_patterns import (
    PATTERN_MORPHOLOGY, PatternSignature, bipolar_amplitude, draw_pattern_signature, pattern_field, simulate_pattern,
)
from kerasseizure.io.simulation.seizures import (
    GENERALIZED_FLOOR, GENERALIZED_SPREAD, GENERALIZED_TYPES, SEIZURE_MORPHOLOGY, SeizureActivity, SeizureSignature, channel_involvement, draw_seizure_duration,
    draw_seizure_signature, jitter_signature, rhythm_waveform, simulate_seizure,
)
from kerasseizure.io.simulation.visibility import montage_visibility, pattern_visibility, seizure_visibility
from kerasseizure.io.simulation.votes import (
    PATTERN_CONFUSIONS, annotator_noise, annotator_votes, draw_vote_count, vote_distribution,
)

__all__ = [
    "ELECTRODE_POSITIONS", "BackgroundProfile", "band_noise", "colored_noise", "draw_background_profile",
    "ecg_trace", "electrode_positions", "narrowband_noise", "simulate_background", "spatial_kernel",
    "PATTERN_MORPHOLOGY", "PatternSignature", "bipolar_amplitude", "draw_pattern_signature", "pattern_field",
    "simulate_pattern", "montage_visibility", "pattern_visibility", "seizure_visibility",
    "GENERALIZED_FLOOR", "GENERALIZED_SPREAD", "GENERALIZED_TYPES", "SEIZURE_MORPHOLOGY", "SeizureActivity",
    "SeizureSignature", "channel_involvement", "draw_seizure_duration",
    "draw_seizure_signature", "jitter_signature", "rhythm_waveform", "simulate_seizure",
    "PATTERN_CONFUSIONS", "annotator_noise", "annotator_votes", "draw_vote_count", "vote_distribution",
]
