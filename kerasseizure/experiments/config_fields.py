"""Building a configuration dataclass from a dict (parsed JSON / YAML), refusing unknown keys by name."""

import dataclasses


def from_known_fields(cls, values, error, what):
    """`cls(**values)` after checking that every key of `values` is a field of the dataclass `cls`.

    Args:
        cls: the dataclass.
        values: mapping of field values.
        error: exception class raised for unknown keys.
        what: how the message names the settings (e.g. "TUSZ experiment settings").
    """
    values = dict(values)
    known = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise error(f"unknown {what} {unknown}; known: {sorted(known)}")
    return cls(**values)
