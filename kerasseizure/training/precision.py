"""Numeric precision policies (float32, mixed_float16, mixed_bfloat16) and their contract.

Contract: a Keras dtype policy is read when a layer is CREATED. Build models inside
`precision_scope(policy)` (or after `set_precision(policy)`), never before. `fit()` does this for
you when given a model builder. `keras.backend.clear_session()` resets the global policy to
float32; call this module's `clear_session()` instead, which re-applies the policy in force.

Whatever the policy, variables stay float32 and the package's models end in a float32 logits
layer, so losses and metrics are computed in float32. Under mixed_float16 Keras wraps the
optimizer in a `LossScaleOptimizer` at `compile` time.

"auto" picks mixed_float16 on a CUDA GPU, mixed_bfloat16 on a TPU and float32 on CPU. CPU does
not get bfloat16 under "auto": without AMX / AVX512-BF16 units it is usually slower than float32
on CPU, and the 8-bit mantissa changes results, so runs on a laptop would silently differ from the
float32 reference. Ask for "mixed_bfloat16" explicitly to use it on CPU.
"""

import contextlib

import keras

from kerasseizure.errors import KerasSeizureError

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")


class PrecisionError(KerasSeizureError, ValueError):
    """An unknown precision policy was requested."""


def _has_tpu():
    """True when TensorFlow sees a TPU device (without initialising any)."""
    import tensorflow as tf

    try:
        return bool(tf.config.list_logical_devices("TPU"))
    except RuntimeError:
        return False


def _has_cuda_gpu():
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU")) and tf.test.is_built_with_cuda()


def resolve_precision(policy="auto"):
    """Map a policy request to a concrete Keras policy name.

    Args:
        policy: "float32", "mixed_float16", "mixed_bfloat16" or "auto" (see module docstring).

    Returns:
        one of POLICIES.
    """
    if policy == "auto":
        if _has_cuda_gpu():
            return "mixed_float16"
        if _has_tpu():
            return "mixed_bfloat16"
        return "float32"
    if policy not in POLICIES:
        raise PrecisionError(f"unknown precision {policy!r}: use one of {POLICIES + ('auto',)}")
    return policy


def set_precision(policy="auto"):
    """Set the global Keras dtype policy; returns the concrete policy name applied.

    Args:
        policy: "float32", "mixed_float16", "mixed_bfloat16" or "auto".
    """
    name = resolve_precision(policy)
    keras.mixed_precision.set_dtype_policy(name)
    return name


def current_precision():
    """The name of the global Keras dtype policy now in force."""
    return keras.mixed_precision.dtype_policy().name


@contextlib.contextmanager
def precision_scope(policy="auto"):
    """Apply `policy` inside the block and restore the previous global policy afterwards.

    Models must be built inside the block to get the policy.

    Args:
        policy: "float32", "mixed_float16", "mixed_bfloat16" or "auto".

    Yields:
        the concrete policy name.
    """
    previous = current_precision()
    name = set_precision(policy)
    try:
        yield name
    finally:
        keras.mixed_precision.set_dtype_policy(previous)


def clear_session(free_memory=True):
    """`keras.backend.clear_session()` that keeps the dtype policy in force.

    Args:
        free_memory: forwarded to Keras (runs the garbage collector).

    Returns:
        the policy name re-applied.
    """
    name = current_precision()
    keras.backend.clear_session(free_memory=free_memory)
    keras.mixed_precision.set_dtype_policy(name)
    return name
