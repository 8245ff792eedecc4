import os
import warnings

import numpy as np
import pyedflib
import pytest

from kerasseizure.errors import EDFError
from kerasseizure.io.edf import read_electrodes, read_header, sample_range

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


def test_range_read_does_not_go_through_pyedflib_nor_touch_other_records(mixed_edf, tmp_path, monkeypatch):
    expected = read_electrodes(mixed_edf, ["FP1", "T3"], start=2.5, stop=4.2, dtype=np.float64)
    # Overwrite every data record outside [2, 5) s (1 s records, 8 signals) with garbage: the range
    # read must not notice, so it reads the records it needs and nothing else.
    data = bytearray(open(mixed_edf, "rb").read())
    header_bytes = 256 * 9
    record_bytes = (len(data) - header_bytes) // DURATION
    for record in list(range(0, 2)) + list(range(5, DURATION)):
        at = header_bytes + record * record_bytes
        data[at:at + record_bytes] = b"\x7f" * record_bytes
    damaged = tmp_path / "damaged.edf"
    damaged.write_bytes(bytes(data))

    def fail(*args, **kwargs):
        raise AssertionError("readSignal must not be used")

    monkeypatch.setattr(pyedflib.EdfReader, "readSignal", fail)
    got = read_electrodes(damaged, ["FP1", "T3"], start=2.5, stop=4.2, dtype=np.float64)
    for a, b in zip(got.signals, expected.signals):
        np.testing.assert_array_equal(a, b)
    # the garbage (0x7f7f = 32639 -> 996 uV) is there for a read of those records; the waves are 40 uV
    assert read_electrodes(damaged, ["FP1"], start=0, stop=1).signals[0].min() > 900


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


# Exactness against pyedflib: the NumPy record read must give readSignal's float64 values bit for bit.

_EXACT_DURATION = 12
# (label, fs, unit, physical range, digital range): odd physical ranges make the conversion's
# rounding visible; 200 / 250 / 256 / 400 / 512 Hz give different samples per data record.
_EXACT_CHANNELS = [
    ("EEG FP1-REF", 250, "uV", (-3276.8, 3276.7), (-32768, 32767)),
    ("EEG F7-REF", 256, "uV", (-812.25, 200.5), (-2048, 2047)),
    ("EKG1", 200, "mV", (-5.0, 5.0), (-32768, 32767)),
    ("EEG T3-REF", 512, "mV", (-1.5, 1.2345), (-30000, 31000)),
    ("EEG C3-REF", 400, "uV", (-999.9, 999.9), (-32767, 32767)),
]


def _exact_signals(seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _, fs, _, (low, high), _ in _EXACT_CHANNELS:
        n = fs * _EXACT_DURATION
        values = rng.uniform(low, high, n)
        values[:3] = [low, high, 0.0]  # the extremes of the digital range
        out.append(values)
    return out


def _write_exact_pyedflib(path, file_type, record_duration=1.0):
    headers = [dict(label=label, dimension=unit, sample_frequency=fs, physical_min=lo, physical_max=hi,
                    digital_min=dlo, digital_max=dhi)
               for label, fs, unit, (lo, hi), (dlo, dhi) in _EXACT_CHANNELS]
    writer = pyedflib.EdfWriter(os.fspath(path), len(headers), file_type=file_type)
    try:
        writer.setSignalHeaders(headers)
        if record_duration != 1.0:
            with warnings.catch_warnings():  # "might alter calculated sample_frequencies": it does not here
                warnings.simplefilter("ignore", UserWarning)
                writer.setDatarecordDuration(record_duration)
        writer.writeSamples(_exact_signals())
        if file_type == pyedflib.FILETYPE_EDFPLUS:
            writer.writeAnnotation(1.5, 2.0, "seizure")
    finally:
        writer.close()
    return os.fspath(path)


def _write_exact_edfio(path, record_duration=1.0, annotations=None):
    import edfio

    signals = [edfio.EdfSignal(values, sampling_frequency=fs, label=label, physical_dimension=unit,
                               physical_range=phys, digital_range=dig)
               for (label, fs, unit, phys, dig), values in zip(_EXACT_CHANNELS, _exact_signals(1))]
    edf = edfio.Edf(signals, data_record_duration=record_duration,
                    annotations=[edfio.EdfAnnotation(*a) for a in annotations] if annotations else None)
    edf.write(os.fspath(path))
    return os.fspath(path)


@pytest.fixture(params=["pyedflib-edf", "pyedflib-edfplus", "pyedflib-2s-records", "edfio",
                        "edfio-half-second-records", "edfio-edfplus"])
def exact_edf(request, tmp_path):
    path = tmp_path / f"{request.param}.edf"
    if request.param == "pyedflib-edf":
        return _write_exact_pyedflib(path, pyedflib.FILETYPE_EDF)
    if request.param == "pyedflib-edfplus":
        return _write_exact_pyedflib(path, pyedflib.FILETYPE_EDFPLUS)
    if request.param == "pyedflib-2s-records":
        return _write_exact_pyedflib(path, pyedflib.FILETYPE_EDF, record_duration=2.0)
    if request.param == "edfio":
        return _write_exact_edfio(path)
    if request.param == "edfio-edfplus":
        path = _write_exact_edfio(path, annotations=[(1.5, 2.0, "seizure"), (7.25, None, "spike")])
        assert open(path, "rb").read()[192:197] == b"EDF+C"
        return path
    return _write_exact_edfio(path, record_duration=0.5)


# (start, stop) seconds: whole file, first sample, last sample, exact record boundaries, ranges
# straddling records, ranges inside one record, fractional sample positions.
_EXACT_RANGES = [(None, None), (0, 0.008), (0, 1), (1, 2), (2, 4), (0.5, 1.5), (1.999, 2.001),
                 (3.3, 3.7), (0.123456, 11.987654), (11, 12), (12 - 1 / 512, 12), (11.9961, 12),
                 (5.25, None), (None, 0.5)]


def _bits(values):
    return np.asarray(values, dtype=np.float64).view(np.int64)


def _pyedflib_reads(path, requests):
    """pyedflib's readSignal(channel, first, n) for each (channel index, first, last); EDFlib opens a
    file once at a time, so pyedflib reads everything first."""
    reader = pyedflib.EdfReader(path)
    try:
        return [reader.readSignal(index, first, last - first) for index, first, last in requests]
    finally:
        reader.close()


def test_range_read_equals_pyedflib_read_signal_bit_for_bit(exact_edf):
    header = read_header(exact_edf)
    assert [c.label for c in header.channels] == [c[0] for c in _EXACT_CHANNELS]
    by_name = {c.electrode: c for c in header.channels if c.electrode}
    names = ["FP1", "F7", "T3", "C3"]
    requests = [(by_name[name].index,) + sample_range(header, by_name[name], start, stop)
                for start, stop in _EXACT_RANGES for name in names]
    expected = iter(_pyedflib_reads(exact_edf, requests))
    for start, stop in _EXACT_RANGES:
        wanted = [next(expected) for _ in names]
        for given in (None, header):
            got = read_electrodes(exact_edf, names, start, stop, header=given, dtype=np.float64)
            assert got.electrodes == tuple(names)
            for name, values, reference in zip(names, got.signals, wanted):
                reference = reference * 1e3 if by_name[name].unit == "mV" else reference
                assert values.shape == reference.shape and len(values) > 0, (name, start, stop)
                np.testing.assert_array_equal(_bits(values), _bits(reference),
                                              err_msg=f"{name} [{start}, {stop})")
            single = read_electrodes(exact_edf, names, start, stop, header=given)
            for values, reference in zip(single.signals, got.signals):
                assert values.dtype == np.float32
                np.testing.assert_array_equal(values, reference.astype(np.float32))


def test_first_and_last_sample_of_every_channel(exact_edf):
    header = read_header(exact_edf)
    channels = [c for c in header.channels if c.electrode]
    whole = _pyedflib_reads(exact_edf, [(c.index, 0, c.n_samples) for c in channels])
    for channel, reference in zip(channels, whole):
        reference = reference * 1e3 if channel.unit == "mV" else reference
        n = channel.n_samples
        first = read_electrodes(exact_edf, [channel.electrode], 0, 1 / channel.fs, dtype=np.float64)
        last = read_electrodes(exact_edf, [channel.electrode], (n - 1) / channel.fs, None, dtype=np.float64)
        np.testing.assert_array_equal(_bits(first.signals[0]), _bits(reference[:1]))
        np.testing.assert_array_equal(_bits(last.signals[0]), _bits(reference[-1:]))


def test_conversion_maps_the_digital_range_onto_the_physical_range(mixed_edf):
    for channel in read_header(mixed_edf).channels:
        gain, offset = channel.physical_scaling()
        assert gain * (offset + channel.digital_min) == pytest.approx(channel.physical_min)
        assert gain * (offset + channel.digital_max) == pytest.approx(channel.physical_max)


def test_header_given_must_match_the_file(tmp_path, mixed_edf):
    other = _write_exact_pyedflib(tmp_path / "other.edf", pyedflib.FILETYPE_EDF)
    _assert_edf_error(mixed_edf, "does not describe this file",
                      call=lambda p: read_electrodes(p, ["FP1"], 0, 1, header=read_header(other)))


def test_hand_built_header_without_ranges_still_reads_exactly(mixed_edf):
    import dataclasses

    header = read_header(mixed_edf)
    bare = dataclasses.replace(header, channels=tuple(
        dataclasses.replace(c, physical_min=None, physical_max=None, digital_min=None, digital_max=None)
        for c in header.channels))
    np.testing.assert_array_equal(read_electrodes(mixed_edf, ["FP1"], 1, 3, header=bare).stack(),
                                  read_electrodes(mixed_edf, ["FP1"], 1, 3).stack())


def test_discontinuous_edf_plus_is_rejected(tmp_path):
    path = _write_exact_pyedflib(tmp_path / "plus.edf", pyedflib.FILETYPE_EDFPLUS)
    data = bytearray(open(path, "rb").read())
    assert data[192:197] == b"EDF+C"
    data[192:197] = b"EDF+D"
    damaged = tmp_path / "discontinuous.edf"
    damaged.write_bytes(bytes(data))
    header = read_header(path)
    for call in (read_header, read_electrodes, lambda p: read_electrodes(p, header=header)):
        _assert_edf_error(damaged, "discontinuous EDF+ file (EDF+D)", call=call)


def test_bdf_is_rejected(tmp_path):
    path = os.fspath(tmp_path / "file.bdf")
    writer = pyedflib.EdfWriter(path, 1, file_type=pyedflib.FILETYPE_BDF)
    try:
        writer.setSignalHeaders([dict(label="EEG FP1-REF", dimension="uV", sample_frequency=FS,
                                      physical_min=-1000.0, physical_max=1000.0,
                                      digital_min=-8388608, digital_max=8388607)])
        writer.writeSamples([np.zeros(FS * 2)])
    finally:
        writer.close()
    for call in (read_header, read_electrodes):
        _assert_edf_error(path, "BDF file (24-bit samples", call=call)
