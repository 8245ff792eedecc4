"""Annotator votes of the HMS labels: vote counts, plausible confusions between patterns."""

import numpy as np

from kerasseizure.io.labels import HMS_CLASSES

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


def annotator_noise(n_votes):
    """The share of annotators who pick a plausible confusion of what they saw: fewer for the
    >= 10-vote segments (the experts who also labelled the test set) than for the 1-7-vote ones."""
    return 0.12 if n_votes >= 10 else 0.25


def vote_distribution(kind, second_kind=None, mix=1.0, noise=0.2):
    """The probabilities, in HMS_CLASSES order, with which one simulated annotator votes for each class.

    Each annotator sees pattern `kind` with probability `mix` and `second_kind` otherwise (the
    ambiguous cases), and with probability `noise` picks a plausible confusion of what they saw
    (`PATTERN_CONFUSIONS`). A model that predicts this distribution scores the lowest expected KL
    the corpus allows: the truth row of the synthetic tables.
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
    return probs / probs.sum()


def annotator_votes(rng, kind, n_votes, second_kind=None, mix=1.0, noise=0.2):
    """Votes of `n_votes` simulated annotators, in HMS_CLASSES order (ints summing to n_votes),
    drawn from `vote_distribution(kind, second_kind, mix, noise)`."""
    return rng.multinomial(n_votes, vote_distribution(kind, second_kind, mix, noise))
