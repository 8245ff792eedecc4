"""Electrode names and montage definitions shared by the readers, transforms and models.

Electrodes are named in upper case with the 10-20 names the corpora use (T3/T4/T5/T6, not
T7/T8/P7/P8). Pure Python tables; the transforms that apply them live in `kerasseizure.signal`.
"""

import re

SCALP_ELECTRODES = (
    "FP1", "FP2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2",
    "F7", "F8", "T3", "T4", "T5", "T6", "A1", "A2", "FZ", "CZ", "PZ",
)

# 10-10 names that some EDF writers use for the same positions.
_ALIASES = {"T7": "T3", "T8": "T4", "P7": "T5", "P8": "T6", "M1": "A1", "M2": "A2"}

# "EEG FP1-REF", "EEG FP1-LE", "EEG FP1-AVG", "FP1", "Fp1", "EEG T7"...
_LABEL_RE = re.compile(r"^\s*(?:EEG\s+)?([A-Za-z]+[0-9]*)(?:\s*-\s*[A-Za-z]+)?\s*$")


def canonical_electrode(label):
    """The canonical scalp-electrode name of a channel label, or None for other channels.

    >>> canonical_electrode("EEG FP1-REF"), canonical_electrode("Fp1"), canonical_electrode("EKG1")
    ('FP1', 'FP1', None)
    """
    match = _LABEL_RE.match(label)
    if match is None:
        return None
    name = match.group(1).upper()
    name = _ALIASES.get(name, name)
    return name if name in SCALP_ELECTRODES else None


# TCP bipolar montage: 22 channels in the TUH order; the 20-channel version drops A1-T3 and T4-A2.
TCP22 = (
    ("FP1", "F7"), ("F7", "T3"), ("T3", "T5"), ("T5", "O1"),
    ("FP2", "F8"), ("F8", "T4"), ("T4", "T6"), ("T6", "O2"),
    ("A1", "T3"), ("T3", "C3"), ("C3", "CZ"), ("CZ", "C4"), ("C4", "T4"), ("T4", "A2"),
    ("FP1", "F3"), ("F3", "C3"), ("C3", "P3"), ("P3", "O1"),
    ("FP2", "F4"), ("F4", "C4"), ("C4", "P4"), ("P4", "O2"),
)
TCP20 = tuple(pair for pair in TCP22 if pair not in (("A1", "T3"), ("T4", "A2")))

MONTAGES = {"tcp20": TCP20, "tcp22": TCP22}


def montage_pairs(montage):
    """The (anode, cathode) electrode pairs of a named montage ("tcp20" or "tcp22")."""
    try:
        return MONTAGES[montage]
    except KeyError:
        raise ValueError(f"unknown montage {montage!r}; expected one of {sorted(MONTAGES)}") from None


def pair_names(pairs):
    """Channel names such as 'FP1-F7' for a sequence of electrode pairs."""
    return [f"{a}-{b}" for a, b in pairs]


# HMS EEG parquet columns, in file order (200 Hz).
HMS_EEG_COLUMNS = (
    "Fp1", "F3", "C3", "P3", "F7", "T3", "T5", "O1", "Fz", "Cz", "Pz",
    "Fp2", "F4", "C4", "P4", "F8", "T4", "T6", "O2", "EKG",
)

# The four chains of the spectrogram starter, each four differences, in the EEG-image order.
HMS_CHAINS = {
    "LL": (("Fp1", "F7"), ("F7", "T3"), ("T3", "T5"), ("T5", "O1")),
    "LP": (("Fp1", "F3"), ("F3", "C3"), ("C3", "P3"), ("P3", "O1")),
    "RL": (("Fp2", "F8"), ("F8", "T4"), ("T4", "T6"), ("T6", "O2")),
    "RP": (("Fp2", "F4"), ("F4", "C4"), ("C4", "P4"), ("P4", "O2")),
}

# The WaveNet starter's 8 differences; consecutive pairs form one chain (LL, LP, RP, RL).
WAVENET_PAIRS = (
    ("Fp1", "T3"), ("T3", "O1"),
    ("Fp1", "C3"), ("C3", "O1"),
    ("Fp2", "C4"), ("C4", "O2"),
    ("Fp2", "T4"), ("T4", "O2"),
)

# Left/right mirror of the 10-20 system (midline electrodes and EKG map to themselves).
_MIRROR_PAIRS = (
    ("Fp1", "Fp2"), ("F3", "F4"), ("C3", "C4"), ("P3", "P4"), ("O1", "O2"),
    ("F7", "F8"), ("T3", "T4"), ("T5", "T6"), ("A1", "A2"),
)
MIRROR = {**{a: b for a, b in _MIRROR_PAIRS}, **{b: a for a, b in _MIRROR_PAIRS}}


def mirror_electrode(name):
    """The electrode at the mirrored position across the midline (case kept)."""
    for key, value in MIRROR.items():
        if key.upper() == name.upper():
            return value if name[1:] == key[1:] else value.upper()
    return name
