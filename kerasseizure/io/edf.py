"""EDF / EDF+ reading with pyedflib: scalp electrodes by name, microvolts, time ranges, clear errors.

Clinical EDF files name the same electrode in many ways ('EEG FP1-REF', 'EEG FP1-LE', 'Fp1',
'EEG T7') and carry non-EEG channels (EKG, PHOTIC, IBI, BURSTS, SUPPR, numbered channels). This
module finds the scalp electrodes through `canonical_electrode`, converts each channel's physical
unit to microvolts and reads only the samples asked for, so a 30 s seizure of a one-hour file
costs 30 s of I/O. Every failure raises `EDFError` whose message starts with the file path.
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
    """

    index: int
    label: str
    electrode: object
    fs: float
    n_samples: int
    unit: str


@dataclass(frozen=True)
class EDFHeader:
    """Header-only view of an EDF file: enough to index a corpus without reading signals.

    Args:
        path: the file.
        channels: every signal (EDF+ annotations excluded), in file order.
        duration: recording length in seconds (data records x record duration).
        n_records: number of data records.
        record_duration: seconds per data record.
    """

    path: str
    channels: tuple
    duration: float
    n_records: int
    record_duration: float

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


def _check_file_structure(path):
    """Reject empty, non-EDF and truncated files before pyedflib sees them, with precise messages."""
    size = os.path.getsize(path)
    if size == 0:
        raise EDFError(path, "empty file (0 bytes)")
    with open(path, "rb") as handle:
        fixed = handle.read(_FIXED_HEADER_BYTES)
        if len(fixed) < _FIXED_HEADER_BYTES:
            raise EDFError(path, f"not an EDF file: {size} bytes, shorter than the 256-byte EDF header")
        bytes_per_sample = 3 if fixed[:1] == b"\xff" else 2  # BDF starts with 0xFF 'BIOSEMI'
        if bytes_per_sample == 2 and fixed[:8] != b"0       ":
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
        handle.seek(_FIXED_HEADER_BYTES + n_signals * _SAMPLES_FIELD_OFFSET)
        fields = handle.read(8 * n_signals)
    try:
        samples_per_record = [int(fields[8 * i:8 * i + 8]) for i in range(n_signals)]
    except ValueError:
        raise EDFError(path, "corrupt EDF header: samples-per-record fields are not numbers") from None
    record_bytes = bytes_per_sample * sum(samples_per_record)
    expected = header_bytes + n_records * record_bytes
    if size != expected:
        kind = "truncated file" if size < expected else "file longer than its header says"
        raise EDFError(path, f"{kind}: the header gives {n_records} data records of {record_bytes} bytes "
                             f"after a {header_bytes}-byte header ({expected} bytes) but the file has "
                             f"{size} bytes")


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
        )
        for i, label in enumerate(reader.getSignalLabels())
    )
    return EDFHeader(
        path=os.fspath(path),
        channels=channels,
        duration=float(reader.datarecords_in_file * reader.datarecord_duration),
        n_records=int(reader.datarecords_in_file),
        record_duration=float(reader.datarecord_duration),
    )


def read_header(path):
    """Inspect an EDF file without reading its samples.

    Args:
        path: the EDF/EDF+ file.

    Returns:
        EDFHeader with labels, rates, sample counts and duration.
    """
    reader = _open(path)
    try:
        return _header_from_reader(path, reader)
    finally:
        reader.close()


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
        ElectrodeSignals (per-electrode arrays and rates; `.stack()` for one array).
    """
    path = os.fspath(path)
    reader = _open(path)
    try:
        header = header or _header_from_reader(path, reader)
        channels = _select_electrodes(header, electrodes)
        signals = []
        for channel in channels:
            scale = microvolt_scale(path, channel, unitless_as_microvolts)
            first, last = sample_range(header, channel, start, stop)
            values = reader.readSignal(channel.index, first, last - first) if last > first else np.zeros(0)
            if values.shape[0] != last - first:
                raise EDFError(path, f"channel {channel.label!r}: read {values.shape[0]} samples instead "
                                     f"of {last - first} from sample {first}")
            values = values if scale == 1.0 else values * scale
            signals.append(values.astype(dtype, copy=False))
    finally:
        reader.close()
    return ElectrodeSignals(
        path=path,
        electrodes=tuple(channel.electrode for channel in channels),
        signals=tuple(signals),
        rates=tuple(channel.fs for channel in channels),
        start=0.0 if start is None else float(start),
        stop=header.duration if stop is None else float(stop),
    )
