"""Conformance of `read_header(...).electrodes()` with EDF headers as TUSZ releases them.

The label sets below are copied by hand from label lists of real TUSZ files that public
repositories print (never from our synthetic writer): 'EEG <ELECTRODE>-REF' in the averaged-
reference montages, 'EEG <ELECTRODE>-LE' in the linked-ears one, 03_tcp_ar_a files without A1/A2,
and many non-EEG channels ('EEG EKG1-REF', 'EMG-REF', 'PHOTIC-REF', 'PHOTIC PH', 'IBI', 'BURSTS',
'SUPPR', numbered 'EEG 26-REF', extra electrodes T1/T2/SP1/OZ/PG1 outside the 10-20 set...).
Rates are those reported for TUSZ files: 250, 256, 400, 512 and 1000 Hz; 1 s data records.
Physical ranges are illustrative (asymmetric on purpose). Expected electrodes are written out
by hand. The 17-electrode set is illustrative: which 17 the one such public header holds is not
known here. TF-free; files are a few seconds long.
"""

import os

import edfio
import numpy as np
import pyedflib
import pytest

from kerasseizure.errors import EDFError
from kerasseizure.io.channels import montage_pairs
from kerasseizure.io.edf import read_electrodes, read_header

DURATION = 4  # seconds, four 1 s data records

TEN_TWENTY_21 = ["FP1", "FP2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2",
                 "F7", "F8", "T3", "T4", "T5", "T6", "A1", "A2", "FZ", "CZ", "PZ"]
TEN_TWENTY_19 = [e for e in TEN_TWENTY_21 if e not in ("A1", "A2")]

# 01_tcp_ar: 21 electrodes then non-EEG channels (a label list printed for real v1.x train files).
AR_21 = ["EEG FP1-REF", "EEG FP2-REF", "EEG F3-REF", "EEG F4-REF", "EEG C3-REF", "EEG C4-REF",
         "EEG P3-REF", "EEG P4-REF", "EEG O1-REF", "EEG O2-REF", "EEG F7-REF", "EEG F8-REF",
         "EEG T3-REF", "EEG T4-REF", "EEG T5-REF", "EEG T6-REF", "EEG A1-REF", "EEG A2-REF",
         "EEG FZ-REF", "EEG CZ-REF", "EEG PZ-REF", "EEG ROC-REF", "EEG LOC-REF", "EEG EKG1-REF",
         "EMG-REF", "EEG 26-REF", "EEG 27-REF", "EEG 28-REF", "EEG 29-REF", "EEG 30-REF",
         "EEG T1-REF", "EEG T2-REF", "PHOTIC-REF", "IBI", "BURSTS", "SUPPR"]

# 03_tcp_ar_a: no A1/A2 (a label list printed for real 03_tcp_ar_a files).
AR_A_19 = ["EEG FP1-REF", "EEG FP2-REF", "EEG F3-REF", "EEG F4-REF", "EEG C3-REF", "EEG C4-REF",
           "EEG P3-REF", "EEG P4-REF", "EEG O1-REF", "EEG O2-REF", "EEG F7-REF", "EEG F8-REF",
           "EEG T3-REF", "EEG T4-REF", "EEG T5-REF", "EEG T6-REF", "EEG T1-REF", "EEG T2-REF",
           "EEG FZ-REF", "EEG CZ-REF", "EEG PZ-REF", "EEG EKG1-REF", "EEG C3P-REF", "EEG C4P-REF",
           "EEG SP1-REF", "EEG SP2-REF", "EMG-REF", "EEG 29-REF", "EEG 30-REF", "EEG 31-REF",
           "EEG 32-REF", "IBI", "BURSTS", "SUPPR"]

# 02_tcp_le: 21 electrodes plus extra electrodes outside the 21 (OZ, PG1, PG2, T1, T2, SP1).
LE_21_EXTRA = ["EEG FP1-LE", "EEG FP2-LE", "EEG F3-LE", "EEG F4-LE", "EEG C3-LE", "EEG C4-LE",
               "EEG A1-LE", "EEG A2-LE", "EEG P3-LE", "EEG P4-LE", "EEG O1-LE", "EEG O2-LE",
               "EEG F7-LE", "EEG F8-LE", "EEG T3-LE", "EEG T4-LE", "EEG T5-LE", "EEG T6-LE",
               "EEG FZ-LE", "EEG CZ-LE", "EEG PZ-LE", "EEG OZ-LE", "EEG PG1-LE", "EEG PG2-LE",
               "EEG EKG-LE", "EEG SP1-LE", "EEG T1-LE", "EEG T2-LE", "EEG 26-LE", "PHOTIC PH"]

# 17 electrodes: exactly those TCP20 needs (no A1, A2, FZ, PZ). Illustrative.
AR_17 = ["EEG FP1-REF", "EEG FP2-REF", "EEG F3-REF", "EEG F4-REF", "EEG C3-REF", "EEG C4-REF",
         "EEG P3-REF", "EEG P4-REF", "EEG O1-REF", "EEG O2-REF", "EEG F7-REF", "EEG F8-REF",
         "EEG T3-REF", "EEG T4-REF", "EEG T5-REF", "EEG T6-REF", "EEG CZ-REF", "EEG EKG1-REF",
         "PHOTIC-REF", "IBI", "BURSTS", "SUPPR"]

# Other channels printed for real TUH files: EKG, resp, DC and stimulus channels, numbered 100+.
AR_21_OTHER = ["EEG FP1-REF", "EEG FP2-REF", "EEG F3-REF", "EEG F4-REF", "EEG C3-REF", "EEG C4-REF",
               "EEG P3-REF", "EEG P4-REF", "EEG O1-REF", "EEG O2-REF", "EEG F7-REF", "EEG F8-REF",
               "EEG T3-REF", "EEG T4-REF", "EEG T5-REF", "EEG T6-REF", "EEG FZ-REF", "EEG CZ-REF",
               "EEG PZ-REF", "EEG EKG-REF", "EEG A1-REF", "EEG A2-REF", "EEG LUC-REF", "EEG RLC-REF",
               "EEG RESP1-REF", "EEG RESP2-REF", "ECG EKG-REF", "PULSE RATE", "DC1-DC", "STI 014",
               "EEG 100-REF", "RESP ABDOMEN-REF"]

# name: (labels, rate Hz, writer, expected electrodes in file order written out by hand)
FILES = {
    "ar21_250": (AR_21, 250, "pyedflib", TEN_TWENTY_21),
    "ara19_256": (AR_A_19, 256, "pyedflib",
                  ["FP1", "FP2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2",
                   "F7", "F8", "T3", "T4", "T5", "T6", "FZ", "CZ", "PZ"]),
    "le21_400": (LE_21_EXTRA, 400, "edfio",
                 ["FP1", "FP2", "F3", "F4", "C3", "C4", "A1", "A2", "P3", "P4", "O1", "O2",
                  "F7", "F8", "T3", "T4", "T5", "T6", "FZ", "CZ", "PZ"]),
    "ar17_512": (AR_17, 512, "pyedflib",
                 ["FP1", "FP2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2",
                  "F7", "F8", "T3", "T4", "T5", "T6", "CZ"]),
    "ar21_1000": (AR_21_OTHER, 1000, "pyedflib",
                  ["FP1", "FP2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2",
                   "F7", "F8", "T3", "T4", "T5", "T6", "FZ", "CZ", "PZ", "A1", "A2"]),
}

PHYSICAL = (-4999.5, 5001.25)   # uV, illustrative
DIGITAL = (-32767, 32767)


def _signal(index, n):
    """A slow ramp plus an index-dependent offset, well inside the physical range."""
    return np.linspace(-100.0, 100.0, n) + 10.0 * index


def _write(path, labels, fs, writer):
    n = fs * DURATION
    if writer == "pyedflib":
        headers = [dict(label=label, dimension="uV", sample_frequency=fs, physical_min=PHYSICAL[0],
                        physical_max=PHYSICAL[1], digital_min=DIGITAL[0], digital_max=DIGITAL[1],
                        transducer="", prefilter="") for label in labels]
        edf = pyedflib.EdfWriter(os.fspath(path), len(labels), file_type=pyedflib.FILETYPE_EDF)
        try:
            edf.setSignalHeaders(headers)
            edf.writeSamples([_signal(i, n) for i in range(len(labels))])
        finally:
            edf.close()
    else:
        signals = [edfio.EdfSignal(_signal(i, n), sampling_frequency=fs, label=label, physical_dimension="uV",
                                   physical_range=PHYSICAL, digital_range=DIGITAL)
                   for i, label in enumerate(labels)]
        edfio.Edf(signals, data_record_duration=1.0).write(os.fspath(path))
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tusz_headers")
    return {name: _write(folder / f"{name}.edf", labels, fs, writer)
            for name, (labels, fs, writer, _) in FILES.items()}


@pytest.mark.parametrize("name", list(FILES))
def test_electrodes_found_exactly(files, name):
    labels, fs, _, expected = FILES[name]
    header = read_header(files[name])
    assert header.labels == labels
    found = header.electrodes()
    assert list(found) == expected
    for electrode, channel in found.items():
        assert channel.fs == fs
        assert channel.label.split(" ", 1)[-1].split("-")[0] == electrode
        assert channel.unit == "uV"
        assert channel.physical_min == pytest.approx(PHYSICAL[0])
        assert channel.physical_max == pytest.approx(PHYSICAL[1])
        assert (channel.digital_min, channel.digital_max) == DIGITAL
        assert channel.n_samples == fs * DURATION
    assert header.record_duration == 1.0 and header.n_records == DURATION and header.duration == DURATION
    # Every other channel is not an electrode.
    others = [c.label for c in header.channels if c.electrode is None]
    assert len(others) == len(labels) - len(expected)


def test_extra_electrodes_and_numbered_channels_are_not_mapped(files):
    header = read_header(files["le21_400"])
    by_label = {c.label: c.electrode for c in header.channels}
    for label in ("EEG OZ-LE", "EEG PG1-LE", "EEG PG2-LE", "EEG EKG-LE", "EEG SP1-LE", "EEG T1-LE",
                  "EEG T2-LE", "EEG 26-LE", "PHOTIC PH"):
        assert by_label[label] is None, label
    header = read_header(files["ara19_256"])
    by_label = {c.label: c.electrode for c in header.channels}
    for label in ("EEG T1-REF", "EEG T2-REF", "EEG C3P-REF", "EEG C4P-REF", "EEG SP1-REF", "EMG-REF",
                  "EEG 29-REF", "EEG EKG1-REF", "IBI", "BURSTS", "SUPPR"):
        assert by_label[label] is None, label
    header = read_header(files["ar21_1000"])
    by_label = {c.label: c.electrode for c in header.channels}
    for label in ("ECG EKG-REF", "PULSE RATE", "DC1-DC", "STI 014", "EEG 100-REF", "RESP ABDOMEN-REF",
                  "EEG LUC-REF", "EEG RLC-REF", "EEG RESP1-REF"):
        assert by_label[label] is None, label


# Electrodes each montage needs, written out by hand.
TCP22_NEEDS = {"FP1", "FP2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "F7", "F8",
               "T3", "T4", "T5", "T6", "A1", "A2", "CZ"}
TCP20_NEEDS = TCP22_NEEDS - {"A1", "A2"}


def test_montage_needs():
    assert {e for pair in montage_pairs("tcp22") for e in pair} == TCP22_NEEDS
    assert {e for pair in montage_pairs("tcp20") for e in pair} == TCP20_NEEDS


@pytest.mark.parametrize("name, tcp22, tcp20", [
    ("ar21_250", True, True), ("ara19_256", False, True), ("le21_400", True, True),
    ("ar17_512", False, True), ("ar21_1000", True, True),
])
def test_which_montages_a_file_can_build(files, name, tcp22, tcp20):
    found = set(read_header(files[name]).electrodes())
    assert (TCP22_NEEDS <= found) == tcp22
    assert (TCP20_NEEDS <= found) == tcp20


def test_nineteen_electrode_file_reads_tcp20_not_tcp22(files):
    path = files["ara19_256"]
    tcp20 = sorted(TCP20_NEEDS)
    signals = read_electrodes(path, tcp20)
    assert signals.electrodes == tuple(tcp20) and signals.rates == (256.0,) * 17
    assert signals.stack().shape == (17, 256 * DURATION)
    with pytest.raises(EDFError, match="electrodes A1, A2 not found"):
        read_electrodes(path, sorted(TCP22_NEEDS))


def test_values_of_an_le_file_come_back_in_microvolts(files):
    # FP1 is signal 0 and FZ signal 18 of LE_21_EXTRA: ramps -100..100 uV plus 0 and 180 uV.
    signals = read_electrodes(files["le21_400"], ["FP1", "FZ"], start=0, stop=1)
    data = signals.stack()
    assert data.shape == (2, 400)
    step = (5001.25 + 4999.5) / 65534  # one digital step, uV
    np.testing.assert_allclose(data[0, 0], -100.0, atol=step)
    np.testing.assert_allclose(data[1, 0], 80.0, atol=step)
