"""tf.distribute strategies for `fit`: default, mirrored (one host), multi-worker, TPU.

Keras 3 (TensorFlow backend) records `tf.distribute.get_strategy()` when a model is created and
distributes every dataset handed to `fit` / `evaluate` with it. Hence the rule: build AND compile
the model under `strategy.scope()`. `fit()` does this when given a model builder.

Batch sizes: `fit(batch_size=...)` is per replica; the global batch is
per-replica x `strategy.num_replicas_in_sync` (`global_batch_size`). Multi-worker datasets get
the auto-shard policy DATA (`shard_options`): every worker reads the same files and keeps its
share of the elements, which works for any pipeline (file-level sharding needs at least as many
files as workers). Every worker must run the same number of steps, so training batches drop the
remainder under any multi-replica strategy.

Multi-worker runs read the cluster from the TF_CONFIG environment variable; the chief (or worker
0 when there is no chief) writes the run folder, the others write to a `worker-<i>` sub-folder.

Keras 3.15's TensorFlow trainer cannot run `model.fit` / `evaluate` under a MultiWorkerMirroredStrategy
spanning several workers as it is; `adapt_model_for_strategy` applies a per-model fix (see there).
"""

import json
import os

from kerasseizure.errors import KerasSeizureError

KINDS = ("default", "mirrored", "multiworker", "tpu")


class StrategyError(KerasSeizureError, ValueError):
    """A strategy cannot be created as asked (unknown kind, no TPU, bad TF_CONFIG)."""


def make_strategy(kind="default", *, devices=None, tpu="", communication="auto"):
    """Create a tf.distribute strategy.

    Args:
        kind: "default" (no distribution), "mirrored" (all local GPUs, or `devices`),
            "multiworker" (MultiWorkerMirroredStrategy from TF_CONFIG) or "tpu".
        devices: device names for "mirrored" (e.g. ["/cpu:0", "/cpu:1"]); None = all GPUs.
        tpu: TPU address / name for "tpu" ("" = the local TPU, e.g. on Kaggle or Colab).
        communication: collective implementation for "multiworker": "auto", "ring" or "nccl".

    Returns:
        a `tf.distribute.Strategy`.
    """
    import tensorflow as tf

    if kind == "default":
        return tf.distribute.get_strategy()
    if kind == "mirrored":
        return tf.distribute.MirroredStrategy(devices=devices)
    if kind == "multiworker":
        implementations = {
            "auto": tf.distribute.experimental.CommunicationImplementation.AUTO,
            "ring": tf.distribute.experimental.CommunicationImplementation.RING,
            "nccl": tf.distribute.experimental.CommunicationImplementation.NCCL,
        }
        if communication not in implementations:
            raise StrategyError(f"unknown communication {communication!r}: use {sorted(implementations)}")
        options = tf.distribute.experimental.CommunicationOptions(implementation=implementations[communication])
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    if kind == "tpu":
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except (ValueError, RuntimeError, tf.errors.OpError) as error:
            raise StrategyError(f"no TPU could be initialised ({error})") from error
        return tf.distribute.TPUStrategy(resolver)
    raise StrategyError(f"unknown strategy {kind!r}: use one of {KINDS}")


def resolve_strategy(strategy=None):
    """A strategy object from None, a kind name or a strategy (returned unchanged).

    Args:
        strategy: None (the current default), one of KINDS, or a tf.distribute.Strategy.
    """
    import tensorflow as tf

    if strategy is None:
        return tf.distribute.get_strategy()
    if isinstance(strategy, str):
        return make_strategy(strategy)
    return strategy


def replicas(strategy):
    """Number of replicas kept in sync by `strategy` (1 for the default strategy)."""
    return int(strategy.num_replicas_in_sync)


def global_batch_size(per_replica_batch_size, strategy):
    """Per-replica batch size x number of replicas."""
    return int(per_replica_batch_size) * replicas(strategy)


def is_multi_worker(strategy):
    """True for a MultiWorkerMirroredStrategy (or a TPU pod) spanning several hosts."""
    extended = getattr(strategy, "extended", None)
    return bool(getattr(extended, "_in_multi_worker_mode", lambda: False)())


def task_identity(environ=None):
    """(task_type, task_index) from TF_CONFIG, or ("chief", 0) when there is no cluster.

    Args:
        environ: mapping to read TF_CONFIG from (os.environ by default).
    """
    environ = os.environ if environ is None else environ
    raw = environ.get("TF_CONFIG")
    if not raw:
        return "chief", 0
    try:
        config = json.loads(raw)
        task = config.get("task", {})
        return str(task.get("type", "worker")), int(task.get("index", 0))
    except (ValueError, TypeError, AttributeError) as error:
        raise StrategyError(f"TF_CONFIG is not valid JSON with a task entry: {error}") from error


def is_chief(strategy=None, environ=None):
    """True on the process that owns the run folder.

    Args:
        strategy: the strategy in use (single-host strategies are always chief).
        environ: mapping to read TF_CONFIG from (os.environ by default).
    """
    if strategy is not None and not is_multi_worker(strategy):
        return True
    environ = os.environ if environ is None else environ
    task_type, task_index = task_identity(environ)
    if task_type == "chief":
        return True
    raw = environ.get("TF_CONFIG")
    has_chief = bool(raw) and "chief" in json.loads(raw).get("cluster", {})
    return task_type == "worker" and task_index == 0 and not has_chief


def gather_ints(strategy, values):
    """All workers' integer `values` (a collective: every worker must call it at the same point).

    Args:
        strategy: the strategy in use.
        values: list of ints, the same length on every worker.

    Returns:
        list of lists: one row per replica (the rows of one worker's replicas are equal).
    """
    import tensorflow as tf

    local = tf.constant([list(map(int, values))], tf.int64)
    gathered = strategy.gather(local, axis=0) if is_multi_worker(strategy) else local
    return [list(map(int, row)) for row in gathered.numpy()]


def shard_options(dataset, strategy):
    """Give `dataset` the auto-shard policy DATA under a multi-worker strategy (else unchanged).

    Args:
        dataset: a tf.data.Dataset.
        strategy: the strategy the dataset will be distributed with.
    """
    import tensorflow as tf

    if not is_multi_worker(strategy):
        return dataset
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def adapt_model_for_strategy(model, strategy):
    """Let Keras 3.15's `model.fit` / `evaluate` run under a multi-worker strategy (else no-op).

    Two code paths of `keras/src/backend/tensorflow/trainer.py` (Keras 3.15) raise when the
    MultiWorkerMirroredStrategy spans more than one worker:

    1. `_maybe_symbolic_build` (start of every fit / evaluate) calls
       `strategy.reduce("MEAN", batch, axis=None)` on the whole nested (x, y) batch, only to learn
       its shapes and dtypes for `_symbolic_build`. The collective cross-device ops accept one
       value, not a nested structure ("Attempt to convert a value (PerReplica) ... to a Tensor").
       Replacement: build from the first LOCAL replica's batch, which has exactly the per-replica
       shapes and dtypes the reduced batch would have had, with no communication.
    2. `reduce_per_replica(..., "auto")` reduces each step's logs with
       `strategy.reduce("MEAN", v, axis=0)` in multi-worker mode, which raises for the scalar
       metric results ("`axis` = 0 out of range for `value` with rank 0"). Replacement: wrap
       `train_step` / `test_step` (Keras' public override points) so every log value gets a
       leading axis of length 1; the axis-0 mean is then the mean over all replicas of each
       replica's value, with the original shape. (Epoch logs are unaffected: Keras reads them
       from the metrics' sync-on-read variables, aggregated over all workers.)

    The overrides are attributes of this model instance only (nothing in Keras is patched) and
    are installed only when `is_multi_worker(strategy)`; MirroredStrategy, TPU and the default
    strategy use Keras unchanged. Call after `compile`; idempotent.

    Args:
        model: a compiled keras.Model created under `strategy.scope()`.
        strategy: the strategy it trains under.

    Returns:
        the same model.
    """
    import tensorflow as tf

    if not is_multi_worker(strategy) or getattr(model, "_kerasseizure_multi_worker", False):
        return model
    for name in ("_maybe_symbolic_build", "_symbolic_build", "train_step", "test_step"):
        if not hasattr(model, name):
            raise StrategyError(f"multi-worker training needs Keras' Trainer.{name} (checked with Keras 3.15)")

    def first_local(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    def maybe_symbolic_build(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, batches in iterator:  # same batch Keras would take (it resets the iterator after)
                data_batch = next(batches)
                break
        data_batch = tf.nest.map_structure(first_local, data_batch)
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)

    def with_replica_axis(step):
        def wrapped(data):
            return tf.nest.map_structure(lambda value: tf.expand_dims(value, 0), step(data))

        return wrapped

    model._maybe_symbolic_build = maybe_symbolic_build
    model.train_step = with_replica_axis(model.train_step)
    model.test_step = with_replica_axis(model.test_step)
    model.train_function = None  # rebuilt by Keras with the wrapped steps
    model.test_function = None
    model._kerasseizure_multi_worker = True
    return model
