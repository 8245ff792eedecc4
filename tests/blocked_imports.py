"""Run a Python snippet in a fresh interpreter where some top-level packages cannot be imported.

The TF-free paths (NumPy references, the LiteRT runtime, `kerasseizure predict` on a .tflite)
promise to work on a device without TensorFlow or Keras; these tests hold them to it.
"""

import subprocess
import sys
import textwrap

HEAVY = ("tensorflow", "keras", "tf_keras", "jax", "torch")

_PREAMBLE = """
import importlib.abc
import sys


class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ImportError(f"{{name}} is blocked in this test")
        return None


sys.meta_path.insert(0, _Block())
try:
    import {first}
except ImportError:
    pass
else:
    raise SystemExit("the import blocker does not work")
"""


def run_without(code, args=(), blocked=HEAVY, timeout=300, **kwargs):
    """Run `code` (dedented) with `blocked` packages unimportable; return the CompletedProcess.

    `kwargs` go to subprocess.run (env, cwd, ...).
    """
    preamble = _PREAMBLE.format(blocked=tuple(blocked), first=blocked[0])
    return subprocess.run([sys.executable, "-c", preamble + textwrap.dedent(code), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
