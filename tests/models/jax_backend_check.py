"""Builds, runs and trains every model under KERAS_BACKEND=jax with TensorFlow unimportable.

Run by tests/models/test_backend_jax.py in a subprocess: python jax_backend_check.py REPO_ROOT
"""
import os
import sys

os.environ["KERAS_BACKEND"] = "jax"
sys.path.insert(0, sys.argv[1])
import numpy as np  # noqa: E402
import keras  # noqa: E402
# The models package must not need TensorFlow.
import importlib.abc  # noqa: E402


class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError("tensorflow blocked")


sys.meta_path.insert(0, Block())
from kerasseizure import models  # noqa: E402

print("backend", keras.backend.backend())
rng = np.random.default_rng(0)
cases = {
  "WaveNet": (models.WaveNet(input_shape=(400, 8)), rng.normal(size=(2, 400, 8))),
  "SpectrogramNet V2B0": (models.SpectrogramNet(input_shape=(64, 64, 3), backbone="EfficientNetV2B0"), rng.normal(size=(2, 64, 64, 3))),
  "SpectroTemporal3D": (models.SpectroTemporal3D(input_shape=(16, 16, 16, 1), filters=(4, 8, 8)), rng.normal(size=(2, 16, 16, 16, 1))),
  "SeizureNet": (models.SeizureNet(), [rng.normal(size=(2, 20, b, 3)) for b in (24, 48, 96)]),
  "student": (models.student(size="tiny"), rng.normal(size=(2, 20, 24, 3))),
  "fused": (models.fused(eeg_shape=(400, 8), image_shape=(64, 64, 3), backbone="EfficientNetV2B0"), {"eeg": rng.normal(size=(2, 400, 8)), "image": rng.normal(size=(2, 64, 64, 3))}),
}
for name, (model, x) in cases.items():
    x = keras.tree.map_structure(lambda a: a.astype("float32"), x)
    y = keras.ops.convert_to_numpy(model(x))
    model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    target = np.eye(y.shape[1], dtype="float32")[[0, 1]]
    losses = [float(model.train_on_batch(x, target)) for _ in range(3)]
    if y.shape != (2, target.shape[1]) or not np.isfinite(y).all() or not losses[-1] < losses[0]:
        sys.exit(f"{name}: output {y.shape}, losses {losses}")
    print(f"{name:22s} out {y.shape} loss {losses[0]:.3f}->{losses[-1]:.3f}")
keras.config.set_dtype_policy("mixed_bfloat16")
m = models.WaveNet(input_shape=(400, 8)); out = m(np.zeros((1, 400, 8), "float32"))
if str(out.dtype) != "float32" or {v.dtype for v in m.weights} != {"float32"}:
    sys.exit(f"mixed_bfloat16 WaveNet: output {out.dtype}, variables {[v.dtype for v in m.weights]}")
if "tensorflow" in sys.modules:
    sys.exit("tensorflow was imported")
print("ok")
