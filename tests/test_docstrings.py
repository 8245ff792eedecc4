"""The docstring examples of the package run and give what they show.

One test per module whose source holds an example (`>>> `), found by reading the files, so that
collection imports nothing (the package imports TensorFlow lazily; many modules need it). The
test imports the module and runs its examples with the standard doctest runner, as
`python -m doctest` would, with ELLIPSIS as under `pytest --doctest-modules`. An example that
needs data or files (or builds a full-size network: seconds to tens of seconds each) is marked
`# doctest: +SKIP` in its docstring; a module whose examples are all skipped is reported as
skipped, not as passed.

Why not `--doctest-modules` in addopts: it would also import every module under tests/ as a
doctest module, and tests/models/jax_backend_check.py switches Keras to JAX and blocks
TensorFlow when imported (it is a subprocess script).
"""

import doctest
import importlib
import io
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "kerasseizure"


def modules_with_examples():
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__main__.py" or ">>> " not in path.read_text(encoding="utf-8"):
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = modules_with_examples()


def test_the_package_has_examples():
    assert len(MODULES) >= 20, MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    tests = [t for t in doctest.DocTestFinder().find(module, name) if t.examples]
    assert tests, f"{name} holds '>>> ' but doctest found no example in it"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report = io.StringIO()
    attempted = failed = 0
    for test in sorted(tests, key=lambda t: t.name):
        result = runner.run(test, out=report.write, clear_globs=True)
        attempted += result.attempted
        failed += result.failed
    assert failed == 0, f"{failed} failing example(s) in {name}:\n{report.getvalue()}"
    if attempted == 0:  # +SKIP examples are not counted as attempted
        pytest.skip(f"every example of {name} is marked +SKIP")
