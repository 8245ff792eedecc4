"""Calibration and verification data of `kerasseizure.export.tflite.export`, as per-input arrays.

`export` accepts an array (batch, ...), a list or dict of arrays for multi-input models, an
(x, y[, sample_weight]) tuple, an iterable of batches or (x, y) pairs, or a tf.data.Dataset of
batches. These helpers turn any of them into one float32 array per model input (in
`model.inputs` order) plus the labels: `gather` (the verification set, up to a sample budget) and
`representative_generator` (the int8 calibration samples, one at a time).
"""

import numpy as np


def input_names(model):
    return [t.name for t in model.inputs]


def _is_dataset(data):
    try:
        import tensorflow as tf
    except ImportError:  # pragma: no cover - export always runs with TF
        return False
    return isinstance(data, tf.data.Dataset)


def _split_xy(element):
    if isinstance(element, tuple) and len(element) in (2, 3):
        return element[0], element[1]
    return element, None


def _as_input_list(x, model):
    """One array per model input, in `model.inputs` order."""
    names = input_names(model)
    if isinstance(x, dict):
        missing = set(names) - set(x)
        if missing:
            raise ValueError(f"inputs {sorted(missing)} missing; the model reads {names}")
        arrays = [x[name] for name in names]
    elif isinstance(x, (list, tuple)):
        arrays = list(x)
    else:
        arrays = [x]
    if len(arrays) != len(names):
        raise ValueError(f"{len(arrays)} input array(s) for a model reading {names}")
    arrays = [np.asarray(a, dtype=np.float32) for a in arrays]
    for name, array, tensor in zip(names, arrays, model.inputs):
        expected = tuple(tensor.shape[1:])
        if array.shape[1:] == expected:
            continue
        if array.shape == expected:  # a single unbatched example
            continue
        raise ValueError(f"input {name} must be (batch, {expected}), got {array.shape}")
    return [a[None] if a.shape == tuple(t.shape[1:]) else a for a, t in zip(arrays, model.inputs)]


def _is_one_batch(data, model):
    """True for an array, a dict of arrays, an (x, y[, w]) tuple, or a list of one array per input."""
    if isinstance(data, (np.ndarray, dict, tuple)):
        return True
    return (isinstance(data, list) and len(data) == len(model.inputs) > 1
            and all(isinstance(a, np.ndarray) and a.shape[1:] == tuple(t.shape[1:])
                    for a, t in zip(data, model.inputs)))


def _iterate_batches(data, model):
    """Yield (list of input arrays, labels or None) from arrays, (x, y), iterables or tf.data.

    A tuple is (x, y) or (x, y, sample_weight); a list is one array per input of a multi-input
    model, or else an iterable of batches.
    """
    if data is None:
        return
    if _is_dataset(data):
        iterable = data.as_numpy_iterator()
    elif _is_one_batch(data, model):
        iterable = [data]
    else:
        iterable = data
    for element in iterable:
        x, y = _split_xy(element)
        yield _as_input_list(x, model), (None if y is None else np.asarray(y))


def gather(data, model, max_samples):
    inputs, labels, count = None, [], 0
    for arrays, y in _iterate_batches(data, model):
        take = min(len(arrays[0]), max_samples - count)
        if take <= 0:
            break
        inputs = [a[:take] for a in arrays] if inputs is None else [
            np.concatenate([old, a[:take]]) for old, a in zip(inputs, arrays)]
        labels.append(None if y is None else y[:take])
        count += take
    if inputs is None:
        return None, None
    labels = None if any(y is None for y in labels) else np.concatenate(labels)
    return inputs, labels


def representative_generator(data, model, max_samples):
    names = input_names(model)

    def generator():
        count = 0
        for arrays, _ in _iterate_batches(data, model):
            for i in range(len(arrays[0])):
                if count >= max_samples:
                    return
                samples = [a[i : i + 1] for a in arrays]
                yield samples if len(names) == 1 else dict(zip(names, samples))
                count += 1

    return generator
