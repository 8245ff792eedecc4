"""Loading the package's `.keras` files: the one loader of `export`, `predict` and the reproductions.

A `.keras` file names the package's classes by their registered names (`kerasseizure>MemberLogits`,
`kerasseizure>CrossEntropyFromLogits`, ...): the layers of `kerasseizure.models` and
`kerasseizure.export.frontend`, and, in the compiled training configuration a run saves with its
model, the losses and learning-rate schedules of `kerasseizure.training`. Keras finds a
registered class only once its module has been imported, so this module imports all of them:
after `import kerasseizure.export.saving`, a plain `keras.saving.load_model(path, safe_mode=True)`
loads every model a run writes, without `custom_objects`.
"""

from pathlib import Path

import keras

# Imported for their `register_keras_serializable` side effect (see the module docstring).
import kerasseizure.export.frontend  # noqa: F401
import kerasseizure.models  # noqa: F401
import kerasseizure.training.losses  # noqa: F401
import kerasseizure.training.schedules  # noqa: F401,E501
from kerasseizure.errors import DataFileError


class ModelFileError(DataFileError):
    """A `.keras` model file is missing, is not a Keras archive, or cannot be rebuilt by Keras."""


def load_keras_model(path, compile=False):
    """Load a `.keras` model of the package with `safe_mode=True` (no `custom_objects` needed).

    Args:
        path: the `.keras` file (a run's `fit/best.keras` / `fit/final.keras`, an exported model...).
        compile: also restore the training configuration (loss, optimizer). Export and inference
            need only the graph and weights, and without it a model compiled with a loss of the
            user's own still loads.

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
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as error:  # zip, config and unknown-class errors all come from Keras
        raise ModelFileError(path, f"cannot load the Keras model ({type(error).__name__}: {error})") from error
