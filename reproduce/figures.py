"""Figures the tables write: confusion matrices, per-class F1, learning curves, example inputs.

Each function returns a matplotlib Figure (Agg backend, no display needed) for `write_results`.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def confusion_matrix_figure(confusion, class_names, title, normalize=True):
    """A confusion matrix (rows: true class, columns: predicted), row-normalised by default."""
    confusion = np.asarray(confusion, dtype=float)
    shown = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1) if normalize else confusion
    figure, axis = plt.subplots(figsize=(1.0 + 0.6 * len(class_names), 0.8 + 0.6 * len(class_names)))
    image = axis.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    axis.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    axis.set_yticks(range(len(class_names)), class_names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title, fontsize=10)
    for (i, j), value in np.ndenumerate(confusion):
        axis.text(j, i, f"{int(value)}", ha="center", va="center", fontsize=7,
                  color="white" if shown[i, j] > 0.5 else "black")
    figure.colorbar(image, ax=axis, fraction=0.046)
    return figure


def per_class_f1_figure(f1_by_model, class_names, title):
    """Grouped bars of per-class F1, one group per class and one bar per model.

    Args:
        f1_by_model: {model name: sequence of per-class F1 in class order}.
    """
    figure, axis = plt.subplots(figsize=(max(6, 1.2 * len(class_names)), 3.5))
    width = 0.8 / max(len(f1_by_model), 1)
    positions = np.arange(len(class_names))
    for k, (name, scores) in enumerate(f1_by_model.items()):
        axis.bar(positions + k * width - 0.4 + width / 2, scores, width, label=name)
    axis.set_xticks(positions, class_names)
    axis.set_ylim(0, 1)
    axis.set_ylabel("F1")
    axis.set_title(title, fontsize=10)
    axis.legend(fontsize=7, ncol=2)
    return figure


def learning_curves_figure(histories, title):
    """Training and validation loss per epoch for several runs.

    Args:
        histories: {run name: DataFrame or dict with "loss" and optionally "val_loss" per epoch}
            (fit writes history.csv in each run folder).
    """
    figure, axis = plt.subplots(figsize=(6, 3.5))
    for name, history in histories.items():
        loss = np.asarray(history["loss"], dtype=float)
        line, = axis.plot(np.arange(1, len(loss) + 1), loss, label=f"{name} train")
        if "val_loss" in history:
            axis.plot(np.arange(1, len(loss) + 1), np.asarray(history["val_loss"], dtype=float), "--",
                      color=line.get_color(), label=f"{name} validation")
    axis.set_xlabel("epoch")
    axis.set_ylabel("loss")
    axis.set_title(title, fontsize=10)
    axis.legend(fontsize=7)
    return figure


def eeg_examples_figure(examples, fs, channel_names, title, max_channels=8):
    """Raw EEG traces, one panel per class.

    Args:
        examples: {class name: float array [channels, time]}.
        fs: sampling rate in Hz.
        channel_names: names of the channels (the first `max_channels` are drawn).
    """
    figure, axes = plt.subplots(1, len(examples), figsize=(3.2 * len(examples), 3.2), squeeze=False)
    for axis, (name, signals) in zip(axes[0], examples.items()):
        signals = np.asarray(signals)[:max_channels]
        spread = 4 * np.nanstd(signals) + 1e-9
        t = np.arange(signals.shape[1]) / fs
        for i, trace in enumerate(signals):
            axis.plot(t, trace - i * spread, lw=0.5, color="black")
        axis.set_yticks([-i * spread for i in range(len(signals))], channel_names[:len(signals)], fontsize=6)
        axis.set_xlabel("s")
        axis.set_title(name, fontsize=9)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def image_examples_figure(examples, title, channel_titles=None):
    """Image-like inputs (spectrogram images, SES maps), one row per class, one column per map.

    Args:
        examples: {class name: float array [height, width, maps]}.
        channel_titles: names of the maps (columns).
    """
    n_maps = max(np.asarray(image).shape[-1] for image in examples.values())
    figure, axes = plt.subplots(len(examples), n_maps, figsize=(2.6 * n_maps, 2.0 * len(examples)),
                                squeeze=False)
    for row, (name, image) in zip(axes, examples.items()):
        image = np.asarray(image)
        for k, axis in enumerate(row):
            axis.imshow(image[..., k], aspect="auto", origin="lower", cmap="magma")
            axis.set_xticks([])
            axis.set_yticks([])
            if k == 0:
                axis.set_ylabel(name, fontsize=8)
            if channel_titles is not None and row is axes[0]:
                axis.set_title(channel_titles[k], fontsize=8)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def grouped_bars_figure(values_by_model, class_names, title, ylabel, ylim=None):
    """Grouped bars of any per-class quantity (e.g. per-class KL), one bar per model.

    Args:
        values_by_model: {model name: sequence of values in class order}.
        class_names: the groups' labels.
        ylabel: the quantity's name.
        ylim: (low, high) or None (automatic).
    """
    figure, axis = plt.subplots(figsize=(max(6, 1.2 * len(class_names)), 3.5))
    width = 0.8 / max(len(values_by_model), 1)
    positions = np.arange(len(class_names))
    for k, (name, values) in enumerate(values_by_model.items()):
        axis.bar(positions + k * width - 0.4 + width / 2, values, width, label=name)
    axis.set_xticks(positions, class_names)
    if ylim is not None:
        axis.set_ylim(*ylim)
    axis.set_ylabel(ylabel)
    axis.set_title(title, fontsize=10)
    axis.legend(fontsize=7, ncol=2)
    return figure
