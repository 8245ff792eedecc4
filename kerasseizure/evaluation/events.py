"""Event scoring of seizure detection on whole recordings, as NEDC and SzCORE score it.

Every scorer compares the seizure events of a reference and of a hypothesis over one recording
(`Event` lists and the recording's duration; background is whatever no event covers) and returns
a `DetectionScore` for the seizure label: targets, hits, misses, false alarms, sensitivity,
precision, F1 and false alarms per 24 hours.

NEDC (`ovlp_score`, `taes_score`, `epoch_score`) follows Temple's `nedc_eeg_eval` v6.0.0 (Shah,
Golmohammadi, Obeid, Picone, "Objective evaluation metrics for automatic classification of EEG
events", 2021), re-implemented here. As its loader does, gaps are background and overlapping or
touching seizures of one file become one event (times compared at 4 decimals). Rates:
sensitivity = hits / (hits + misses), precision = hits / (hits + false alarms),
F1 = 2 P R / (P + R), each 0 where its denominator is 0 (the tool's convention: with no
reference seizure the sensitivity is 0, with an empty hypothesis precision and F1 are 0), and
FA/24h = false alarms / total duration * 86400 (EPOCH: false-alarm epochs * 0.25 s / total
duration * 86400, i.e. false-alarm seconds per day). NEDC pools a data set by summing the
counts over files and computing the rates once (`pool_scores`).

- OVLP (any overlap): a reference seizure is a hit if at least one hypothesis seizure overlaps
  it (hyp.stop > ref.start and hyp.start < ref.stop), else a miss; a hypothesis seizure that
  overlaps no reference seizure is one false alarm, whatever its length. So several hypothesis
  events inside one reference event give one hit and no false alarm, and one hypothesis event
  spanning several reference events gives one hit per reference event.
- TAES (time-aligned event scoring): fractional counts per event. For a reference event of
  length d paired with a hypothesis event: the hit is the overlap / d; the false alarm is the
  hypothesis time outside the reference / d, capped at 1; the miss is 1 - hit. A hypothesis
  event that runs to or past the reference's end is credited to the first reference event it
  meets, and every later reference event it also covers counts as a full miss; several
  hypothesis events inside one reference event add their hits and false alarms on that event.
  A hypothesis event paired with nothing is 1 false alarm; an unpaired reference event 1 miss.
  Pairing follows the tool exactly: a reference event is scored only if a hypothesis seizure
  strictly overlaps it, but the hypothesis events then paired with it are those whose whole
  seconds (int(start) .. int(stop)) meet its own, so a hypothesis event that touches the
  reference event, or ends or starts within the same second, is paired too (with a hit of 0,
  or slightly negative for a gap inside one second) instead of being a full false alarm.
- EPOCH: both annotations are sampled every 0.25 s at the epoch centres 0.125, 0.375, ... up to
  the end of the recording (an epoch on a boundary takes the earlier event's label); epochs are
  counted as a confusion: targets = reference seizure epochs, hits = seizure in both, misses =
  seizure only in the reference, false alarms = seizure only in the hypothesis.

SzCORE (`szcore_event_score`, `szcore_sample_score`) calls `timescoring` 0.0.7 (esl-epfl) as the
`szcore-evaluation` package does (Dan et al., "SzCORE: seizure community open-source research
evaluation framework", Epilepsia 2024): each annotation becomes a 1 Hz mask (samples
int(onset) .. int(stop) - 1 of int(duration) are seizure), then event scoring with events closer
than 90 s merged, events longer than 300 s split, the reference extended 30 s before onset and
60 s after its end, any overlap a detection, on a 10 Hz grid; sample scoring counts 1 s samples.
Rates follow timescoring 0.0.7: sensitivity = TP / reference events, precision = TP / (TP + FP),
F1 = 2 TP / (2 TP + FP + FN), each NaN where undefined (no reference seizure; no detection; no
event at all), FA/24h = FP / scored duration * 86400 (int(duration) s, the 1 Hz mask's length).
szcore-evaluation sums TP, FP, reference events and duration over the recordings of a subject
and computes the rates once (`pool_scores`); its headline numbers are then the mean (and std)
over subjects of those rates (`subject_average`).
"""

import math
from dataclasses import dataclass

import numpy as np
from timescoring import scoring as timescoring
from timescoring.annotations import Annotation

from kerasseizure.errors import ScoringError
from kerasseizure.io.events import Event, RecordingEvents

SCORERS = ("szcore", "szcore_sample", "ovlp", "taes", "epoch")
SZCORE_SCORERS = ("szcore", "szcore_sample")
SECONDS_PER_DAY = 86400.0
# nedc_eeg_eval v6.0.0 parameter file: [NEDC_EPOCH] epoch_duration = '0.25'.
NEDC_EPOCH_DURATION = 0.25
# NEDC's loader compares event boundaries rounded to 4 decimals (ndt.MIN_PRECISION).
NEDC_TIME_DECIMALS = 4
# szcore-evaluation builds its masks at FS = 1 Hz.
SZCORE_FS = 1
# SzCORE's event scoring settings (timescoring.scoring.EventScoring.Parameters), stated here so
# a change of the library's defaults cannot change our scores.
SZCORE_EVENT_PARAMETERS = {"toleranceStart": 30.0, "toleranceEnd": 60.0, "minOverlap": 0.0,
                           "maxEventDuration": 300.0, "minDurationBetweenEvents": 90.0}
RATE_NAMES = ("sensitivity", "precision", "f1", "false_alarms_per_24h")


@dataclass(frozen=True)
class DetectionScore:
    """Counts and rates of one scorer for the seizure label over one or more recordings.

    Args:
        scorer: one of SCORERS.
        targets: reference seizure events (OVLP, TAES, SzCORE event), epochs (EPOCH) or 1 s
            samples (SzCORE sample).
        hits: detected targets (fractional for TAES).
        misses: missed targets.
        false_alarms: false alarms (events, epochs or samples as for targets).
        duration: seconds scored (the denominator of the false-alarm rate).
        sensitivity, precision, f1: as the scorer defines them (module docstring).
        false_alarms_per_24h: false alarms per 24 hours of recording.
    """

    scorer: str
    targets: float
    hits: float
    misses: float
    false_alarms: float
    duration: float
    sensitivity: float
    precision: float
    f1: float
    false_alarms_per_24h: float

    def to_dict(self):
        """The numbers as a JSON-ready dict (NaN -> None; whole counts as int)."""
        counts = {name: _count(getattr(self, name)) for name in ("targets", "hits", "misses", "false_alarms")}
        rates = {name: None if math.isnan(getattr(self, name)) else float(getattr(self, name)) for name in RATE_NAMES}
        return {**counts, **rates, "duration_s": float(self.duration)}


def _count(value):
    value = float(value)
    return int(value) if value.is_integer() else value


def _ratio(numerator, denominator, undefined):
    return float(numerator) / float(denominator) if denominator != 0 else undefined


def _detection_score(scorer, targets, hits, misses, false_alarms, duration, false_alarm_seconds=None):
    """A DetectionScore with the rates computed from the counts under the scorer's conventions."""
    undefined = math.nan if scorer in SZCORE_SCORERS else 0.0
    if scorer in SZCORE_SCORERS and targets + false_alarms == 0:
        f1 = math.nan  # timescoring: no event at all
    else:
        f1 = _ratio(2 * hits, 2 * hits + false_alarms + misses, undefined)
    seconds = false_alarms if false_alarm_seconds is None else false_alarm_seconds
    return DetectionScore(
        scorer=scorer, targets=targets, hits=hits, misses=misses, false_alarms=false_alarms,
        duration=float(duration), sensitivity=_ratio(hits, hits + misses, undefined),
        precision=_ratio(hits, hits + false_alarms, undefined), f1=f1,
        false_alarms_per_24h=_ratio(seconds * SECONDS_PER_DAY, duration, 0.0))


# ------------------------------------------------------------------------------ events, masks

def _check_duration(duration):
    try:
        duration = float(duration)
    except (TypeError, ValueError):
        raise ScoringError(f"recording duration {duration!r} is not a number") from None
    if not math.isfinite(duration) or duration <= 0:
        raise ScoringError(f"recording duration {duration!r} s is not a positive number")
    return duration


def _intervals(events, duration, what):
    """(start, stop) of `events` in time order, checked against the recording's duration."""
    try:
        recording = RecordingEvents(events, duration)
    except ScoringError as error:
        raise ScoringError(f"{what}: {error}") from None
    # An event may end up to TIME_TOLERANCE_S after the recording (RecordingEvents allows it): clip it.
    return [(event.onset, min(event.stop, duration)) for event in recording.events if event.onset < duration]


def _nedc_intervals(events, duration, what):
    """Seizure intervals as NEDC's loader leaves them: touching or overlapping events merged."""
    merged = []
    for start, stop in _intervals(events, duration, what):
        if merged and round(start, NEDC_TIME_DECIMALS) <= round(merged[-1][1], NEDC_TIME_DECIMALS):
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


def events_to_mask(events, duration, fs=SZCORE_FS):
    """Boolean seizure mask of `events` on a grid of `fs` samples per second (SzCORE's rule).

    As epilepsy2bids' `Annotations.getMask`: the mask has int(duration * fs) samples and an event
    covers samples int(onset * fs) .. int(stop * fs) - 1.

    Args:
        events: Event objects.
        duration: recording length in seconds.
        fs: grid rate in Hz.

    Returns:
        Boolean array of int(duration * fs) samples.
    """
    duration = _check_duration(duration)
    if fs <= 0:
        raise ScoringError(f"fs must be positive, got {fs!r}")
    mask = np.zeros(int(duration * fs), dtype=bool)
    for start, stop in _intervals(events, duration, "mask"):
        mask[int(start * fs):int(stop * fs)] = True
    return mask


def mask_to_events(mask, fs, label="seiz"):
    """Events of the runs of True in a boolean mask sampled at `fs` Hz.

    >>> [(e.onset, e.duration) for e in mask_to_events([0, 1, 1, 0, 1], fs=2)]
    [(0.5, 1.0), (2.0, 0.5)]

    Args:
        mask: 1-D boolean (or 0/1) array, one value per sample.
        fs: samples per second.
        label: label of the events.

    Returns:
        list of Event, a run of samples i .. j - 1 becoming onset i / fs, duration (j - i) / fs.
    """
    values = np.asarray(mask, dtype=bool)
    if values.ndim != 1:
        raise ScoringError(f"the mask must be 1-D, got shape {values.shape}")
    if fs <= 0:
        raise ScoringError(f"fs must be positive, got {fs!r}")
    edges = np.diff(np.concatenate([[0], values.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [Event(start / fs, (stop - start) / fs, label) for start, stop in zip(starts, stops)]


# ------------------------------------------------------------------------------------- NEDC

def _overlaps(a, b):
    return b[1] > a[0] and b[0] < a[1]


def ovlp_score(reference, hypothesis, duration):
    """NEDC OVLP (any-overlap) scoring of one recording; rules in the module docstring.

    >>> ovlp_score([Event(10, 10), Event(30, 10)], [Event(15, 20)], duration=100).hits
    2

    Args:
        reference: reference seizure Events.
        hypothesis: hypothesis seizure Events.
        duration: recording length in seconds.

    Returns:
        DetectionScore (scorer "ovlp").
    """
    duration = _check_duration(duration)
    ref = _nedc_intervals(reference, duration, "reference")
    hyp = _nedc_intervals(hypothesis, duration, "hypothesis")
    hits = sum(any(_overlaps(r, h) for h in hyp) for r in ref)
    false_alarms = sum(not any(_overlaps(h, r) for r in ref) for h in hyp)
    return _detection_score("ovlp", len(ref), hits, len(ref) - hits, false_alarms, duration)


def _same_seconds(a, b):
    """NEDC TAES's pairing test: the whole seconds int(start) .. int(stop) of a and b meet."""
    return int(a[0]) <= int(b[1]) and int(b[0]) <= int(a[1])


def _taes_fractions(ref, hyp):
    """(hit, false alarm) of a hypothesis event on a reference event, as fractions of the reference."""
    (r0, r1), (h0, h1) = ref, hyp
    length = r1 - r0
    if h0 <= r0 and h1 <= r1:  # starts early
        return (h1 - r0) / length, min((r0 - h0) / length, 1.0)
    if h0 >= r0 and h1 >= r1:  # ends late
        return (r1 - h0) / length, min((h1 - r1) / length, 1.0)
    if h0 < r0 and h1 > r1:  # covers the reference
        return 1.0, min(((h1 - r1) + (r0 - h0)) / length, 1.0)
    return (h1 - h0) / length, 0.0  # inside the reference


def taes_score(reference, hypothesis, duration):
    """NEDC TAES (time-aligned event) scoring of one recording; rules in the module docstring.

    >>> taes_score([Event(10, 10)], [Event(15, 10)], duration=100).hits
    0.5

    Args:
        reference: reference seizure Events.
        hypothesis: hypothesis seizure Events.
        duration: recording length in seconds.

    Returns:
        DetectionScore (scorer "taes"); hits, misses and false alarms are fractional.
    """
    duration = _check_duration(duration)
    ref = _nedc_intervals(reference, duration, "reference")
    hyp = _nedc_intervals(hypothesis, duration, "hypothesis")
    ref_open, hyp_open = [True] * len(ref), [True] * len(hyp)
    hits = misses = false_alarms = 0.0
    for i, r in enumerate(ref):
        if not ref_open[i] or not any(_overlaps(r, h) for h in hyp):
            continue
        for j, h in enumerate(hyp):
            if not hyp_open[j] or not _same_seconds(r, h):
                continue
            hit, false_alarm = _taes_fractions(r, h)
            miss = 1.0 - hit
            ref_open[i] = hyp_open[j] = False
            if h[1] >= r[1]:
                # The hypothesis outlasts this reference: later references it reaches are misses.
                for k in range(i + 1, len(ref)):
                    if _same_seconds(ref[k], h):
                        ref_open[k] = False
                        miss += 1.0
            else:
                # The reference outlasts this hypothesis: later hypotheses within it add to it.
                for k in range(j + 1, len(hyp)):
                    if _same_seconds(r, hyp[k]):
                        hyp_open[k] = False
                        more_hit, more_false_alarm = _taes_fractions(r, hyp[k])
                        hit, miss, false_alarm = hit + more_hit, miss - more_hit, false_alarm + more_false_alarm
            hits, misses, false_alarms = hits + hit, misses + miss, false_alarms + false_alarm
    misses += sum(ref_open)
    false_alarms += sum(hyp_open)
    return _detection_score("taes", len(ref), hits, misses, false_alarms, duration)


def _epoch_labels(intervals, centres):
    """Seizure (True) at each epoch centre t: some interval has start < t <= stop."""
    if not intervals:
        return np.zeros(len(centres), dtype=bool)
    starts = np.array([start for start, _ in intervals])
    stops = np.array([stop for _, stop in intervals])
    index = np.searchsorted(starts, centres, side="left") - 1
    return (index >= 0) & (centres <= stops[np.maximum(index, 0)])


def epoch_score(reference, hypothesis, duration, epoch_duration=NEDC_EPOCH_DURATION):
    """NEDC EPOCH scoring of one recording: labels sampled every `epoch_duration` s, as a confusion.

    >>> epoch_score([Event(2, 2)], [Event(3, 2)], duration=10).hits
    4

    Args:
        reference: reference seizure Events.
        hypothesis: hypothesis seizure Events.
        duration: recording length in seconds.
        epoch_duration: sampling period in seconds (NEDC: 0.25).

    Returns:
        DetectionScore (scorer "epoch"); counts are epochs.
    """
    duration = _check_duration(duration)
    if not epoch_duration > 0:
        raise ScoringError(f"epoch_duration must be positive, got {epoch_duration!r}")
    ref = _nedc_intervals(reference, duration, "reference")
    hyp = _nedc_intervals(hypothesis, duration, "hypothesis")
    # Centres epoch/2 + i * epoch up to the end, as the tool's integer-stepped loop gives them
    # (one spare centre against rounding in the division, dropped by the test).
    last = int(np.floor((duration - epoch_duration / 2) / epoch_duration))
    centres = epoch_duration / 2 + epoch_duration * np.arange(max(last + 2, 0))
    centres = centres[centres <= duration]
    in_ref, in_hyp = _epoch_labels(ref, centres), _epoch_labels(hyp, centres)
    hits = int(np.sum(in_ref & in_hyp))
    misses = int(np.sum(in_ref & ~in_hyp))
    false_alarms = int(np.sum(~in_ref & in_hyp))
    return _detection_score("epoch", int(np.sum(in_ref)), hits, misses, false_alarms, duration,
                            false_alarm_seconds=false_alarms * epoch_duration)


# ----------------------------------------------------------------------------------- SzCORE

def _szcore_annotations(reference, hypothesis, duration, fs):
    duration = _check_duration(duration)
    ref = events_to_mask(reference, duration, fs)
    if len(ref) == 0:
        raise ScoringError(f"a recording of {duration:g} s is shorter than one sample of the "
                           f"{fs:g} Hz SzCORE grid")
    return Annotation(ref, fs), Annotation(events_to_mask(hypothesis, duration, fs), fs)


def _from_timescoring(scorer, result):
    tp, fp, ref_true = int(result.tp), int(result.fp), int(result.refTrue)
    return _detection_score(scorer, ref_true, tp, ref_true - tp, fp, result.numSamples / result.fs)


def szcore_event_score(reference, hypothesis, duration, fs=SZCORE_FS):
    """SzCORE event scoring of one recording with `timescoring` (rules in the module docstring).

    >>> szcore_event_score([Event(600, 60)], [Event(700, 20)], duration=3600).hits  # 40 s after the end
    1

    Args:
        reference: reference seizure Events.
        hypothesis: hypothesis seizure Events.
        duration: recording length in seconds.
        fs: rate of the annotation masks (szcore-evaluation: 1 Hz).

    Returns:
        DetectionScore (scorer "szcore"); counts are events after merging and splitting.
    """
    ref, hyp = _szcore_annotations(reference, hypothesis, duration, fs)
    parameters = timescoring.EventScoring.Parameters(**SZCORE_EVENT_PARAMETERS)
    return _from_timescoring("szcore", timescoring.EventScoring(ref, hyp, parameters))


def szcore_sample_score(reference, hypothesis, duration, fs=SZCORE_FS):
    """SzCORE sample scoring of one recording with `timescoring`: 1 s samples compared one by one.

    Args:
        reference: reference seizure Events.
        hypothesis: hypothesis seizure Events.
        duration: recording length in seconds.
        fs: rate of the masks and of the samples scored (SzCORE: 1 Hz).

    Returns:
        DetectionScore (scorer "szcore_sample"); counts are samples.
    """
    ref, hyp = _szcore_annotations(reference, hypothesis, duration, fs)
    return _from_timescoring("szcore_sample", timescoring.SampleScoring(ref, hyp, fs))


_SCORER_FUNCTIONS = {"szcore": szcore_event_score, "szcore_sample": szcore_sample_score,
                     "ovlp": ovlp_score, "taes": taes_score, "epoch": epoch_score}


def _check_scorers(scorers):
    scorers = (scorers,) if isinstance(scorers, str) else tuple(scorers)
    unknown = [name for name in scorers if name not in SCORERS]
    if unknown or not scorers:
        raise ScoringError(f"unknown scorer(s) {unknown or scorers!r}; expected some of {', '.join(SCORERS)}")
    return scorers


def score_events(reference, hypothesis, duration, scorers=SCORERS):
    """Score one recording with several scorers.

    Args:
        reference: reference seizure Events.
        hypothesis: hypothesis seizure Events.
        duration: recording length in seconds.
        scorers: names among SCORERS (one name or several).

    Returns:
        {scorer: DetectionScore} in the order asked.
    """
    scorers = _check_scorers(scorers)
    return {name: _SCORER_FUNCTIONS[name](reference, hypothesis, duration) for name in scorers}


def pool_scores(scores):
    """Pool the scores of several recordings: counts and durations summed, rates computed once.

    This is how NEDC scores a list of files and how szcore-evaluation scores a subject (and, with
    `avg_per_subject=False`, a whole data set). The FA/24h of the pool is the total of false alarms
    over the total duration.

    Args:
        scores: DetectionScores of one scorer.

    Returns:
        DetectionScore.
    """
    scores = list(scores)
    if not scores:
        raise ScoringError("no scores to pool")
    scorer = scores[0].scorer
    if any(score.scorer != scorer for score in scores):
        raise ScoringError(f"cannot pool scores of different scorers: {sorted({s.scorer for s in scores})}")
    total = {name: sum(getattr(score, name) for score in scores)
             for name in ("targets", "hits", "misses", "false_alarms", "duration")}
    # False alarms in the unit of the rate (EPOCH: seconds), recovered from each recording's rate.
    seconds = sum(score.false_alarms_per_24h * score.duration / SECONDS_PER_DAY for score in scores)
    return _detection_score(scorer, total["targets"], total["hits"], total["misses"], total["false_alarms"],
                            total["duration"], false_alarm_seconds=seconds)


def subject_average(scores, subjects):
    """SzCORE's headline aggregation: scores pooled per subject, then mean and std over subjects.

    szcore-evaluation (`evaluate_dataset`, avg_per_subject=True) takes the NaN-ignoring mean and the
    population standard deviation over subjects of each rate; a subject whose rate is NaN (no
    seizure, no detection) is left out of that rate.

    Args:
        scores: DetectionScores of one scorer, one per recording.
        subjects: the subject of each recording (same order).

    Returns:
        {"subjects": n, "<rate>": mean, "<rate>_std": std} for sensitivity, precision, f1 and
        false_alarms_per_24h (NaN where no subject defines the rate).
    """
    scores, subjects = list(scores), list(subjects)
    if len(scores) != len(subjects):
        raise ScoringError(f"{len(scores)} scores but {len(subjects)} subjects")
    groups = {}
    for score, subject in zip(scores, subjects):
        groups.setdefault(subject, []).append(score)
    pooled = [pool_scores(group) for group in groups.values()]
    summary = {"subjects": len(pooled)}
    for name in RATE_NAMES:
        values = np.array([getattr(score, name) for score in pooled], dtype=float)
        values = values[~np.isnan(values)]
        summary[name] = float(values.mean()) if len(values) else math.nan
        summary[f"{name}_std"] = float(values.std()) if len(values) else math.nan
    return summary
