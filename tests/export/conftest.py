import numpy as np
import pytest

INPUT_SHAPE = (8, 12, 3)
NUM_CLASSES = 4


def separable_task(n, seed):
    """Per class a sinusoid of its own frequency along the bins plus a shifted map, in noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, NUM_CLASSES, n)
    bins = np.arange(INPUT_SHAPE[1])
    phase = rng.uniform(0.0, 2.0 * np.pi, (n, 1, 1, 1))
    x = 1.5 * np.sin(2.0 * np.pi * (labels[:, None, None, None] + 1) * bins[None, None, :, None]
                     / INPUT_SHAPE[1] + phase)
    x = x + 0.5 * rng.standard_normal((n, *INPUT_SHAPE))
    x[np.arange(n), :, :, labels % 3] += np.where(labels >= 3, -1.0, 1.0)[:, None, None]
    return x.astype(np.float32), labels


@pytest.fixture(scope="session")
def task_data():
    return {"train": separable_task(2048, 1), "val": separable_task(400, 2)}


@pytest.fixture(scope="session")
def trained_student(task_data):
    """A tiny student trained until its logits are well separated (agreement is then meaningful)."""
    import keras

    from kerasseizure.models import student

    keras.utils.set_random_seed(0)
    model = student(INPUT_SHAPE, num_classes=NUM_CLASSES, size="tiny", dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    x, y = task_data["train"]
    model.fit(x, y, epochs=4, batch_size=32, verbose=0)
    x_val, y_val = task_data["val"]
    accuracy = np.mean(model.predict(x_val, verbose=0).argmax(axis=1) == y_val)
    assert accuracy > 0.9, f"the test student did not learn the task (accuracy {accuracy:.3f})"
    return model
