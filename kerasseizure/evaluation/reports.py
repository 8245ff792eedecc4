"""Reports of results: per-fold summaries and learning-curve figures."""

import math

import numpy as np

from kerasseizure.files import atomic_path


def summarise(fold_metrics):
    """Mean, standard deviation (ddof=0) and per-fold values of every scalar metric.

    Args:
        fold_metrics: sequence of {metric name: value} dicts, one per fold.
    """
    names = sorted({k for m in fold_metrics for k, v in m.items() if np.ndim(v) == 0})
    summary = {}
    for name in names:
        values = [float(m[name]) for m in fold_metrics if name in m]
        finite = [v for v in values if math.isfinite(v)]
        summary[name] = {
            "mean": float(np.mean(finite)) if finite else float("nan"),
            "std": float(np.std(finite)) if finite else float("nan"),
            "per_fold": values,
        }
    return summary



def gap_closed(value, reference, best):
    """The fraction of the distance from a reference to the best possible score that `value`
    covers, for a metric of either direction (KL, F1): (value - reference) / (best - reference);
    1 = as good as the best, 0 = no better than the reference, < 0 = worse. NaN where a figure is
    missing or there is no distance.

    >>> gap_closed(1.0, reference=1.5, best=0.5)  # a KL halfway from uniform to the truth
    0.5
    """
    values = [float(v) if v is not None else math.nan for v in (value, reference, best)]
    value, reference, best = values
    if not all(math.isfinite(v) for v in values) or best == reference:
        return math.nan
    return (value - reference) / (best - reference)


def plot_history(history, path, title=None):
    """Plot learning curves (each metric with its val_ twin) to a PNG file, atomically.

    Args:
        history: dict metric name -> list of per-epoch values.
        path: output .png path.
        title: optional figure title.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    bases = [k for k in history if not k.startswith("val_") and k not in ("epoch",)]
    bases = bases or [k[4:] for k in history if k.startswith("val_")]
    n = max(len(bases), 1)
    fig, axes = plt.subplots(1, n, figsize=(4 * n, 3.2), squeeze=False)
    for ax, base in zip(axes[0], bases):
        for key in (base, "val_" + base):
            values = history.get(key)
            if values:
                ax.plot(range(1, len(values) + 1), values, marker="o", label=key)
        ax.set_xlabel("epoch")
        ax.set_title(base)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
