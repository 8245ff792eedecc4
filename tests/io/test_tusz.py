import os
import warnings

import numpy as np
import pandas as pd
import pyedflib
import pytest
from scipy.signal import resample

from kerasseizure.errors import AnnotationError, CorpusError, EDFError
from kerasseizure.io.channels import TCP20, TCP22
from kerasseizure.io.labels import SEIZURE_TYPES
from kerasseizure.io.tusz import TUSZCorpus
from kerasseizure.io.tusz_annotations import read_lbl, read_tse

from .conftest import (
    V1_SPEC,
    V2_SPEC,
    build_v1_corpus,
    electrode_frequency,
    v1_stem,
    v2_stem,
    tusz_channels,
    write_edf,
    write_spreadsheet,
)


def _expected_seizures(spec):
    return sorted((r["patient"], r["token"], float(s), float(e), lab)
                  for r in spec for s, e, lab in r["events"] if lab != "bckg")


def _found_seizures(corpus):
    s = corpus.seizures
    return sorted(zip(s["patient_id"], s["token"], s["start"], s["stop"], s["label"]))


# ---- indexing -----------------------------------------------------------------------------


def test_v1_index_recovers_recordings_and_tse_seizures(v1_corpus):
    corpus = TUSZCorpus(v1_corpus)
    assert corpus.layout == "v1" and corpus.version == "1.5.x"
    recordings = corpus.recordings.set_index("edf_path")
    for spec in V1_SPEC:
        row = recordings.loc[v1_stem(corpus.root, spec) + ".edf"]
        assert (row["patient_id"], row["session"], row["token"], row["split"]) == \
               (spec["patient"], spec["session"][:4], spec["token"], spec["split"])
        assert row["fs"] == spec["fs"] and row["duration"] == spec["duration"]
        assert row["montage_kind"] == spec["montage_dir"][3:]
    assert _found_seizures(corpus) == _expected_seizures(V1_SPEC)
    assert set(corpus.seizures["source"]) == {"tse"} and corpus.skipped.empty


def test_v152_spreadsheet_is_the_seizure_list(v1_spreadsheet_corpus):
    corpus = TUSZCorpus(v1_spreadsheet_corpus)
    assert corpus.version == "1.5.2" and corpus.spreadsheet.endswith("seizures_v36r.xlsx")
    assert _found_seizures(corpus) == _expected_seizures(V1_SPEC)
    assert list(corpus.seizures["split"]) == ["train"] * 3 + ["dev"] * 2  # sheet order
    assert set(corpus.seizures["source"]) == {"spreadsheet"}


def test_v140_spreadsheet_with_dev_test_and_summary_rows(tmp_path):
    spec = [dict(r, split="dev_test") if r["split"] == "dev" else r for r in V1_SPEC]
    root = build_v1_corpus(os.fspath(tmp_path), spec)
    write_spreadsheet(root, spec, version="1.4.0")
    corpus = TUSZCorpus(root)
    assert corpus.version == "1.4.0"
    assert _found_seizures(corpus) == _expected_seizures(spec)
    assert set(corpus.seizures["split"]) == {"train", "dev_test"}


def test_v2_index_merges_channel_rows_into_seizures(v2_corpus):
    corpus = TUSZCorpus(v2_corpus)
    assert corpus.layout == "v2" and corpus.version == "2.0.3"
    assert _found_seizures(corpus) == _expected_seizures(V2_SPEC)
    recordings = corpus.recordings.set_index("edf_path")
    for spec in V2_SPEC:
        row = recordings.loc[v2_stem(corpus.root, spec) + ".edf"]
        assert (row["patient_id"], row["date"], row["fs"]) == (spec["patient"], spec["session"][5:], spec["fs"])


def test_describe_counts(v2_corpus):
    table = TUSZCorpus(v2_corpus).describe()
    assert table.loc[("total", "(all)"), "files"] == 3
    assert table.loc[("total", "(all)"), "seconds"] == 90
    assert table.loc[("dev", "tcsz")].to_dict() == {"files": 1, "sessions": 1, "patients": 1,
                                                   "seizures": 1, "seconds": 10.0}


def test_channel_and_binary_events(v1_corpus, v2_corpus):
    v1 = TUSZCorpus(v1_corpus)
    path = v1_stem(v1.root, V1_SPEC[0]) + ".edf"
    channel_events = v1.channel_events(path)
    seizure = channel_events[channel_events["label"] == "fnsz"]
    assert list(seizure["channel"]) == ["FP1-F7", "T5-O1"]
    assert list(v1.binary_events(path)["label"]) == ["bckg", "seiz", "bckg"]
    v2 = TUSZCorpus(v2_corpus)
    path = v2_stem(v2.root, V2_SPEC[0]) + ".edf"
    assert set(v2.channel_events(path)["channel"]) >= {"FP1-F7", "T5-O1"}
    assert list(v2.binary_events(path)["label"]) == ["bckg", "seiz", "bckg"]


# ---- reading ------------------------------------------------------------------------------


def test_montage_equals_electrode_differences(v1_corpus):
    corpus = TUSZCorpus(v1_corpus)
    path = v1_stem(corpus.root, V1_SPEC[2]) + ".edf"  # 02_tcp_le, 256 Hz
    referential = corpus.read(path, montage=None, fs=None)
    bipolar = corpus.read(path, montage="tcp22", fs=None)
    index = {name: i for i, name in enumerate(referential.channel_names)}
    for channel, (a, b) in enumerate(TCP22):
        expected = referential.signals[index[a]] - referential.signals[index[b]]
        np.testing.assert_allclose(bipolar.signals[channel], expected, atol=1e-4)
    assert bipolar.fs == 256 and bipolar.patient_id == "00000002"
    assert list(bipolar.events["label"]) == ["gnsz", "cpsz"]


def test_resampled_length_and_spectrum(v2_corpus):
    corpus = TUSZCorpus(v2_corpus)
    path = v2_stem(corpus.root, V2_SPEC[0]) + ".edf"  # 512 Hz, 30 s
    recording = corpus.read(path, montage=None, fs=250)
    assert recording.signals.shape == (21, 30 * 250) and recording.signals.dtype == np.float32
    for name in ("FP1", "T3", "PZ"):
        row = recording.channel_names.index(name)
        spectrum = np.abs(np.fft.rfft(recording.signals[row]))
        peak = np.fft.rfftfreq(recording.signals.shape[1], 1 / 250)[np.argmax(spectrum)]
        assert peak == pytest.approx(electrode_frequency(name), abs=1 / 30)


def test_time_range_read_equals_slice_of_whole_read(v2_corpus):
    corpus = TUSZCorpus(v2_corpus)
    row = corpus.recordings.iloc[0]  # 250 Hz
    whole = corpus.read(row, fs=None).signals
    part = corpus.read(row, fs=None, start=12.5, stop=21.0)
    np.testing.assert_array_equal(part.signals, whole[:, int(12.5 * 250):int(21.0 * 250)])
    assert (part.start, part.stop) == (12.5, 21.0)


def test_tcp22_on_ar_a_is_a_clear_error(v1_corpus):
    corpus = TUSZCorpus(v1_corpus)
    path = v1_stem(corpus.root, V1_SPEC[3]) + ".edf"
    with pytest.raises(EDFError) as caught:
        corpus.read(path, montage="tcp22")
    assert str(caught.value).startswith(path) and "03_tcp_ar_a" in str(caught.value)
    assert corpus.read(path, montage="tcp20").signals.shape == (20, 30 * 250)


def _ibm_reference(edf_path, start, stop, fs=250):
    """IBM build_data.py's arithmetic: whole signal, slice, resample per electrode, differences."""
    reader = pyedflib.EdfReader(edf_path)
    labels = reader.getSignalLabels()
    out = []
    for a, b in TCP20:
        signals = []
        for name in (a, b):
            channel = next(i for i, label in enumerate(labels) if f"EEG {name}-" in label)
            rate = reader.getSampleFrequency(channel)
            cut = reader.readSignal(channel)[int(np.floor(start * rate)):int(np.floor(stop * rate))]
            signals.append(resample(cut, int(np.floor((stop - start) * fs))))
        out.append(signals[0] - signals[1])
    reader.close()
    return np.array(out)


def test_seizure_segments_follow_ibm_protocol(v1_spreadsheet_corpus, caplog):
    corpus = TUSZCorpus(v1_spreadsheet_corpus)
    selected, excluded = corpus.benchmark_seizures()
    assert excluded == {"mysz": 1}
    with caplog.at_level("INFO"):
        segments = list(corpus.seizure_segments())
    assert "mysz" in caplog.text
    assert [row["label"] for row, _ in segments] == ["fnsz", "gnsz", "cpsz", "absz"]
    for row, segment in segments:
        assert segment.dtype == np.float32
        assert segment.shape == (20, int(np.floor((row["stop"] - row["start"]) * 250)))
        reference = _ibm_reference(row["edf_path"], row["start"], row["stop"])
        np.testing.assert_allclose(segment, reference, atol=1e-3)


def test_seizure_segments_pool_train_and_dev_only(v2_corpus):
    corpus = TUSZCorpus(v2_corpus)
    labels = [row["label"] for row, _ in corpus.seizure_segments(types=SEIZURE_TYPES)]
    assert sorted(labels) == ["fnsz", "gnsz", "tcsz"]  # the eval cpsz is not used


# ---- bad input ----------------------------------------------------------------------------


def _assert_error(error_type, path, fragment, build):
    with pytest.raises(error_type) as caught:
        build()
    message = str(caught.value)
    assert message.startswith(os.fspath(path)), message
    assert fragment in message, message


def _tse(root, index=0):
    return v1_stem(root, V1_SPEC[index]) + ".tse"


def _write(path, text):
    with open(path, "w") as handle:
        handle.write(text)


@pytest.mark.parametrize("body, fragment", [
    ("0.0000 10.0000 bckg\n", "expected 'start stop label probability'"),
    ("0.0000 ten bckg 1.0000\n", "'ten' is not a number"),
    ("0.0000 10.0000 bckg 1.0000\n10.0000 60.0000 xyzz 1.0000\n", "unknown label 'xyzz'"),
    ("0.0000 30.0000 bckg 1.0000\n20.0000 60.0000 fnsz 1.0000\n", "overlaps the previous event"),
    ("0.0000 30.0000 bckg 1.0000\n31.0000 60.0000 fnsz 1.0000\n", "gap from 30 s to 31 s"),
    ("0.0000 30.0000 bckg 1.0000\n30.0000 75.0000 fnsz 1.0000\n", "after the end of the recording"),
    ("", "no events after the version line"),
])
def test_bad_tse_raises_naming_file_and_problem(v1_corpus, copy_corpus, body, fragment):
    root = copy_corpus(v1_corpus)
    _write(_tse(root), "version = tse_v1.0.0\n\n" + body)
    _assert_error(AnnotationError, _tse(root), fragment, lambda: TUSZCorpus(root))


def test_empty_annotation_file(v1_corpus, copy_corpus):
    root = copy_corpus(v1_corpus)
    _write(_tse(root), "")
    _assert_error(AnnotationError, _tse(root), "empty annotation file", lambda: TUSZCorpus(root))


def test_missing_annotation_file(v1_corpus, copy_corpus):
    root = copy_corpus(v1_corpus)
    os.remove(_tse(root))
    _assert_error(AnnotationError, _tse(root), "annotation file not found", lambda: TUSZCorpus(root))


def test_bad_version_line(v1_corpus, copy_corpus):
    root = copy_corpus(v1_corpus)
    _write(_tse(root), "version = tse_v9\n\n0.0000 60.0000 bckg 1.0000\n")
    _assert_error(AnnotationError, _tse(root), "expected 'version = tse_v1.0.0'", lambda: TUSZCorpus(root))


def test_bad_lbl_lines(v1_corpus, tmp_path):
    lbl = v1_stem(v1_corpus, V1_SPEC[0]) + ".lbl"
    lines = open(lbl).read().splitlines()
    label_line = next(i for i, line in enumerate(lines) if line.startswith("label"))
    broken = tmp_path / "broken.lbl"
    _write(broken, "\n".join(lines[:label_line] + ["label = {0, 0, 1.0, 2.0, 99, [1.0]}"]) + "\n")
    _assert_error(AnnotationError, broken, "channel 99 is not in the montage block", lambda: read_lbl(broken))
    _write(broken, "\n".join(lines[:label_line] + ["label = {0, 0, 1.0, 2.0, 0, [0.0, 1.0]}"]) + "\n")
    _assert_error(AnnotationError, broken, "2 probabilities for 28 symbols", lambda: read_lbl(broken))
    _write(broken, "\n".join(lines + ["nonsense here"]) + "\n")
    _assert_error(AnnotationError, broken, "unrecognised line 'nonsense here'", lambda: read_lbl(broken))
    assert len(read_lbl(lbl, duration=60).events) == 22 * 2 + 2


def _csv(root, index=0):
    return v2_stem(root, V2_SPEC[index]) + ".csv"


@pytest.mark.parametrize("replace, fragment", [
    (("channel,start_time,stop_time,label,confidence", "chan,start,stop"), "expected the header"),
    (("FP1-F7,5.0000,15.0000,fnsz,1.0000", "FP1-F7,5.0000,15.0000,fnsq,1.0000"), "unknown label 'fnsq'"),
    (("FP1-F7,5.0000,15.0000,fnsz,1.0000", "FP1-F7,5.0000,45.0000,fnsz,1.0000"), "after the end"),
    (("FP1-F7,5.0000,15.0000,fnsz,1.0000", "FP1-F7,5.0000,fnsz,1.0000"), "expected 5 comma-separated"),
])
def test_bad_csv_raises_naming_file_and_problem(v2_corpus, copy_corpus, replace, fragment):
    root = copy_corpus(v2_corpus)
    text = open(_csv(root)).read()
    assert replace[0] in text
    _write(_csv(root), text.replace(replace[0], replace[1]))
    _assert_error(AnnotationError, _csv(root), fragment, lambda: TUSZCorpus(root))


def test_partial_copy_says_how_many_listed_recordings_are_missing(v1_spreadsheet_corpus, copy_corpus):
    root = copy_corpus(v1_spreadsheet_corpus)
    gone = v1_stem(root, V1_SPEC[2])  # two seizures
    for suffix in (".edf", ".tse", ".tse_bi", ".lbl", ".lbl_bi"):
        os.remove(gone + suffix)
    sheet = os.path.join(root, "_DOCS", "seizures_v36r.xlsx")
    with pytest.raises(CorpusError) as caught:
        TUSZCorpus(root)
    assert str(caught.value).startswith(sheet) and "1 of the 4 recordings it lists are not in" in str(caught.value)
    assert gone + ".edf" in str(caught.value) and "skip_bad=True" in str(caught.value)
    with pytest.warns(UserWarning, match=r"1 recording\(s\) listed in .* are missing \(2 seizures\)"):
        corpus = TUSZCorpus(root, skip_bad=True)
    assert corpus.missing.values.tolist() == [
        ["train", "./train/02_tcp_le/000/00000002/s002_2011_02_02/00000002_s002_t001.tse", gone + ".edf", 2]]
    assert len(corpus.recordings) == 3 and set(corpus.seizures["label"]) == {"fnsz", "mysz", "absz"}
    assert corpus.skipped.empty and "missing=1" in repr(corpus)


def test_bad_tse_beside_a_spreadsheet_is_read(v1_spreadsheet_corpus, copy_corpus):
    root = copy_corpus(v1_spreadsheet_corpus)
    _write(_tse(root, 1), "version = tse_v1.0.0\n\n0.0000 20.0000 bckq 1.0000\n")
    _assert_error(AnnotationError, _tse(root, 1), "unknown label 'bckq'", lambda: TUSZCorpus(root))
    with pytest.warns(UserWarning, match="skipped 1 bad file"):
        corpus = TUSZCorpus(root, skip_bad=True)
    assert corpus.missing.empty and list(corpus.skipped["path"]) == [_tse(root, 1)]


def test_tse_disagreeing_with_the_sheet_is_listed(v1_spreadsheet_corpus, copy_corpus):
    root = copy_corpus(v1_spreadsheet_corpus)
    _write(_tse(root, 0), "version = tse_v1.0.0\n\n0.0000 10.0000 bckg 1.0000\n10.0000 20.0000 gnsz 1.0000\n"
                          "20.0000 60.0000 bckg 1.0000\n")
    corpus = TUSZCorpus(root)
    assert corpus.mismatches["path"].tolist() == [_tse(root, 0)]
    assert "1 seizure(s) in the .tse, 1 in the spreadsheet" in corpus.mismatches["problem"].iloc[0]
    assert _found_seizures(corpus) == _expected_seizures(V1_SPEC)  # the sheet wins, as in IBM's protocol


def test_eeg_electrodes_at_two_rates_are_refused(v1_corpus, copy_corpus):
    root = copy_corpus(v1_corpus)
    edf = v1_stem(root, V1_SPEC[1]) + ".edf"
    write_edf(edf, [("EEG FP1-REF", 262, "uV", None), ("EEG F7-REF", 250, "uV", None)], 20)
    _assert_error(EDFError, edf, "scalp electrodes at different sampling rates (250 Hz: F7; 262 Hz: FP1)",
                  lambda: TUSZCorpus(root))


def test_flat_electrodes_are_named(v1_corpus, copy_corpus):
    root = copy_corpus(v1_corpus)
    spec = V1_SPEC[0]
    edf = v1_stem(root, spec) + ".edf"
    channels = [(label, fs, unit, np.full(len(x), 12.5) if label == "EEG C3-REF" else x)
                for label, fs, unit, x in tusz_channels(spec)]
    write_edf(edf, channels, spec["duration"])
    corpus = TUSZCorpus(root)
    assert corpus.read(edf, start=10, stop=20).flat_electrodes == ("C3",)
    assert TUSZCorpus(v1_corpus).read(edf.replace(root, v1_corpus)).flat_electrodes == ()


def test_spreadsheet_unknown_type_and_past_end(v1_corpus, copy_corpus):
    root = copy_corpus(v1_corpus)
    good = "./train/01_tcp_ar/000/00000001/s001_2010_01_01/00000001_s001_t000.tse"
    sheet = write_spreadsheet(root, extra_rows=[("train", [good, 1.0, 2.0, "WXYZ"])])
    _assert_error(AnnotationError, sheet, "unknown seizure type 'WXYZ'", lambda: TUSZCorpus(root))
    sheet = write_spreadsheet(root, extra_rows=[("train", [good, 50.0, 70.0, "FNSZ"])])
    _assert_error(AnnotationError, sheet, "ends after the end of", lambda: TUSZCorpus(root))


def test_tree_without_recognised_layout(tmp_path):
    with pytest.raises(CorpusError, match="no 'edf' folder"):
        TUSZCorpus(tmp_path)
    write_edf(os.fspath(tmp_path / "edf" / "train" / "x" / "rec.edf"),
              [("EEG FP1-REF", 250, "uV", None)], 2)
    with pytest.raises(CorpusError, match="no recognised TUSZ layout"):
        TUSZCorpus(tmp_path, skip_bad=True)
    with pytest.raises(CorpusError) as caught:
        TUSZCorpus(tmp_path)
    assert str(caught.value).startswith(os.fspath(tmp_path / "edf" / "train" / "x" / "rec.edf"))


def test_annotation_past_edf_end_found_by_header_comparison(v1_corpus, copy_corpus):
    root = copy_corpus(v1_corpus)
    edf = v1_stem(root, V1_SPEC[1]) + ".edf"  # 20 s, bckg only
    write_edf(edf, [("EEG FP1-REF", 250, "uV", None)], 10)  # now shorter than its .tse
    _assert_error(AnnotationError, _tse(root, 1), "after the end of the recording", lambda: TUSZCorpus(root))


def test_skip_bad_lists_what_it_skipped(v1_corpus, copy_corpus):
    root = copy_corpus(v1_corpus)
    _write(_tse(root), "version = tse_v1.0.0\n\n0.0000 60.0000 nope 1.0000\n")
    bad_edf = v1_stem(root, V1_SPEC[2]) + ".edf"
    _write(bad_edf, "garbage")
    with pytest.warns(UserWarning, match="skipped 2 bad file"):
        corpus = TUSZCorpus(root, skip_bad=True)
    assert sorted(corpus.skipped["path"]) == sorted([bad_edf, _tse(root)])
    assert set(corpus.skipped["error"]) == {"EDFError", "AnnotationError"}
    assert any("unknown label 'nope'" in p for p in corpus.skipped["problem"])
    assert len(corpus.recordings) == 2 and set(corpus.seizures["label"]) == {"mysz", "absz"}
    with pytest.raises(ValueError, match="not a recording of the corpus"):
        corpus.read(bad_edf)


def test_good_corpus_does_not_warn(v2_corpus):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert TUSZCorpus(v2_corpus, skip_bad=True).skipped.empty


def test_read_tse_tiles(v1_corpus):
    events = read_tse(_tse(v1_corpus, 2), duration=40)
    assert list(events["label"]) == ["bckg", "gnsz", "bckg", "cpsz", "bckg"]
    assert isinstance(events, pd.DataFrame) and events["stop"].iloc[-1] == 40
