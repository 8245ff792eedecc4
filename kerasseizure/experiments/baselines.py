"""Classical baselines of the TUSZ seizure-type benchmark (Roy et al. 2019) as sklearn pipelines.

The published benchmark (Roy, Asif, Tang, Harrer, "Machine learning for seizure type
classification: setting the benchmark", arXiv 1902.01012) trained k-NN, SGD, AdaBoost and
XGBoost on IBM's log-FFT features. Their hyperparameters could not be checked here (the paper
was not available to us), so every classifier keeps scikit-learn's defaults except where noted
below; XGBoost is replaced by sklearn's HistGradientBoostingClassifier (no extra dependency).

Each pipeline starts by flattening its input, so it accepts either per-window feature vectors
(n_windows, n_features) or IBM windows (n_windows, 20, fmax * wl). Scaling (StandardScaler) is
added for the distance- and gradient-based methods (k-NN, SGD); trees need none.
"""

from typing import NamedTuple

import numpy as np
from sklearn.ensemble import AdaBoostClassifier, HistGradientBoostingClassifier
from sklearn.linear_model import SGDClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from kerasseizure.errors import KerasSeizureError

PUBLISHED_SOURCE = "Roy et al. 2019, arXiv 1902.01012, via secondary sources"


class PublishedBaseline(NamedTuple):
    """A baseline's display name and its published seizure-wise weighted F1 (TUSZ)."""

    display_name: str
    published_weighted_f1: float
    source: str = PUBLISHED_SOURCE


# name -> (display name, published weighted F1 with seizure-wise 5-fold CV, source).
BASELINES = {
    "knn": PublishedBaseline("k-NN", 0.884),
    "sgd": PublishedBaseline("SGD", 0.649),
    "adaboost": PublishedBaseline("AdaBoost", 0.509),
    "gradient_boosting": PublishedBaseline(
        "gradient boosting (sklearn, in place of XGBoost)", 0.782),
}


class BaselineError(KerasSeizureError, ValueError):
    """An unknown baseline name or bad baseline settings."""


def flatten_windows(features):
    """Flatten everything after the first axis: (n, 20, F) -> (n, 20 * F); (n, d) is unchanged.

    Args:
        features: array with windows on the first axis.

    Returns:
        2-D array (n, prod(other axes)).

    Example:
        >>> flatten_windows(np.zeros((4, 20, 24))).shape
        (4, 480)
    """
    features = np.asarray(features)
    if features.ndim < 2:
        raise BaselineError(f"features need a window axis and feature axes; got {features.shape}")
    return features.reshape(features.shape[0], -1)


def make_baseline(name, seed=0, classifier_params=None):
    """A fresh, unfitted sklearn Pipeline for one benchmark baseline.

    Pipelines (flatten first, then):
        knn: StandardScaler -> KNeighborsClassifier (k = 5, Euclidean, uniform weights).
        sgd: StandardScaler -> SGDClassifier(loss="log_loss", random_state=seed); log loss
            rather than sklearn's default hinge so that predict_proba exists (seizure pooling).
        adaboost: AdaBoostClassifier (50 depth-1 trees, SAMME), random_state=seed.
        gradient_boosting: HistGradientBoostingClassifier, random_state=seed.

    Args:
        name: one of BASELINES ("knn", "sgd", "adaboost", "gradient_boosting").
        seed: random_state of the classifier; equal seeds give equal fitted models.
        classifier_params: optional dict of classifier parameters overriding the above.

    Returns:
        sklearn.pipeline.Pipeline with steps "flatten", ["scale",] "classifier".

    Example:
        >>> model = make_baseline("knn")
        >>> [step for step, _ in model.steps]
        ['flatten', 'scale', 'classifier']
    """
    if name not in BASELINES:
        raise BaselineError(f"unknown baseline {name!r}; choose one of {sorted(BASELINES)}")
    classifier = _classifier(name, seed)
    if classifier_params:
        try:
            classifier.set_params(**classifier_params)
        except ValueError as error:
            raise BaselineError(f"bad parameters for {name!r}: {error}") from error
    steps = [("flatten", FunctionTransformer(flatten_windows))]
    if name in ("knn", "sgd"):
        steps.append(("scale", StandardScaler()))
    steps.append(("classifier", classifier))
    return Pipeline(steps)


def _classifier(name, seed):
    if name == "knn":
        return KNeighborsClassifier(n_neighbors=5)
    if name == "sgd":
        return SGDClassifier(loss="log_loss", random_state=seed)
    if name == "adaboost":
        return AdaBoostClassifier(random_state=seed)
    return HistGradientBoostingClassifier(random_state=seed)
