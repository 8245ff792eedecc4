import os

import numpy as np
import pyedflib
import pytest

from kerasseizure.errors import EDFError
from kerasseizure.io.edf import read_electrodes, read_header

from .conftest import electrode_wave, write_edf, write_edf_with_edfio

FS = 250
DURATION = 20


def _mixed_convention_channels():
    return [
        ("EEG FP1-REF", FS, "uV", electrode_wave("FP1", FS, DURATION)),
        ("Fp2", FS, "uV", electrode_wave("FP2", FS, DURATION)),
        ("EEG T7", FS, "uV", electrode_wave("T3", FS, DURATION)),
        ("EEG F7-LE", FS, "uV", electrode_wave("F7", FS, DURATION)),
        ("EKG1", 125, "uV", None),
        ("PHOTIC PH", FS, "uV", None),
        ("IBI", FS, "uV", None),
        ("EEG 26-REF", FS, "uV", None),
    ]


@pytest.fixture
def mixed_edf(tmp_path):
    return write_edf(os.fspath(tmp_path / "mixed.edf"), _mixed_convention_channels(), DURATION)


def test_header_reports_labels_rates_and_duration(mixed_edf):
    header = read_header(mixed_edf)
    assert header.labels[:4] == ["EEG FP1-REF", "Fp2", "EEG T7", "EEG F7-LE"]
    assert header.sample_rates[4] == 125.0 and header.sample_rates[0] == 250.0
    assert header.n_samples[:5] == [5000, 5000, 5000, 5000, 2500]
    assert header.duration == DURATION
    assert list(header.electrodes()) == ["FP1", "FP2", "T3", "F7"]


def test_electrodes_found_whatever_the_convention_and_non_eeg_ignored(mixed_edf):
    signals = read_electrodes(mixed_edf)
    assert signals.electrodes == ("FP1", "FP2", "F7", "T3")  # SCALP_ELECTRODES order
    data = signals.stack()
    assert data.dtype == np.float32 and data.shape == (4, DURATION * FS)
    np.testing.assert_allclose(data[3], electrode_wave("T3", FS, DURATION), atol=0.05)


def test_units_are_converted_to_microvolts(tmp_path):
    wave = electrode_wave("C3", FS, DURATION)
    path = write_edf(os.fspath(tmp_path / "units.edf"),
                     [("EEG C3-REF", FS, "uV", wave), ("EEG C4-REF", FS, "mV", wave),
                      ("EEG CZ-REF", FS, "V", wave)], DURATION)
    data = read_electrodes(path, ["C3", "C4", "CZ"]).stack()
    for row in data:
        np.testing.assert_allclose(row, wave, atol=0.05)


def test_unknown_unit_is_an_error(tmp_path):
    path = write_edf(os.fspath(tmp_path / "unit.edf"),
                     [("EEG C3-REF", FS, "degC", electrode_wave("C3", FS, DURATION))], DURATION)
    with pytest.raises(EDFError) as caught:
        read_electrodes(path)
    assert str(caught.value).startswith(path) and "'degC'" in str(caught.value)


def test_time_range_equals_slice_of_whole_read(mixed_edf):
    whole = read_electrodes(mixed_edf, ["FP1", "T3"]).stack()
    part = read_electrodes(mixed_edf, ["FP1", "T3"], start=3.5, stop=11.25).stack()
    np.testing.assert_array_equal(part, whole[:, int(3.5 * FS):int(11.25 * FS)])


def test_range_read_does_not_load_the_whole_signal(mixed_edf, monkeypatch):
    requested = []
    original = pyedflib.EdfReader.readSignal

    def spy(self, channel, start=0, n=None, digital=False):
        requested.append(n)
        return original(self, channel, start, n, digital)

    monkeypatch.setattr(pyedflib.EdfReader, "readSignal", spy)
    read_electrodes(mixed_edf, ["FP1"], start=2, stop=4)
    assert requested == [2 * FS]


def test_per_channel_rates_are_kept_and_stack_refuses_mixed_rates(tmp_path):
    path = write_edf(os.fspath(tmp_path / "rates.edf"),
                     [("EEG O1-REF", 256, "uV", electrode_wave("O1", 256, DURATION)),
                      ("EEG O2-REF", 512, "uV", electrode_wave("O2", 512, DURATION))], DURATION)
    signals = read_electrodes(path, ["O1", "O2"], start=1, stop=2)
    assert signals.rates == (256.0, 512.0)
    assert [len(s) for s in signals.signals] == [256, 512]
    with pytest.raises(EDFError) as caught:
        signals.stack()
    assert str(caught.value).startswith(path) and "different sampling rates" in str(caught.value)


def test_file_from_another_writer(tmp_path):
    path = write_edf_with_edfio(os.fspath(tmp_path / "edfio.edf"),
                                [("EEG P3-REF", 400, "uV", electrode_wave("P3", 400, 10)),
                                 ("EKG1", 200, "uV", None)], 10)
    header = read_header(path)
    assert header.sample_rates == [400.0, 200.0] and header.duration == 10
    np.testing.assert_allclose(read_electrodes(path).stack()[0], electrode_wave("P3", 400, 10), atol=0.05)


def _assert_edf_error(path, fragment, call=read_header):
    with pytest.raises(EDFError) as caught:
        call(path)
    message = str(caught.value)
    assert message.startswith(os.fspath(path)), message
    assert fragment in message, message


def test_empty_file(tmp_path):
    path = tmp_path / "empty.edf"
    path.write_bytes(b"")
    _assert_edf_error(path, "empty file")


def test_garbage_file(tmp_path):
    path = tmp_path / "garbage.edf"
    path.write_bytes(b"this is not an EDF file at all " * 20)
    _assert_edf_error(path, "not an EDF file")


def test_short_garbage_file(tmp_path):
    path = tmp_path / "short.edf"
    path.write_bytes(b"0       abc")
    _assert_edf_error(path, "shorter than the 256-byte EDF header")


def test_truncated_file(mixed_edf, tmp_path):
    data = open(mixed_edf, "rb").read()
    path = tmp_path / "truncated.edf"
    path.write_bytes(data[:-1000])
    _assert_edf_error(path, "truncated file")


def test_record_count_disagreeing_with_file_size(mixed_edf, tmp_path):
    data = bytearray(open(mixed_edf, "rb").read())
    data[236:244] = b"25      "  # the file holds 20 one-second records
    path = tmp_path / "records.edf"
    path.write_bytes(bytes(data))
    _assert_edf_error(path, "25 data records")


def test_missing_electrodes_are_named_with_what_the_file_has(mixed_edf):
    _assert_edf_error(mixed_edf, "electrodes O1, CZ not found",
                      call=lambda p: read_electrodes(p, ["FP1", "O1", "CZ"]))
    _assert_edf_error(mixed_edf, "'EEG FP1-REF'", call=lambda p: read_electrodes(p, ["O1"]))


def test_range_beyond_the_end(mixed_edf):
    _assert_edf_error(mixed_edf, "beyond the end of the recording (20 s)",
                      call=lambda p: read_electrodes(p, ["FP1"], start=15, stop=25))


def test_missing_file(tmp_path):
    _assert_edf_error(tmp_path / "nothere.edf", "file not found")


def test_edf_plus_file_with_annotation_signal(tmp_path):
    wave = electrode_wave("CZ", FS, DURATION)
    channels = [("EEG CZ-REF", FS, "uV", wave), ("EKG1", FS, "uV", None)]
    path = write_edf(os.fspath(tmp_path / "plus.edf"), channels, DURATION, file_type=pyedflib.FILETYPE_EDFPLUS)
    header = read_header(path)
    assert header.labels == ["EEG CZ-REF", "EKG1"] and header.duration == DURATION
    np.testing.assert_allclose(read_electrodes(path, ["Cz"], start=5, stop=6).stack()[0],
                               wave[5 * FS:6 * FS], atol=0.05)
