"""Package attributes loaded on first use (PEP 562): importing a package stays cheap (no
TensorFlow or Keras until a name that needs them is used)."""

import importlib
import sys


def lazy_attributes(package, names, modules=None):
    """The `__getattr__` and `__dir__` of a package whose public names load on first use.

    Args:
        package: the package's `__name__`.
        names: {attribute: module defining it}, the module absolute or relative to `package`
            (".tflite").
        modules: {attribute: module} reachable as attributes themselves (default none).

    Returns:
        (__getattr__, __dir__) to assign at the package's top level.

    >>> import json.decoder
    >>> getattr_, _ = lazy_attributes("json", {"JSONDecoder": ".decoder"})
    >>> getattr_("JSONDecoder") is json.decoder.JSONDecoder
    True
    """
    modules = dict(modules or {})

    def __getattr__(name):
        if name in names:
            return getattr(importlib.import_module(names[name], package), name)
        if name in modules:
            return importlib.import_module(modules[name], package)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(names) | set(modules))

    return __getattr__, __dir__
