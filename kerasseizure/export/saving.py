"""Loading the package's `.keras` files: the one loader of `export`, `predict` and the reproductions.

A `.keras` file names the package's classes by their registered names (`kerasseizure>MemberLogits`,
...): the layers of `kerasseizure.models` and `kerasseizure.export.frontend`, which this module
imports (Keras finds a registered class only once its module has been imported). Export and
inference need the graph and the weights only, so `load_keras_model` skips the training
configuration a run saves with its model; that configuration names the losses of
`kerasseizure.training` (`kerasseizure>CrossEntropyFromLogits`, ...), registered by `import
kerasseizure.training`. After both imports a plain `keras.saving.load_model(path,
safe_mode=True)` restores every model a run writes, compiled, without `custom_objects`.
"""

from pathlib import Path

import keras

# Imported for their `register_keras_serializable` side effect (see the module docstring).
import kerasseizure.export.frontend  # noqa: F401
import kerasseizure.models  # noqa: F401
from kerasseizure.errors import DataFileError


class ModelFileError(DataFileError):
    """A `.keras` model file is missing, is not a Keras archive, or cannot be rebuilt by Keras."""


def load_keras_model(path):
    """Load a `.keras` model of the package with `safe_mode=True`, without its training configuration.

    A model compiled with a loss of the user's own loads too: only the graph and the weights are
    restored (no `custom_objects` needed).

    Args:
        path: the `.keras` file (a run's `fit/best.keras` / `fit/final.keras`, an exported model...).

    Returns:
        the keras.Model.

    Raises:
        ModelFileError: naming the file, when it is not a loadable `.keras` model.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelFileError(path, "expected a .keras model file")
    if not path.is_file():
        raise ModelFileError(path, "no such model file")
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # zip, config and unknown-class errors all come from Keras
        raise ModelFileError(path, f"cannot load the Keras model ({type(error).__name__}: {error})") from error
