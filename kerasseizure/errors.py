"""The project's exception family.

Every error raised for bad input derives from `KerasSeizureError`. Errors about a file carry the
path and the problem, and their message starts with the path, so a user scanning a corpus of
thousands of files knows which one to look at.
"""

import os


class KerasSeizureError(Exception):
    """Base class of every error this package raises on purpose."""


class DataFileError(KerasSeizureError, ValueError):
    """A file of a corpus is unreadable, malformed or inconsistent.

    Args:
        path: the offending file.
        problem: what is wrong with it, in words.
    """

    def __init__(self, path, problem):
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):
        return (type(self), (self.path, self.problem))


class EDFError(DataFileError):
    """An EDF/EDF+ recording cannot be read as asked."""


class AnnotationError(DataFileError):
    """An annotation file (.tse, .lbl, .csv, .csv_bi, seizure spreadsheet) is malformed."""


class TableError(DataFileError):
    """A table file (HMS csv or parquet) is missing, lacks columns or holds bad values."""


class CorpusError(KerasSeizureError, ValueError):
    """A corpus tree is not a layout this package knows, or is empty."""


class SignalError(KerasSeizureError, ValueError):
    """An array handed to a transform cannot be processed (too short, wrong rate, NaNs...)."""


class ScoringError(KerasSeizureError, ValueError):
    """Seizure events or scoring arguments are invalid (negative duration, past the recording end...)."""


class CacheError(KerasSeizureError):
    """An on-disk cache is incomplete or was built with another configuration."""


class ExportError(KerasSeizureError):
    """A model cannot be exported or its export does not reproduce the Keras outputs."""
