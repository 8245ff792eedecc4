"""The corpus audit (kerasseizure.io.audit) on synthetic TUSZ v1.5.2 and HMS copies, damaged one file at a time."""

import os

import numpy as np
import pandas as pd
import pytest

from kerasseizure.errors import CorpusError, TableError
from kerasseizure.io import audit as audit_module
from kerasseizure.io.audit import PUBLISHED_COUNTS, audit, error_kind
from kerasseizure.io.channels import HMS_EEG_COLUMNS
from kerasseizure.io.hms import HMSDataset
from kerasseizure.io.labels import SEIZURE_TYPES
from kerasseizure.io.tusz import TUSZCorpus


# The shared session corpora (tests/corpora.py); a test that damages one copies it first.
@pytest.fixture(scope="module")
def tusz_root(tusz_v152_root):
    return os.fspath(tusz_v152_root)


@pytest.fixture(scope="module")
def hms_root(hms_small_root):
    return os.fspath(hms_small_root)


@pytest.fixture(scope="module")
def tusz_recordings(tusz_root):
    """The clean corpus' recordings, paths relative to its root."""
    recordings = TUSZCorpus(tusz_root).recordings
    return recordings.assign(relative=[os.path.relpath(p, tusz_root) for p in recordings["edf_path"]])


def _problems(result):
    return sorted(zip(result.problems["path"], result.problems["kind"]))


# ------------------------------------------------------------------------------ published counts


def test_published_counts_add_up_to_the_published_totals():
    for release, total in (("1.5.2", (3047, 237)), ("1.4.0", (2009, 167))):
        counts = PUBLISHED_COUNTS[f"TUSZ {release}"]["counts"]
        assert sum(counts[f"{label} seizures"] for label in SEIZURE_TYPES) == total[0]
        assert (counts["benchmark seizures"], counts["benchmark patients"]) == total
    assert PUBLISHED_COUNTS["TUSZ 1.5.2"]["counts"]["fnsz seizures"] == 1836
    assert PUBLISHED_COUNTS["TUSZ 1.5.2"]["counts"]["recordings train"] == 4599
    assert PUBLISHED_COUNTS["TUSZ 2.0.3"]["counts"]["csv_bi seizure events"] == 3971
    assert PUBLISHED_COUNTS["HMS"]["counts"]["train.csv rows"] == 106_800
    assert all(entry["source"] for entry in PUBLISHED_COUNTS.values())


@pytest.mark.parametrize("corpus, release, key", [
    ("TUSZ", "1.5.2", "TUSZ 1.5.2"), ("TUSZ", "1.5.x", "TUSZ 1.5.2"), ("TUSZ", "2.0.x", "TUSZ 2.0.3"),
    ("TUSZ", "1.4.0", "TUSZ 1.4.0"), ("TUSZ", "3.0.0", None), ("HMS", "Kaggle 2024", "HMS"),
])
def test_published_release(corpus, release, key):
    assert audit_module.published_release(corpus, release) == key


# ------------------------------------------------------------------------------ TUSZ


def test_clean_tusz_copy(tusz_root, tusz_recordings):
    result = audit(tusz_root)
    assert (result.corpus, result.release, result.layout) == ("TUSZ", "1.5.2", "v1")
    assert result.seizure_list.endswith(os.path.join("_DOCS", "seizures_v36r.xlsx"))
    assert result.usable and len(result.problems) == 0
    assert result.summary["recordings_per_split"] == tusz_recordings["split"].value_counts().to_dict()
    rates = {f"{fs:g} Hz" for fs in tusz_recordings["fs"]}
    assert set(result.summary["files_per_sampling_rate"]) == rates
    assert sum(result.summary["files_per_eeg_electrode_count"].values()) == len(tusz_recordings)
    # A small synthetic copy differs from the release's counts: information, not a problem.
    assert list(result.comparison["item"]) == list(PUBLISHED_COUNTS["TUSZ 1.5.2"]["counts"])
    assert result.published_status().startswith("differs from the published counts")
    line = result.summary_line()
    assert line.startswith("audit: TUSZ v1.5.2 (v1 layout)") and "0 problem(s)" in line


def test_audit_reuses_a_built_corpus(tusz_root):
    corpus = TUSZCorpus(tusz_root)
    from_object, from_folder = audit(corpus), audit(tusz_root)
    assert from_object.summary == from_folder.summary
    pd.testing.assert_frame_equal(from_object.comparison, from_folder.comparison)


def _stem(root, relative):
    return os.path.join(root, relative)[:-4]


def _delete_recording(stem):
    for name in os.listdir(os.path.dirname(stem)):
        if name.startswith(os.path.basename(stem) + "."):
            os.remove(os.path.join(os.path.dirname(stem), name))
    return stem + ".edf"


def _truncate_edf(stem):
    with open(stem + ".edf", "r+b") as handle:
        handle.truncate(os.path.getsize(stem + ".edf") - 1000)
    return stem + ".edf"


def _edit_tse(stem, edit):
    path = stem + ".tse"
    with open(path) as handle:
        lines = handle.read().splitlines()
    events = [line.split() for line in lines[2:] if line.strip()]
    with open(path, "w") as handle:
        handle.write("\n".join(lines[:2] + [" ".join(fields) for fields in edit(events)]) + "\n")
    return path


def _label_past_end(stem):
    return _edit_tse(stem, lambda events: events[:-1] + [[events[-1][0], "9999.0000", *events[-1][2:]]])


def _unknown_label(stem):
    return _edit_tse(stem, lambda events: [events[0][:2] + ["xxxx"] + events[0][3:]] + events[1:])


def _overlapping_events(stem):
    def overlap(events):
        first, second = events[0], events[1]
        return [first, [f"{float(second[0]) - 0.5:.4f}", *second[1:]], *events[2:]]
    return _edit_tse(stem, overlap)


def _header_size(data):
    return int(data[184:192])


def _rename_t3(stem):
    """Rename electrode T3 in the EDF header (same width), as a file recorded without it."""
    path = stem + ".edf"
    with open(path, "r+b") as handle:
        data = handle.read()
        header = data[:_header_size(data)]
        assert header.count(b"EEG T3-") == 1
        handle.seek(0)
        handle.write(header.replace(b"EEG T3-", b"EEG X3-"))
    return path


def _delete_tse_bi(stem):
    os.remove(stem + ".tse_bi")
    return stem + ".tse_bi"


@pytest.mark.parametrize("damage, kind", [
    (_delete_recording, "missing_recording"),
    (_truncate_edf, "unreadable_edf"),
    (_label_past_end, "label_past_end"),
    (_unknown_label, "unknown_label"),
    (_overlapping_events, "overlapping_events"),
    (_rename_t3, "montage_incomplete"),
    (_delete_tse_bi, "missing_annotation"),
])
def test_damaged_tusz_file_is_one_problem(tusz_root, tusz_recordings, copy_corpus, damage, kind):
    root = copy_corpus(tusz_root)
    # A train recording with seizures and every TCP20 electrode (01_tcp_ar).
    target = tusz_recordings[(tusz_recordings["split"] == "train") & (tusz_recordings["n_seizures"] > 0)
                             & (tusz_recordings["montage_kind"] == "tcp_ar")].iloc[0]
    path = damage(_stem(root, target["relative"]))
    result = audit(root)
    assert _problems(result) == [(path, kind)]
    assert not result.usable


def test_tse_disagreeing_with_the_spreadsheet_is_a_warning(tusz_root, tusz_recordings, copy_corpus):
    root = copy_corpus(tusz_root)
    target = tusz_recordings[(tusz_recordings["split"] == "train") & (tusz_recordings["n_seizures"] > 0)].iloc[0]

    def relabel(events):
        other = {"fnsz": "gnsz"}
        return [fields[:2] + [other.get(fields[2], "fnsz") if fields[2] != "bckg" else "bckg"] + fields[3:]
                for fields in events]

    path = _edit_tse(_stem(root, target["relative"]), relabel)
    result = audit(root)
    assert result.usable
    assert list(zip(result.warnings["path"], result.warnings["kind"])) == [(path, "sheet_tse_mismatch")]


def _flatten_electrode(path, label=b"EEG T3-"):
    """Write digital 0 into every sample of one signal: a disconnected electrode."""
    with open(path, "r+b") as handle:
        data = bytearray(handle.read())
        n_signals = int(data[252:256])
        labels = [bytes(data[256 + 16 * i:256 + 16 * (i + 1)]) for i in range(n_signals)]
        field = 256 + n_signals * (16 + 80 + 8 + 8 + 8 + 8 + 8 + 80)
        per_record = [int(data[field + 8 * i:field + 8 * (i + 1)]) for i in range(n_signals)]
        index = next(i for i, name in enumerate(labels) if name.startswith(label))
        offset, record = sum(per_record[:index]), sum(per_record)
        header = _header_size(data)
        for start in range(header + 2 * offset, len(data), 2 * record):
            data[start:start + 2 * per_record[index]] = bytes(2 * per_record[index])
        handle.seek(0)
        handle.write(data)


def test_flat_electrode_is_found_when_signals_are_read(tusz_root, tusz_recordings, copy_corpus):
    root = copy_corpus(tusz_root)
    path = os.path.join(root, tusz_recordings["relative"].iloc[0])
    _flatten_electrode(path)
    assert "flat_channel" not in set(audit(root).findings["kind"])
    calls = []
    result = audit(root, signals=True, progress=lambda done, total: calls.append((done, total)))
    flat = result.findings[result.findings["kind"] == "flat_channel"]
    assert list(flat["path"]) == [path] and list(flat["severity"]) == ["warning"]
    assert "T3" in flat["detail"].iloc[0]
    assert result.usable and result.signals_read
    assert calls[-1] == (len(tusz_recordings), len(tusz_recordings))


def test_reader_errors_map_to_kinds():
    mixed = "scalp electrodes at different sampling rates (250 Hz: FP1; 256 Hz: T3); every EEG electrode ..."
    assert error_kind("EDFError", mixed) == "mixed_rates"
    assert error_kind("EDFError", "file is truncated: 1000 bytes missing") == "unreadable_edf"
    assert error_kind("AnnotationError", "line 4: gap from 3 s to 4 s") == "bad_annotation"
    assert error_kind("CorpusError", "path follows neither ...") == "bad_layout"


def test_unrecognised_folder_is_a_corpus_error(tmp_path):
    with pytest.raises(CorpusError, match="no recognised layout"):
        audit(tmp_path)


# ------------------------------------------------------------------------------ HMS


@pytest.fixture(scope="module")
def hms_ids(hms_root):
    return HMSDataset(hms_root).labels[["eeg_id", "spectrogram_id"]]


def test_clean_hms_copy(hms_root, hms_ids):
    result = audit(hms_root)
    assert (result.corpus, result.layout) == ("HMS", "competition")
    assert result.usable
    assert result.summary["eeg_ids"] == len(hms_ids)
    assert result.summary["eeg_seconds"]["min"] >= 50
    assert list(result.comparison["item"]) == list(PUBLISHED_COUNTS["HMS"]["counts"])
    assert not result.comparison["matches"].any()
    assert not result.signals_read and "eegs_with_nan" not in result.summary


def _eeg(root, eeg_id):
    return os.path.join(root, "train_eegs", f"{eeg_id}.parquet")


def _spectrogram(root, spectrogram_id):
    return os.path.join(root, "train_spectrograms", f"{spectrogram_id}.parquet")


def _shorten(path, rows):
    pd.read_parquet(path).iloc[:rows].to_parquet(path, index=False)


def _garble(path):
    with open(path, "wb") as handle:
        handle.write(b"not a parquet file")


@pytest.mark.parametrize("damage, kind", [
    (lambda root, ids: os.remove(_eeg(root, ids.eeg_id)) or _eeg(root, ids.eeg_id), "missing_eeg"),
    (lambda root, ids: os.remove(_spectrogram(root, ids.spectrogram_id)) or _spectrogram(root, ids.spectrogram_id),
     "missing_spectrogram"),
    (lambda root, ids: _shorten(_eeg(root, ids.eeg_id), 8000) or _eeg(root, ids.eeg_id), "eeg_too_short"),
    (lambda root, ids: _shorten(_spectrogram(root, ids.spectrogram_id), 100) or _spectrogram(root, ids.spectrogram_id),
     "spectrogram_too_short"),
    (lambda root, ids: _garble(_eeg(root, ids.eeg_id)) or _eeg(root, ids.eeg_id), "unreadable_parquet"),
])
def test_damaged_hms_file_is_one_problem(hms_root, hms_ids, copy_corpus, damage, kind):
    root = copy_corpus(hms_root)
    path = damage(root, hms_ids.iloc[0])
    result = audit(root)
    assert _problems(result) == [(path, kind)]


def test_nan_run_is_a_warning_when_signals_are_read(hms_root, hms_ids, copy_corpus):
    root = copy_corpus(hms_root)
    clean = next(i for i in hms_ids["eeg_id"] if not pd.read_parquet(_eeg(root, i)).isna().any().any())
    path = _eeg(root, clean)
    frame = pd.read_parquet(path)
    frame.loc[1000:1399, "Cz"] = np.nan
    frame.to_parquet(path, index=False)
    result = audit(root, signals=True)
    found = result.findings[result.findings["path"] == path]
    assert list(found["kind"]) == ["nan_run"] and list(found["severity"]) == ["warning"]
    assert "400 samples (2 s) in Cz" in found["detail"].iloc[0]
    assert result.usable and result.summary["eegs_with_nan"] >= 1


def test_bad_train_csv_is_unreadable(hms_root, copy_corpus):
    root = copy_corpus(hms_root)
    path = os.path.join(root, "train.csv")
    pd.read_csv(path).drop(columns="patient_id").to_csv(path, index=False)
    with pytest.raises(TableError, match="patient_id"):
        audit(root)


def test_eeg_columns_are_checked(hms_root, hms_ids, copy_corpus):
    root = copy_corpus(hms_root)
    path = _eeg(root, hms_ids["eeg_id"].iloc[1])
    pd.read_parquet(path).drop(columns=HMS_EEG_COLUMNS[0]).to_parquet(path, index=False)
    result = audit(root)
    assert _problems(result) == [(path, "unreadable_parquet")]
    assert "Fp1" in result.problems["detail"].iloc[0]
