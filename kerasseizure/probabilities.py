"""Class-probability arrays in NumPy: softmax of logits, row renormalisation, model averaging.

Shared by the TF-free LiteRT runtime, export verification and the HMS scoring, so it imports
nothing but NumPy and SciPy. (`kerasseizure.kaggle` validates submission rows on top of these rules.)
"""

import numpy as np
import scipy.special


def softmax(logits, axis=-1, dtype=np.float64):
    """`scipy.special.softmax` (max-shifted, stable) computed in float64, returned as `dtype`.

    >>> softmax(np.array([[0.0, np.log(3.0)]])).round(2).tolist()
    [[0.25, 0.75]]
    """
    return scipy.special.softmax(np.asarray(logits, dtype=np.float64), axis=axis).astype(dtype)


def renormalise(probabilities):
    """Rows (n, classes) divided by their sums (float64)."""
    p = np.asarray(probabilities, dtype=np.float64)
    return p / p.sum(axis=1, keepdims=True)


def average_probabilities(*probabilities):
    """Mean of several models' (n, classes) probabilities, rows renormalised (the HMS "both")."""
    if not probabilities:
        raise ValueError("average_probabilities needs at least one array")
    return renormalise(np.stack([np.asarray(p, dtype=np.float64) for p in probabilities]).mean(axis=0))
