"""EDF / EDF+ reading: scalp electrodes by name, microvolts, time ranges, clear errors.

Clinical EDF files name the same electrode in many ways ('EEG FP1-REF', 'EEG FP1-LE', 'Fp1',
'EEG T7') and carry non-EEG channels (EKG, PHOTIC, IBI, BURSTS, SUPPR, numbered channels). This
module finds the scalp electrodes through `canonical_electrode`, converts each channel's physical
unit to microvolts and reads only the samples asked for, so a 30 s seizure of a one-hour file
costs 30 s of I/O. Every failure raises `EDFError` whose message starts with the file path.

Headers are parsed by pyedflib (EDFlib). Samples are read with NumPy: the data records that a
time range touches are memory-mapped as int16 [records, samples per record], each requested
channel's block is sliced out, trimmed to the exact samples and converted to physical values with
EDFlib's own formula, so the result equals pyedflib's `readSignal` bit for bit (tested).
"""

import math
import os
from dataclasses import dataclass

import numpy as np
import pyedflib

from kerasseizure.errors import EDFError
from kerasseizure.io.channels import SCALP_ELECTRODES, canonical_electrode

# Physical dimensions seen in EDF headers (lower case, micro sign spelled 'u') -> factor to
# microvolts. Case is ignored: writers use 'uV', 'UV', 'uv' alike and no EEG file uses megavolts.
_UNIT_TO_MICROVOLTS = {
    "uv": 1.0, "microvolt": 1.0, "microvolts": 1.0,
    "nv": 1e-3,
    "mv": 1e3, "millivolt": 1e3, "millivolts": 1e3,
    "v": 1e6, "volt": 1e6, "volts": 1e6,
}

# Time comparisons allow for the 4-decimal rounding of annotation files.
TIME_TOLERANCE_S = 1e-4

_FIXED_HEADER_BYTES = 256
_SIGNAL_HEADER_BYTES = 256
# Offset of the "number of samples in each data record" fields inside the signal headers:
# label 16, transducer 80, dimension 8, phys min/max 8+8, dig min/max 8+8, prefilter 80.
_SAMPLES_FIELD_OFFSET = 16 + 80 + 8 + 8 + 8 + 8 + 8 + 80
# Offset of the 44-byte "reserved" field of the fixed header ('EDF+C' / 'EDF+D' for EDF+).
_RESERVED_FIELD_OFFSET = 192
# Label of EDF+ annotation signals (exactly, as EDFlib compares it); they are not channels here.
_ANNOTATION_LABEL = b"EDF Annotations "


@dataclass(frozen=True)
class EDFChannel:
    """One signal of an EDF file as the header describes it.

    Args:
        index: pyedflib channel number (EDF+ annotation signals are not counted).
        label: the label as written in the file.
        electrode: canonical scalp-electrode name ('FP1', 'T3'...) or None for other channels.
        fs: sampling rate in Hz.
        n_samples: samples of this channel in the whole file.
        unit: physical dimension as written ('uV', 'mV'...).
        physical_min, physical_max: physical range of the header, as pyedflib parses it (None when
            the channel was built by hand; the reader then re-reads the header).
        digital_min, digital_max: digital range of the header (same).
    """

    index: int
    label: str
    electrode: object
    fs: float
    n_samples: int
    unit: str
    physical_min: object = None
    physical_max: object = None
    digital_min: object = None
    digital_max: object = None

    def physical_scaling(self):
        """(gain, offset) with physical = gain * (offset + digital), as EDFlib (pyedflib) computes them.

        EDFlib stores bitvalue = (phys_max - phys_min) / (dig_max - dig_min) and
        offset = phys_max / bitvalue - dig_max, and reads a sample as bitvalue * (offset + digital)
        in double precision; the same operations in the same order give the same doubles.
        """
        gain = (self.physical_max - self.physical_min) / (self.digital_max - self.digital_min)
        return gain, self.physical_max / gain - self.digital_max


@dataclass(frozen=True)
class EDFHeader:
    """Header-only view of an EDF file: enough to index a corpus without reading signals.

    Args:
        path: the file.
        channels: every signal (EDF+ annotations excluded), in file order.
        duration: recording length in seconds (data records x record duration).
        n_records: number of data records.
        record_duration: seconds per data record.
        start_datetime: the recording's start (datetime, as pyedflib reads the header), or None.
    """

    path: str
    channels: tuple
    duration: float
    n_records: int
    record_duration: float
    start_datetime: object = None

    @property
    def labels(self):
        return [channel.label for channel in self.channels]

    @property
    def sample_rates(self):
        return [channel.fs for channel in self.channels]

    @property
    def n_samples(self):
        return [channel.n_samples for channel in self.channels]

    def electrodes(self):
        """Scalp electrodes found, as {canonical name: EDFChannel}, in file order."""
        found = {}
        for channel in self.channels:
            if channel.electrode is None:
                continue
            if channel.electrode in found:
                raise EDFError(
                    self.path,
                    f"electrode {channel.electrode} appears twice "
                    f"(channels {found[channel.electrode].label!r} and {channel.label!r})",
                )
            found[channel.electrode] = channel
        return found


@dataclass(frozen=True)
class ElectrodeSignals:
    """Referential signals of some electrodes over one time range, each at its own rate.

    Args:
        path: the source file.
        electrodes: canonical electrode names, in the order asked for.
        signals: one float32 microvolt array per electrode (lengths differ if rates differ).
        rates: sampling rate of each electrode in Hz.
        start: start of the range in seconds.
        stop: end of the range in seconds.
    """

    path: str
    electrodes: tuple
    signals: tuple
    rates: tuple
    start: float
    stop: float

    def stack(self):
        """The signals as one [electrodes, time] array; all rates must be equal."""
        if len(set(self.rates)) > 1:
            by_rate = ", ".join(f"{name} {fs:g} Hz" for name, fs in zip(self.electrodes, self.rates))
            raise EDFError(self.path, f"requested electrodes have different sampling rates ({by_rate}); "
                                      "resample them to a common rate first")
        return np.stack(self.signals)


@dataclass(frozen=True)
class _RecordLayout:
    """Where each signal's samples lie in the data records of a (validated) EDF file.

    Args:
        header_bytes: size of the header; the first data record starts there.
        n_records: number of data records.
        record_samples: samples per data record of every signal in header order (annotations included).
        signal_offsets: offset, in samples, of each signal's block inside a data record.
        channel_signals: header position of each pyedflib channel (EDF+ annotation signals skipped).
    """

    header_bytes: int
    n_records: int
    record_samples: tuple
    signal_offsets: tuple
    channel_signals: tuple

    @property
    def samples_per_record(self):
        return sum(self.record_samples)


def _read_layout(path, handle):
    """Validate the file structure (before pyedflib sees it, with precise messages) and return its layout."""
    size = os.fstat(handle.fileno()).st_size
    if size == 0:
        raise EDFError(path, "empty file (0 bytes)")
    handle.seek(0)
    fixed = handle.read(_FIXED_HEADER_BYTES)
    if len(fixed) < _FIXED_HEADER_BYTES:
        raise EDFError(path, f"not an EDF file: {size} bytes, shorter than the 256-byte EDF header")
    if fixed[:1] == b"\xff":  # BDF starts with 0xFF 'BIOSEMI'
        raise EDFError(path, "BDF file (24-bit samples, version byte 0xFF): this reader reads 16-bit "
                             "EDF / EDF+ files only")
    if fixed[:8] != b"0       ":
        raise EDFError(path, "not an EDF file: the header does not start with the EDF version '0'")
    try:
        text = fixed.decode("ascii")
        header_bytes = int(text[184:192])
        n_records = int(text[236:244])
        n_signals = int(text[252:256])
    except (UnicodeDecodeError, ValueError):
        raise EDFError(path, "not an EDF file: header fields (header size, record count, signal "
                             "count) are not numbers") from None
    if n_signals <= 0 or header_bytes != _FIXED_HEADER_BYTES * (1 + n_signals):
        raise EDFError(path, f"corrupt EDF header: {n_signals} signals but a header size of "
                             f"{header_bytes} bytes")
    if n_records < 0:
        raise EDFError(path, f"EDF header gives {n_records} data records (recording never finalised)")
    signal_headers = handle.read(n_signals * _SIGNAL_HEADER_BYTES)
    fields = signal_headers[n_signals * _SAMPLES_FIELD_OFFSET:][:8 * n_signals]
    try:
        samples_per_record = [int(fields[8 * i:8 * i + 8]) for i in range(n_signals)]
    except ValueError:
        raise EDFError(path, "corrupt EDF header: samples-per-record fields are not numbers") from None
    record_bytes = 2 * sum(samples_per_record)
    expected = header_bytes + n_records * record_bytes
    if size != expected:
        kind = "truncated file" if size < expected else "file longer than its header says"
        raise EDFError(path, f"{kind}: the header gives {n_records} data records of {record_bytes} bytes "
                             f"after a {header_bytes}-byte header ({expected} bytes) but the file has "
                             f"{size} bytes")
    if min(samples_per_record) < 1:
        raise EDFError(path, f"corrupt EDF header: a signal has {min(samples_per_record)} samples per "
                             "data record")
    reserved = fixed[_RESERVED_FIELD_OFFSET:_RESERVED_FIELD_OFFSET + 5]
    if reserved == b"EDF+D":
        raise EDFError(path, "discontinuous EDF+ file (EDF+D): its data records are not contiguous in "
                             "time, which this reader (like pyedflib) does not support")
    edf_plus = reserved == b"EDF+C"
    labels = [signal_headers[16 * i:16 * i + 16] for i in range(n_signals)]
    return _RecordLayout(
        header_bytes=header_bytes,
        n_records=n_records,
        record_samples=tuple(samples_per_record),
        signal_offsets=tuple(int(v) for v in np.cumsum([0] + samples_per_record[:-1])),
        channel_signals=tuple(i for i, label in enumerate(labels)
                              if not (edf_plus and label == _ANNOTATION_LABEL)),
    )


def _check_file_structure(path):
    """Reject empty, non-EDF and truncated files before pyedflib sees them, with precise messages."""
    with open(path, "rb") as handle:
        return _read_layout(path, handle)


def _open(path):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise EDFError(path, "file not found")
    _check_file_structure(path)
    try:
        return pyedflib.EdfReader(path, annotations_mode=pyedflib.DO_NOT_READ_ANNOTATIONS)
    except OSError as error:
        # pyedflib prefixes its message with the path already; keep only its reason.
        reason = str(error).split(": ", 1)[-1]
        raise EDFError(path, f"pyedflib cannot read it: {reason}") from None


def _header_from_reader(path, reader):
    rates = reader.getSampleFrequencies()
    counts = reader.getNSamples()
    channels = tuple(
        EDFChannel(
            index=i,
            label=label.strip(),
            electrode=canonical_electrode(label),
            fs=float(rates[i]),
            n_samples=int(counts[i]),
            unit=reader.getPhysicalDimension(i).strip(),
            physical_min=float(reader.getPhysicalMinimum(i)),
            physical_max=float(reader.getPhysicalMaximum(i)),
            digital_min=int(reader.getDigitalMinimum(i)),
            digital_max=int(reader.getDigitalMaximum(i)),
        )
        for i, label in enumerate(reader.getSignalLabels())
    )
    return EDFHeader(
        path=os.fspath(path),
        channels=channels,
        duration=float(reader.datarecords_in_file * reader.datarecord_duration),
        n_records=int(reader.datarecords_in_file),
        record_duration=float(reader.datarecord_duration),
        start_datetime=reader.getStartdatetime(),
    )


def _parse_header(path):
    reader = _open(path)
    try:
        return _header_from_reader(path, reader)
    finally:
        reader.close()


def read_header(path):
    """Inspect an EDF file without reading its samples.

    Args:
        path: the EDF/EDF+ file.

    Returns:
        EDFHeader with labels, rates, sample counts and duration.
    """
    return _parse_header(path)


def microvolt_scale(path, channel, unitless_as_microvolts=False):
    """The factor that converts `channel`'s physical values to microvolts.

    Args:
        path: the file (for the error message).
        channel: EDFChannel.
        unitless_as_microvolts: treat an empty physical dimension as microvolts instead of failing.
    """
    if channel.unit == "" and unitless_as_microvolts:
        return 1.0
    key = channel.unit.replace("\u00b5", "u").replace("\u03bc", "u").lower()
    scale = _UNIT_TO_MICROVOLTS.get(key)
    if scale is None:
        raise EDFError(path, f"channel {channel.label!r} has physical dimension {channel.unit!r}, not a "
                             "voltage unit this reader converts (uV, nV, mV, V)")
    return scale


def _select_electrodes(header, electrodes):
    found = header.electrodes()
    if electrodes is None:
        return [found[name] for name in SCALP_ELECTRODES if name in found]
    wanted = [canonical_electrode(name) or name.upper() for name in electrodes]
    missing = [name for name in wanted if name not in found]
    if missing:
        raise EDFError(header.path, f"electrodes {', '.join(missing)} not found; the file has channels "
                                    f"{', '.join(repr(label) for label in header.labels)}")
    return [found[name] for name in wanted]


def sample_range(header, channel, start, stop):
    """[first, last) sample indices of `channel` for seconds [start, stop), as IBM cuts seizures.

    Args:
        header: EDFHeader of the file.
        channel: EDFChannel.
        start: seconds from the start of the recording (None = 0).
        stop: seconds (None = end of the recording).
    """
    start = 0.0 if start is None else float(start)
    stop = header.duration if stop is None else float(stop)
    if not (math.isfinite(start) and math.isfinite(stop)) or start < 0 or stop <= start:
        raise EDFError(header.path, f"invalid time range [{start}, {stop}) s")
    if stop > header.duration + TIME_TOLERANCE_S:
        raise EDFError(header.path, f"time range [{start:g}, {stop:g}) s goes beyond the end of the "
                                    f"recording ({header.duration:g} s)")
    first = int(np.floor(start * channel.fs))
    last = min(int(np.floor(stop * channel.fs)), channel.n_samples)
    return first, last


def _has_scaling(header):
    return all(None not in (channel.physical_min, channel.physical_max, channel.digital_min,
                            channel.digital_max) for channel in header.channels)


def _check_header_matches(path, header, layout):
    """A header passed by the caller must describe this file's data records."""
    counts = [layout.record_samples[i] * layout.n_records for i in layout.channel_signals]
    if header.n_records != layout.n_records or list(header.n_samples) != counts:
        raise EDFError(path, f"the EDFHeader given does not describe this file: it has {header.n_records} "
                             f"data records and channel sample counts {list(header.n_samples)}, the file "
                             f"{layout.n_records} records and {counts}")


def _read_ranges(path, handle, layout, ranges, dtype):
    """Samples [first, last) of each (channel, scale, first, last), in microvolts, as `dtype` arrays.

    Only the data records that the ranges touch are mapped: int16 [records, samples per record],
    little-endian as EDF stores them. Each channel's block of those records is copied out,
    flattened, trimmed, then converted exactly as EDFlib does.
    """
    spans = []
    for channel, _, first, last in ranges:
        per_record = layout.record_samples[layout.channel_signals[channel.index]]
        spans.append((first // per_record, -(-last // per_record)) if last > first else None)
    touched = [span for span in spans if span is not None]
    records = None
    if touched:
        first_record = min(span[0] for span in touched)
        last_record = max(span[1] for span in touched)
        mapped = np.memmap(handle, dtype="<i2", mode="r",
                           offset=layout.header_bytes + 2 * first_record * layout.samples_per_record,
                           shape=(last_record - first_record, layout.samples_per_record))
        records = np.asarray(mapped)
    signals = []
    for (channel, scale, first, last), span in zip(ranges, spans):
        if span is None:
            values = np.zeros(0)
        else:
            signal = layout.channel_signals[channel.index]
            per_record = layout.record_samples[signal]
            offset = layout.signal_offsets[signal]
            block = records[span[0] - first_record:span[1] - first_record, offset:offset + per_record]
            skip = first - span[0] * per_record
            digital = block.reshape(-1)[skip:skip + last - first]
            if digital.shape[0] != last - first:
                raise EDFError(path, f"channel {channel.label!r}: read {digital.shape[0]} samples "
                                     f"instead of {last - first} from sample {first}")
            gain, shift = channel.physical_scaling()
            values = digital.astype(np.float64)
            values += shift
            values *= gain
        if scale != 1.0:
            values *= scale
        signals.append(values.astype(dtype, copy=False))
    return signals


def read_electrodes(path, electrodes=None, start=None, stop=None, header=None,
                    unitless_as_microvolts=False, dtype=np.float32):
    """Read scalp electrodes of an EDF file over a time range, in microvolts.

    Only the samples of [start, stop) are read from disk. Electrodes are matched by canonical
    name whatever the file's convention ('EEG FP1-REF', 'Fp1', 'EEG T7' all give 'FP1'/'T3').

    Args:
        path: the EDF/EDF+ file.
        electrodes: names to read ('FP1', 'Fp1', 'EEG FP1-REF' all work), or None for every scalp
            electrode present (in the order of `SCALP_ELECTRODES`).
        start: seconds from the start of the recording (None = 0).
        stop: seconds (None = end); samples [floor(start*fs), floor(stop*fs)) of each channel.
        header: an EDFHeader already read for this file (saves re-parsing its channel headers).
        unitless_as_microvolts: treat channels without a physical dimension as microvolts.
        dtype: dtype of the returned arrays; float64 keeps pyedflib's precision for resampling.

    Returns:
        ElectrodeSignals (per-electrode arrays and rates; `.stack()` for one array). The float64
        values before the cast to `dtype` equal pyedflib's `readSignal(channel, first, n)`
        (times the unit factor) exactly.

    The file's structure (size, record layout, EDF+D) is checked on every call; the header is parsed
    by pyedflib unless `header` is given, in which case it must describe this file's record layout.
    The samples are read from the data records the range touches only (memory-mapped), never
    through pyedflib.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise EDFError(path, "file not found")
    with open(path, "rb") as handle:
        layout = _read_layout(path, handle)
        if header is None or not _has_scaling(header):
            header = _parse_header(path)
        _check_header_matches(path, header, layout)
        channels = _select_electrodes(header, electrodes)
        ranges = []
        for channel in channels:
            scale = microvolt_scale(path, channel, unitless_as_microvolts)
            ranges.append((channel, scale) + sample_range(header, channel, start, stop))
        signals = _read_ranges(path, handle, layout, ranges, dtype)
    return ElectrodeSignals(
        path=path,
        electrodes=tuple(channel.electrode for channel in channels),
        signals=tuple(signals),
        rates=tuple(channel.fs for channel in channels),
        start=0.0 if start is None else float(start),
        stop=header.duration if stop is None else float(stop),
    )
