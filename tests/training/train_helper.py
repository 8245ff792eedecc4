"""Subprocess entry point for the resume and distribution tests (not collected by pytest).

Usage: python train_helper.py MODE RUN_DIR OUT_NPZ [KILL_EPOCH KILL_BATCH]
MODE: "resume" (default strategy, optional hard kill), "mirrored" (2 logical CPUs),
"multiworker" (TF_CONFIG from the environment; MultiWorkerMirroredStrategy, ring collectives).
Environment: TRAIN_HELPER_EPOCHS (default 4) = epochs of the run.
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))


def configure_devices(mode):
    """Split the CPU into two logical devices before any TensorFlow op runs."""
    import tensorflow as tf

    if mode == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
        )


def data(n=96, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    labels = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int64") + (x[:, 2] > 1).astype("int64")
    votes = np.eye(3, dtype="float32")[labels] * 0.8 + 0.2 / 3
    return x, votes


def builder():
    import keras

    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    hidden = keras.layers.Dropout(0.3)(hidden)
    return keras.Model(inputs, keras.layers.Dense(3, dtype="float32")(hidden))


class HardKill:
    """Callback killing the process (no cleanup) at a given epoch and batch."""

    def __new__(cls, epoch, batch):
        import keras

        class _Kill(keras.callbacks.Callback):
            def on_train_batch_begin(self, b, logs=None):
                if self._epoch == epoch and b == batch:
                    os._exit(17)

            def on_epoch_begin(self, e, logs=None):
                self._epoch = e

        return _Kill()


def main(argv):
    mode, run_dir, out = argv[1], argv[2], argv[3]
    configure_devices(mode)
    import numpy as np
    from kerasseizure.training.fit import fit
    from kerasseizure.training.strategies import make_strategy

    x, y = data()
    callbacks = [HardKill(int(argv[4]), int(argv[5]))] if len(argv) > 5 else []
    strategy = make_strategy("default")
    if mode == "mirrored":
        strategy = make_strategy("mirrored", devices=["/cpu:0", "/cpu:1"])
    elif mode == "multiworker":
        strategy = make_strategy("multiworker", communication="ring")
    epochs = int(os.environ.get("TRAIN_HELPER_EPOCHS", 4))
    result = fit(
        builder, (x[:64], y[:64]), (x[64:], y[64:]), run_dir=run_dir, epochs=epochs,
        lr=[1e-2, 1e-2, 5e-3, 1e-3], batch_size=8, seed=3, strategy=strategy, callbacks=callbacks,
        tensorboard=False, plot=False,
    )
    predictions = result.model.predict(x[64:], verbose=0)
    weights = {f"w{i}": np.asarray(v) for i, v in enumerate(result.model.get_weights())}
    history = {f"h_{k}": np.asarray(v) for k, v in result.history.items()}
    np.savez(out, predictions=predictions, replicas=strategy.num_replicas_in_sync, **weights, **history)


if __name__ == "__main__":
    main(sys.argv)
