"""Training data whose order and augmentation depend only on (seed, epoch), and the seeds.

`epoch_seed(seed, epoch)` derives every per-epoch seed; `EpochData` shuffles and augments arrays
or an unbatched tf.data.Dataset from it; `as_epoch_source` wraps every data form `fit` accepts
into an object with `.dataset(epoch, seed, global_batch_size)`. TensorFlow is imported on use.
"""

import keras
import numpy as np

from kerasseizure.errors import KerasSeizureError
from kerasseizure.training import strategies as strategies_lib


class FitConfigError(KerasSeizureError, ValueError):
    """`fit` was called with inconsistent arguments."""


def epoch_seed(seed, epoch):
    """A 31-bit seed derived from (seed, epoch) only.

    Args:
        seed: the run's seed (non-negative int).
        epoch: 0-based epoch index.
    """
    return int(np.random.SeedSequence([int(seed), int(epoch)]).generate_state(1)[0] & 0x7FFFFFFF)


def seed_everything(seed, deterministic=False):
    """Seed python, numpy, TensorFlow and Keras' global RNGs; optionally force op determinism.

    Args:
        seed: int seed.
        deterministic: also call `tf.config.experimental.enable_op_determinism()` (process-wide,
            cannot be undone; slower on GPU, and some GPU ops then raise).
    """
    keras.utils.set_random_seed(int(seed))
    if deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def _tf():
    import tensorflow as tf

    return tf


class EpochData:
    """Training data whose order and augmentation depend only on (seed, epoch).

    Args:
        data: numpy arrays (x, y[, sample_weight]) (x may be a dict / list of arrays) or an
            UNBATCHED tf.data.Dataset of (x, y[, w]) elements.
        shuffle: shuffle each epoch.
        buffer_size: shuffle buffer for a Dataset (None = its cardinality, i.e. a full shuffle;
            required when the cardinality is unknown). Arrays are always fully shuffled.
        augment: optional callable (element, seed) -> element, with `seed` an int32 tensor of
            shape (2,) unique to (seed, epoch, element position); use stateless random ops.
        drop_remainder: drop the last incomplete batch (forced under multi-replica strategies).
    """

    def __init__(self, data, *, shuffle=True, buffer_size=None, augment=None, drop_remainder=False):
        self.data = data
        self.shuffle = bool(shuffle)
        self.buffer_size = buffer_size
        self.augment = augment
        self.drop_remainder = bool(drop_remainder)

    def _elements(self, order_seed):
        tf = _tf()
        if isinstance(self.data, tf.data.Dataset):
            ds = self.data
            if self.shuffle:
                buffer = self.buffer_size or int(ds.cardinality())
                if buffer <= 0:
                    raise FitConfigError("EpochData: give buffer_size for a dataset of unknown cardinality")
                ds = ds.shuffle(buffer, seed=order_seed, reshuffle_each_iteration=False)
            return ds
        arrays = tuple(self.data) if isinstance(self.data, list) else self.data
        n = len(keras.tree.flatten(arrays)[0])
        order = np.random.default_rng(order_seed).permutation(n) if self.shuffle else np.arange(n)
        return tf.data.Dataset.from_tensor_slices(keras.tree.map_structure(lambda a: np.asarray(a)[order], arrays))

    def dataset(self, epoch, seed, global_batch_size, drop_remainder=False):
        """The batched dataset of one epoch.

        Args:
            epoch: 0-based epoch.
            seed: the run's seed.
            global_batch_size: batch size over all replicas.
            drop_remainder: force dropping the last incomplete batch.
        """
        tf = _tf()
        order_seed = epoch_seed(seed, epoch)
        ds = self._elements(order_seed)
        if self.augment is not None:
            augment = self.augment

            def _apply(index, element):
                element_seed = tf.stack([tf.constant(order_seed, tf.int64), index])
                return augment(element, tf.cast(element_seed % 0x7FFFFFFF, tf.int32))

            ds = ds.enumerate().map(_apply, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        ds = ds.batch(int(global_batch_size), drop_remainder=self.drop_remainder or drop_remainder)
        return ds.prefetch(tf.data.AUTOTUNE)


class _FixedData:
    """A batched tf.data.Dataset used unchanged every epoch."""

    def __init__(self, dataset):
        self.data = dataset

    def dataset(self, epoch, seed, global_batch_size, drop_remainder=False):
        return self.data


class _CallableData:
    """A user factory (epoch, seed, global_batch_size) -> batched Dataset."""

    def __init__(self, factory):
        self.factory = factory

    def dataset(self, epoch, seed, global_batch_size, drop_remainder=False):
        return self.factory(epoch, seed, global_batch_size)


def as_epoch_source(data, shuffle=True):
    """Wrap any accepted data form into an object with `.dataset(epoch, seed, global_batch)`.

    Args:
        data: numpy arrays, EpochData, batched tf.data.Dataset or factory callable.
        shuffle: shuffle numpy arrays per epoch (ignored for the other forms).
    """
    tf = _tf()
    if isinstance(data, (EpochData, _FixedData, _CallableData)):
        return data
    if isinstance(data, tf.data.Dataset):
        return _FixedData(data)
    if callable(data):
        return _CallableData(data)
    if isinstance(data, (tuple, list, dict, np.ndarray)):
        return EpochData(data, shuffle=shuffle)
    raise FitConfigError(f"unsupported data type {type(data).__name__}")


def _validation_dataset(validation_data, seed, global_batch_size, strategy):
    if validation_data is None:
        return None
    source = validation_data
    if isinstance(source, EpochData):
        source = EpochData(source.data, shuffle=False)
    ds = as_epoch_source(source, shuffle=False).dataset(0, seed, global_batch_size)
    return strategies_lib.shard_options(ds, strategy)
