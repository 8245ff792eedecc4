"""Event scorers against hand-worked examples of the NEDC and SzCORE rules, and SzCORE against timescoring.

The NEDC examples follow nedc_eeg_eval v6.0.0's rules (kerasseizure/evaluation/events.py says
which); the arithmetic is in the comments. Durations are 100 s unless stated, so one false alarm
is 864 per 24 h (1 / 100 * 86400).
"""

import math

import numpy as np
import pytest
from timescoring import scoring as timescoring
from timescoring.annotations import Annotation

from kerasseizure.errors import KerasSeizureError, ScoringError
from kerasseizure.evaluation.events import (
    SCORERS,
    SZCORE_EVENT_PARAMETERS,
    epoch_score,
    events_to_mask,
    mask_to_events,
    ovlp_score,
    pool_scores,
    score_events,
    subject_average,
    szcore_event_score,
    szcore_sample_score,
    taes_score,
)
from kerasseizure.io.events import Event


def events(*intervals):
    return [Event(start, stop - start) for start, stop in intervals]


def counts(score):
    return (score.targets, score.hits, score.misses, score.false_alarms)


def rates(score):
    return (score.sensitivity, score.precision, score.f1, score.false_alarms_per_24h)


def assert_rates(score, expected):
    np.testing.assert_allclose(rates(score), expected, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------- OVLP

def test_ovlp_one_hypothesis_over_two_references_hits_both():
    # Refs 10-20 and 30-40, hyp 5-45 overlaps both: 2 hits, the hyp overlaps a ref so no FA.
    score = ovlp_score(events((10, 20), (30, 40)), events((5, 45)), 100)
    assert counts(score) == (2, 2, 0, 0)
    assert_rates(score, (1, 1, 1, 0))


def test_ovlp_two_hypotheses_in_one_reference_are_one_hit_and_no_false_alarm():
    score = ovlp_score(events((10, 30)), events((12, 16), (20, 25)), 100)
    assert counts(score) == (1, 1, 0, 0)


def test_ovlp_false_alarms_are_hypothesis_events_overlapping_no_reference():
    # Ref 10-20 hit by 15-25; 50-60 and 70-95 overlap nothing: 2 FAs whatever their length.
    # sens 1/1, prec 1/(1+2), F1 2*1/(2*1+2+0) = 0.5, FA/24h 2/100*86400 = 1728.
    score = ovlp_score(events((10, 20)), events((15, 25), (50, 60), (70, 95)), 100)
    assert counts(score) == (1, 1, 0, 2)
    assert_rates(score, (1, 1 / 3, 0.5, 1728))


def test_ovlp_touching_is_not_overlapping():
    # Hyp 20-30 starts where ref 10-20 stops: a miss and a false alarm.
    assert counts(ovlp_score(events((10, 20)), events((20, 30)), 100)) == (1, 0, 1, 1)


def test_ovlp_empty_hypothesis_and_no_reference_seizure_follow_the_tool():
    # nedc_eeg_eval gives 0 for every rate whose denominator is 0.
    empty = ovlp_score(events((10, 20)), [], 100)
    assert counts(empty) == (1, 0, 1, 0)
    assert_rates(empty, (0, 0, 0, 0))
    no_seizure = ovlp_score([], events((10, 20)), 100)
    assert counts(no_seizure) == (0, 0, 0, 1)
    assert_rates(no_seizure, (0, 0, 0, 864))


def test_nedc_merges_touching_or_overlapping_events_of_one_file():
    # As the tool's loader does: 10-20 + 20-30 (touching) is one seizure, so is 40-50 + 45-55.
    score = ovlp_score(events((10, 20), (20, 30), (40, 50), (45, 55)), events((25, 26)), 100)
    assert counts(score) == (2, 1, 1, 0)


# ---------------------------------------------------------------------------------- TAES

@pytest.mark.parametrize("hyp, expected", [
    ((15, 25), (0.5, 0.5, 0.5)),   # ends late: hit (20-15)/10, FA (25-20)/10, miss 1 - hit
    ((4, 14), (0.4, 0.6, 0.6)),    # starts early: hit (14-10)/10, FA (10-4)/10
    ((0, 40), (1.0, 0.0, 1.0)),    # covers: hit 1, FA (20 + 10)/10 = 3 capped at 1
    ((12, 15), (0.3, 0.7, 0.0)),   # inside: hit 3/10, no FA
    ((10, 20), (1.0, 0.0, 0.0)),   # exact
])
def test_taes_fractions_of_one_reference(hyp, expected):
    score = taes_score(events((10, 20)), events(hyp), 100)
    np.testing.assert_allclose((score.hits, score.misses, score.false_alarms), expected, atol=1e-12)
    assert score.targets == 1


def test_taes_partial_overlap_rates():
    # hit 0.5, miss 0.5, FA 0.5: sens 0.5/(0.5+0.5), prec 0.5/(0.5+0.5), F1 0.5, FA/24h 0.5/100*86400.
    assert_rates(taes_score(events((10, 20)), events((15, 25)), 100), (0.5, 0.5, 0.5, 432))


def test_taes_one_hypothesis_over_two_references_credits_the_first_only():
    # Hyp 5-45 over refs 10-20 and 30-40: on the first, hit 1 and FA (25 + 5)/10 capped at 1;
    # the second ref, also covered, is a full miss. sens 1/2, prec 1/2, F1 0.5.
    score = taes_score(events((10, 20), (30, 40)), events((5, 45)), 100)
    assert counts(score) == (2, 1.0, 1.0, 1.0)
    assert_rates(score, (0.5, 0.5, 0.5, 864))


def test_taes_two_hypotheses_in_one_reference_add_up():
    # Ref 10-30 (20 s): hits 4/20 + 5/20 = 0.45, miss 0.55, no FA.
    score = taes_score(events((10, 30)), events((12, 16), (20, 25)), 100)
    np.testing.assert_allclose(counts(score), (1, 0.45, 0.55, 0.0), atol=1e-12)
    np.testing.assert_allclose(score.f1, 2 * 0.45 / (2 * 0.45 + 0.55), atol=1e-12)


def test_taes_unpaired_events_count_whole():
    # Ref 10-20 missed entirely, hyp 50-60 alone: 1 miss, 1 FA.
    assert counts(taes_score(events((10, 20)), events((50, 60)), 100)) == (1, 0.0, 1.0, 1.0)
    empty = taes_score(events((10, 20)), [], 100)
    assert counts(empty) == (1, 0.0, 1.0, 0.0)
    assert_rates(empty, (0, 0, 0, 0))
    assert_rates(taes_score([], events((10, 20)), 100), (0, 0, 0, 864))


def test_taes_pairs_by_whole_seconds_like_the_tool():
    # Ref 10-20 is scored (12-15 overlaps it); 20.5-25 shares second 20 with it, so the tool pairs
    # it: hit (20 - 20.5)/10 = -0.05, FA (25-20)/10 = 0.5. Totals: hit 0.3 - 0.05, miss 0.75, FA 0.5.
    score = taes_score(events((10, 20)), events((12, 15), (20.5, 25)), 100)
    np.testing.assert_allclose(counts(score), (1, 0.25, 0.75, 0.5), atol=1e-12)


# --------------------------------------------------------------------------------- EPOCH

def test_epoch_counts_on_the_quarter_second_grid():
    # 10 s -> centres 0.125, 0.375, ..., 9.875 (40 epochs). An epoch is seizure when start < t <= stop:
    # ref 2-4 -> 2.125 .. 3.875 (8), hyp 3-5 -> 3.125 .. 4.875 (8), both -> 3.125 .. 3.875 (4).
    score = epoch_score(events((2, 4)), events((3, 5)), 10)
    assert counts(score) == (8, 4, 4, 4)
    # FA/24h counts false-alarm seconds: 4 epochs * 0.25 s / 10 s * 86400.
    assert_rates(score, (0.5, 0.5, 0.5, 8640))


def test_epoch_boundaries_take_the_earlier_event():
    # Ref 2.125-4.125: the centre 2.125 is its start (background before it wins), 4.125 its stop
    # (it wins): 2.375 .. 4.125 = 8 epochs.
    assert epoch_score(events((2.125, 4.125)), [], 10).targets == 8


@pytest.mark.parametrize("duration, n_epochs", [(10.0, 40), (10.1, 40), (10.125, 41), (0.1, 0)])
def test_epoch_centres_run_to_the_end_of_the_recording(duration, n_epochs):
    # A seizure over the whole recording: every epoch centre <= duration is a target.
    assert epoch_score(events((0, duration)), [], duration).targets == n_epochs


# ---------------------------------------------------------------------------- FA/24h, pooling

def test_nedc_pools_counts_then_computes_rates():
    # 1 h with one FA and 23 h with none: 1 FA over 24 h is 1.0 per 24 h (not the 12 that the
    # mean of the per-file rates, 24 and 0, would give). Sensitivity from summed hits: 1 of 2.
    first = ovlp_score(events((10, 20)), events((10, 20), (100, 110)), 3600)
    second = ovlp_score(events((10, 20)), [], 23 * 3600)
    pooled = pool_scores([first, second])
    assert counts(pooled) == (2, 1, 1, 1) and pooled.duration == 86400
    assert_rates(pooled, (0.5, 0.5, 0.5, 1.0))


def test_epoch_pooling_keeps_false_alarm_seconds():
    first, second = epoch_score(events((2, 4)), events((3, 5)), 10), epoch_score([], [], 30)
    pooled = pool_scores([first, second])
    # 4 FA epochs * 0.25 s over 40 s.
    assert pooled.false_alarms_per_24h == pytest.approx(4 * 0.25 / 40 * 86400)


def test_pool_refuses_mixed_scorers_and_nothing():
    with pytest.raises(ScoringError):
        pool_scores([ovlp_score([], [], 10), taes_score([], [], 10)])
    with pytest.raises(ScoringError):
        pool_scores([])


# -------------------------------------------------------------------------------- SzCORE

HOUR = 3600.0


@pytest.mark.parametrize("hyp, tp, fp", [
    ((700, 720), 1, 0),   # starts 40 s after the ref ends: inside the 60 s tolerance
    ((730, 740), 0, 1),   # 70 s after: outside
    ((560, 580), 1, 0),   # ends 20 s before onset: inside the 30 s tolerance
    ((540, 560), 0, 1),   # ends 40 s before: outside
])
def test_szcore_tolerance_30_s_before_and_60_s_after(hyp, tp, fp):
    score = szcore_event_score(events((600, 660)), events(hyp), HOUR)
    assert (score.targets, score.hits, score.false_alarms) == (1, tp, fp)


def test_szcore_merges_events_closer_than_90_s():
    # Hyps 70 s apart are one false alarm; 100 s apart, two.
    assert szcore_event_score([], events((1000, 1010), (1080, 1090)), HOUR).false_alarms == 1
    assert szcore_event_score([], events((1000, 1010), (1110, 1120)), HOUR).false_alarms == 2


def test_szcore_splits_events_longer_than_300_s():
    # A 700 s hyp alone: pieces of 300, 300 and 100 s, three false alarms.
    assert szcore_event_score([], events((2000, 2700)), HOUR).false_alarms == 3
    # A 700 s ref: three targets; the extended first piece [1970, 2360] holds the hyp 2010-2020,
    # the others ([2270, 2660], [2570, 2760]) do not: 1 hit, 2 misses, sensitivity 1/3.
    score = szcore_event_score(events((2000, 2700)), events((2010, 2020)), HOUR)
    assert counts(score) == (3, 1, 2, 0)
    assert score.sensitivity == pytest.approx(1 / 3)


def test_szcore_empty_hypothesis_and_no_reference_seizure_follow_timescoring():
    empty = szcore_event_score(events((600, 660)), [], HOUR)
    assert counts(empty) == (1, 0, 1, 0)
    assert math.isnan(empty.precision) and (empty.sensitivity, empty.f1, empty.false_alarms_per_24h) == (0, 0, 0)
    no_seizure = szcore_event_score([], events((600, 660)), HOUR)
    # F1 = 2TP / (2TP + FP + FN) = 0 / 1; one FA in 1 h is 24 per day.
    assert math.isnan(no_seizure.sensitivity)
    assert (no_seizure.precision, no_seizure.f1, no_seizure.false_alarms_per_24h) == (0, 0, 24)
    nothing = szcore_event_score([], [], HOUR)
    assert all(math.isnan(value) for value in rates(nothing)[:3]) and nothing.false_alarms_per_24h == 0


def test_szcore_sample_scoring_counts_seconds():
    # Ref 600-660, hyp 630-690 on the 1 Hz grid: 30 s in both, 30 s hyp only, 60 s ref.
    # F1 = 2*30 / (60 + 30 + 30) = 0.5; FA/24h = 30 / 3600 * 86400 = 720.
    score = szcore_sample_score(events((600, 660)), events((630, 690)), HOUR)
    assert counts(score) == (60, 30, 30, 30)
    assert_rates(score, (0.5, 0.5, 0.5, 720))


def test_szcore_masks_floor_times_to_whole_seconds():
    # epilepsy2bids' getMask: samples int(600.7) .. int(660.2) - 1, i.e. 600 .. 659.
    mask = events_to_mask(events((600.7, 660.2)), 3600.9)
    assert len(mask) == 3600 and mask.sum() == 60 and mask[600] and mask[659] and not mask[660]
    assert szcore_sample_score(events((600.7, 660.2)), [], 3600.9).targets == 60


def test_szcore_parameters_are_timescorings_defaults():
    defaults = vars(timescoring.EventScoring.Parameters())
    assert {name: float(value) for name, value in defaults.items()} == SZCORE_EVENT_PARAMETERS


def _random_events(rng, duration):
    onsets = np.sort(rng.uniform(0, duration - 1, size=rng.integers(0, 7)))
    return [Event(onset, min(rng.choice([rng.uniform(1, 30), rng.uniform(30, 700)]), duration - onset))
            for onset in onsets]


def _timescoring_mask(event_list, duration):
    # szcore-evaluation: Annotations.getMask(1) -> mask[int(onset):int(onset + duration)] = 1.
    mask = np.zeros(int(duration))
    for event in event_list:
        mask[int(event.onset):int(event.onset + event.duration)] = 1
    return mask


def test_szcore_agrees_with_timescoring_called_directly():
    rng = np.random.default_rng(7)
    ours, theirs = {"szcore": [], "szcore_sample": []}, {"szcore": [], "szcore_sample": []}
    for _ in range(40):
        duration = float(rng.choice([600.0, 3600.5, 7200.0]))
        reference, hypothesis = _random_events(rng, duration), _random_events(rng, duration)
        ref = Annotation(_timescoring_mask(reference, duration), 1)
        hyp = Annotation(_timescoring_mask(hypothesis, duration), 1)
        direct = {"szcore": timescoring.EventScoring(ref, hyp), "szcore_sample": timescoring.SampleScoring(ref, hyp)}
        for name, score in score_events(reference, hypothesis, duration, ("szcore", "szcore_sample")).items():
            expected = direct[name]
            assert (score.targets, score.hits, score.false_alarms) == (expected.refTrue, expected.tp, expected.fp)
            np.testing.assert_allclose(rates(score), (expected.sensitivity, expected.precision, expected.f1,
                                                      expected.fpRate), rtol=1e-12)
            ours[name].append(score)
            theirs[name].append(expected)
    # Pooled as szcore-evaluation's Result sums tp, fp, refTrue and samples, then computeScores.
    for name in ours:
        tp, fp, ref_true = (sum(getattr(s, field) for s in theirs[name]) for field in ("tp", "fp", "refTrue"))
        seconds = sum(s.numSamples / s.fs for s in theirs[name])
        pooled = pool_scores(ours[name])
        np.testing.assert_allclose(rates(pooled), (tp / ref_true, tp / (tp + fp), 2 * tp / (tp + fp + ref_true),
                                                   fp / seconds * 86400), rtol=1e-12)


def test_subject_average_is_the_mean_over_subjects_of_pooled_rates():
    # Subject a: two recordings pooled, 1 of 2 seizures found -> sensitivity 0.5;
    # subject b: 1 of 1 -> 1.0; subject c has no seizure (NaN) and is left out.
    scores = [szcore_event_score(events((600, 660)), events((600, 660)), HOUR),
              szcore_event_score(events((600, 660)), [], HOUR),
              szcore_event_score(events((600, 660)), events((610, 620)), HOUR),
              szcore_event_score([], [], HOUR)]
    summary = subject_average(scores, ["a", "a", "b", "c"])
    assert summary["subjects"] == 3
    assert summary["sensitivity"] == pytest.approx(0.75) and summary["sensitivity_std"] == pytest.approx(0.25)
    assert summary["false_alarms_per_24h"] == 0


# ------------------------------------------------------------------------ masks, arguments

def test_mask_round_trip():
    mask = np.array([0, 0, 1, 1, 1, 0, 1, 0, 0, 1], dtype=bool)
    found = mask_to_events(mask, fs=4)
    assert [(e.onset, e.stop) for e in found] == [(0.5, 1.25), (1.5, 1.75), (2.25, 2.5)]
    np.testing.assert_array_equal(events_to_mask(found, 2.5, fs=4), mask)


def test_bad_arguments_raise_scoring_errors():
    assert issubclass(ScoringError, KerasSeizureError) and issubclass(ScoringError, ValueError)
    with pytest.raises(ScoringError, match="negative"):
        Event(-1, 5)
    with pytest.raises(ScoringError, match="not positive"):
        Event(1, -5)
    with pytest.raises(ScoringError, match="ends after the end of the recording"):
        ovlp_score(events((10, 120)), [], 100)
    with pytest.raises(ScoringError, match="unknown scorer"):
        score_events([], [], 100, scorers=("ovlp", "nedc"))
    with pytest.raises(ScoringError, match="duration"):
        taes_score([], [], 0)
    with pytest.raises(ScoringError, match="Event objects"):
        epoch_score([(1, 2)], [], 10)


def test_score_events_runs_every_scorer_by_default():
    assert tuple(score_events(events((10, 20)), events((10, 20)), 100)) == SCORERS
