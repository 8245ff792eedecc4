"""HMSDataset on small hand-made trees in the competition's on-disk format."""

import pickle
import shutil

import numpy as np
import pandas as pd
import pytest

from kerasseizure.errors import CorpusError, SignalError, TableError
from kerasseizure.io import hms
from kerasseizure.io.channels import HMS_EEG_COLUMNS
from kerasseizure.io.hms import HMSDataset
from kerasseizure.io.missing import fill_nan_with_channel_mean, longest_nan_runs
from kerasseizure.io.labels import HMS_CLASSES, HMS_TRAIN_COLUMNS, HMS_VOTE_COLUMNS

FREQS = [(3 + k) * 200 / 1024 for k in range(100)]
SPEC_COLUMNS = [f"{r}_{f:.2f}" for r in ("LL", "RL", "LP", "RP") for f in FREQS]

# (eeg_id, sub, eeg_off, spec_id, spec_sub, spec_off, label_id, patient, consensus, votes)
# File order deliberately not sorted by eeg_id.
ROWS = [
    (1003, 0, 0.0, 502, 0, 0.0, 31, 8, "Other", (0, 0, 0, 0, 0, 3)),
    (1001, 0, 0.0, 501, 0, 100.0, 11, 7, "Other", (1, 0, 0, 0, 0, 2)),
    (1001, 1, 10.0, 501, 1, 110.0, 12, 7, "LPD", (0, 1, 0, 0, 0, 2)),
    (1002, 0, 0.0, 501, 2, 200.0, 21, 7, "GPD", (0, 0, 10, 2, 0, 0)),
    (1001, 2, 20.0, 501, 3, 120.0, 13, 7, "Seizure", (3, 0, 0, 0, 0, 0)),
    (1002, 1, 4.0, 501, 3, 204.0, 22, 7, "GPD", (0, 0, 9, 0, 3, 2)),
    (1003, 1, 2.0, 502, 1, 4.0, 32, 8, "Other", (0, 0, 0, 5, 0, 6)),
]


def train_frame():
    records = [(*row[:9], *row[9]) for row in ROWS]
    return pd.DataFrame.from_records(records, columns=list(HMS_TRAIN_COLUMNS))


def eeg_array(n):
    # x[i, c] = 32 i + c: exact in float32, so a window's first row tells its start sample.
    return (np.arange(n)[:, None] * 32 + np.arange(20)[None, :]).astype(np.float32)


def write_eeg(path, x, columns=HMS_EEG_COLUMNS):
    pd.DataFrame(x, columns=list(columns)).to_parquet(path, index=False)


def write_spectrogram(path, n_rows, columns=SPEC_COLUMNS):
    values = (np.arange(n_rows)[:, None] * 1000 + np.arange(len(columns))[None, :]).astype(np.float32)
    frame = pd.DataFrame(values, columns=columns)
    frame.insert(0, "time", np.arange(n_rows, dtype=np.float32) * 2 + 1)
    frame.to_parquet(path, index=False)


def write_tree(root):
    for folder in ("train_eegs", "train_spectrograms", "test_eegs", "test_spectrograms"):
        (root / folder).mkdir(parents=True)
    train_frame().to_csv(root / "train.csv", index=False)
    x = eeg_array(12000)                 # 60 s
    x[5:10, 2] = np.nan                  # C3: a 5-sample run
    x[100:350, 8] = np.nan               # Fz: a 250-sample run
    x[20:30, 8] = np.nan                 # Fz: a shorter one
    write_eeg(root / "train_eegs" / "1001.parquet", x)
    x = eeg_array(11000)                 # 55 s, EKG all NaN
    x[:, 19] = np.nan
    write_eeg(root / "train_eegs" / "1002.parquet", x)
    write_eeg(root / "train_eegs" / "1003.parquet", eeg_array(10000))
    write_spectrogram(root / "train_spectrograms" / "501.parquet", 700)
    write_spectrogram(root / "train_spectrograms" / "502.parquet", 300)
    pd.DataFrame({"spectrogram_id": [601], "eeg_id": [2001], "patient_id": [9]}).to_csv(
        root / "test.csv", index=False)
    write_eeg(root / "test_eegs" / "2001.parquet", eeg_array(10000))
    write_spectrogram(root / "test_spectrograms" / "601.parquet", 300)
    sub = pd.DataFrame({"eeg_id": [2001], **{c: [1 / 6] for c in HMS_VOTE_COLUMNS}})
    sub.to_csv(root / "sample_submission.csv", index=False)
    return root


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return write_tree(tmp_path_factory.mktemp("hms"))


@pytest.fixture
def ds(tree):
    return HMSDataset(tree)


@pytest.fixture
def bad_tree(tmp_path, tree):
    """A private copy of the tree to break."""
    root = tmp_path / "hms"
    shutil.copytree(tree, root)
    return root


# ---------------------------------------------------------------------- labels


def test_labels_one_row_per_eeg_id_sorted(ds):
    labels = ds.labels
    assert list(labels.columns) == list(hms.LABEL_COLUMNS)
    assert labels["eeg_id"].tolist() == [1001, 1002, 1003]
    assert labels["patient_id"].tolist() == [7, 7, 8]
    assert labels["spectrogram_id"].tolist() == [501, 501, 502]
    assert labels["n_annotations"].tolist() == [3, 2, 2]


def test_labels_votes_and_probabilities_by_hand(ds):
    labels = ds.labels.set_index("eeg_id")
    summed = {1001: [4, 1, 0, 0, 0, 4], 1002: [0, 0, 19, 2, 3, 2], 1003: [0, 0, 0, 5, 0, 9]}
    for eeg_id, votes in summed.items():
        assert labels.loc[eeg_id, list(HMS_VOTE_COLUMNS)].tolist() == votes
        assert labels.loc[eeg_id, "total_votes"] == sum(votes)
        np.testing.assert_allclose(labels.loc[eeg_id, list(HMS_CLASSES)].to_numpy(float),
                                   np.array(votes) / sum(votes))
    np.testing.assert_allclose(labels.loc[1001, "Seizure"], 4 / 9)
    np.testing.assert_allclose(labels[list(HMS_CLASSES)].sum(axis=1), 1.0)


def test_labels_populations_offsets_and_consensus(ds):
    labels = ds.labels.set_index("eeg_id")
    assert labels["votes_per_annotation_min"].tolist() == [3, 12, 3]
    assert labels["votes_per_annotation_max"].tolist() == [3, 14, 11]
    assert labels["population"].tolist() == ["low", "high", "mixed"]
    # first sub-row by eeg_sub_id, not by file order
    assert labels["expert_consensus"].tolist() == ["Other", "GPD", "Other"]
    assert labels["spectrogram_label_offset_seconds_mean"].tolist() == [110.0, 202.0, 2.0]
    assert labels["spectrogram_label_offset_seconds_min"].tolist() == [100.0, 200.0, 0.0]
    assert labels["spectrogram_label_offset_seconds_max"].tolist() == [120.0, 204.0, 4.0]
    assert labels["eeg_label_offset_seconds_min"].tolist() == [0.0, 0.0, 0.0]
    assert labels["eeg_label_offset_seconds_max"].tolist() == [20.0, 4.0, 2.0]


def test_annotations_keep_file_order_with_row_totals(ds):
    rows = ds.annotations
    assert rows["label_id"].tolist() == [31, 11, 12, 21, 13, 22, 32]
    assert rows["total_votes"].tolist() == [3, 3, 3, 12, 3, 14, 11]
    assert rows["population"].tolist() == ["low", "low", "low", "high", "low", "high", "high"]
    assert rows["eeg_id"].dtype == np.int64


def test_tables_are_not_shared_with_the_caller(ds):
    labels = ds.labels
    labels["fold"] = 0
    labels.loc[0, "total_votes"] = -1
    assert "fold" not in ds.labels.columns
    assert ds.labels.loc[0, "total_votes"] == 9


def test_test_ids_sample_submission_and_paths(ds, tree):
    assert ds.test_ids.to_dict("list") == {"spectrogram_id": [601], "eeg_id": [2001], "patient_id": [9]}
    sub = ds.sample_submission()
    assert list(sub.columns) == ["eeg_id", *HMS_VOTE_COLUMNS]
    np.testing.assert_allclose(sub[list(HMS_VOTE_COLUMNS)].sum(axis=1), 1.0)
    assert ds.eeg_path(2001, split="test") == tree / "test_eegs" / "2001.parquet"
    assert ds.spectrogram_path(601, split="test") == tree / "test_spectrograms" / "601.parquet"
    assert ds.missing_files("train") == {"eeg_id": [], "spectrogram_id": []}
    assert ds.eeg(2001, split="test").shape == (10000, 20)
    assert ds.spectrogram_window(601, 0, split="test").values.shape == (300, 400)


# ---------------------------------------------------------------------- EEG


def test_eeg_full_file_columns_and_nans(ds):
    x = ds.eeg(1001)
    assert x.dtype == np.float32 and x.shape == (12000, 20)
    assert np.isnan(x[100:350, 8]).all() and not np.isnan(x[350, 8])
    assert x[7, 19] == 7 * 32 + 19


def test_eeg_reads_columns_by_name_whatever_the_file_order(bad_tree):
    x = eeg_array(10000)
    frame = pd.DataFrame(x, columns=list(HMS_EEG_COLUMNS))
    frame[list(reversed(HMS_EEG_COLUMNS))].to_parquet(bad_tree / "train_eegs" / "1003.parquet", index=False)
    np.testing.assert_array_equal(HMSDataset(bad_tree).eeg(1003), x)


def test_eeg_middle_window_indices(ds):
    w = ds.eeg_window(1001)
    assert w.shape == (10000, 20)
    assert w[0, 0] / 32 == 1000 and w[-1, 0] / 32 == 10999       # (12000 - 10000) // 2
    assert ds.eeg_window(1002)[0, 0] / 32 == 500
    assert ds.eeg_window(1003)[0, 0] == 0
    assert ds.eeg_window(1001, seconds=10)[0, 0] / 32 == (12000 - 2000) // 2


def test_eeg_offset_windows(ds):
    assert ds.eeg_window(1001, offset_seconds=4)[0, 0] / 32 == 800
    w = ds.eeg_window(1001, offset_seconds=10)                     # ends exactly at the file end
    assert w[0, 0] / 32 == 2000 and w[-1, 0] / 32 == 11999
    assert ds.eeg_window(1001, offset_seconds=2.5, seconds=1).shape == (200, 20)


def test_eeg_window_past_the_end(ds, tree):
    with pytest.raises(TableError) as info:
        ds.eeg_window(1001, offset_seconds=10.5)
    assert str(tree / "train_eegs" / "1001.parquet") in str(info.value)
    assert "past the end" in str(info.value) and "12000 samples" in str(info.value)
    with pytest.raises(TableError, match="shorter than"):
        ds.eeg_window(1003, seconds=60)
    with pytest.raises(ValueError, match="offset_seconds"):
        ds.eeg_window(1001, offset_seconds=-1)


def test_returned_arrays_are_private(ds):
    w = ds.eeg(1001)
    w[:] = 0
    assert ds.eeg(1001)[7, 19] == 7 * 32 + 19
    s = ds.spectrogram_window(501, 0)
    s.values[:] = -1
    assert ds.spectrogram(501).values[0, 1] == 1


def test_missing_eeg_parquet_and_missing_column(ds, bad_tree):
    with pytest.raises(TableError) as info:
        ds.eeg(9999)
    assert "9999.parquet" in str(info.value) and "not found" in str(info.value)
    write_eeg(bad_tree / "train_eegs" / "1003.parquet", eeg_array(10000)[:, :19], HMS_EEG_COLUMNS[:19])
    with pytest.raises(TableError) as info:
        HMSDataset(bad_tree).eeg(1003)
    assert "1003.parquet" in str(info.value) and "['EKG']" in str(info.value)
    (bad_tree / "train_eegs" / "1002.parquet").write_bytes(b"not a parquet file")
    with pytest.raises(TableError, match="1002.parquet: cannot read EEG parquet"):
        HMSDataset(bad_tree).eeg(1002)


# ---------------------------------------------------------------------- NaN policy


def test_nan_statistics(ds):
    stats = ds.nan_statistics().set_index("eeg_id")
    assert stats.index.tolist() == [1001, 1002, 1003]
    assert stats.loc[1001, "n_samples"] == 12000
    assert stats.loc[1001, "nan_Fz"] == pytest.approx(260 / 12000)
    assert stats.loc[1001, "nan_C3"] == pytest.approx(5 / 12000)
    assert stats.loc[1001, "nan_fraction"] == pytest.approx(265 / (12000 * 20))
    assert stats.loc[1001, "middle_window_nan_fraction"] == 0.0       # runs lie before sample 1000
    assert stats.loc[1001, "longest_nan_run"] == 250
    assert stats.loc[1001, "longest_nan_run_channel"] == "Fz"
    assert stats.loc[1001, "all_nan_channels"] == "" and stats.loc[1001, "n_all_nan_channels"] == 0
    assert stats.loc[1002, "all_nan_channels"] == "EKG" and stats.loc[1002, "n_all_nan_channels"] == 1
    assert stats.loc[1002, "nan_EKG"] == 1.0 and stats.loc[1002, "longest_nan_run"] == 11000
    assert stats.loc[1002, "middle_window_nan_fraction"] == pytest.approx(1 / 20)
    assert stats.loc[1003, "longest_nan_run"] == 0 and stats.loc[1003, "longest_nan_run_channel"] == ""
    assert ds.nan_statistics([2001], split="test")["nan_fraction"].tolist() == [0.0]


def test_fill_nan_with_channel_mean_by_hand():
    x = np.array([[1, np.nan, np.nan], [3, 4, np.nan], [np.nan, 8, np.nan]], dtype=np.float32)
    before = x.copy()
    filled, counts = fill_nan_with_channel_mean(x)
    np.testing.assert_array_equal(filled, [[1, 6, 0], [3, 4, 0], [2, 8, 0]])
    assert filled.dtype == np.float32
    assert counts.per_channel.tolist() == [1, 1, 3] and counts.all_nan_channels == (2,)
    assert counts.total == 5
    np.testing.assert_array_equal(x, before)                        # input untouched
    filled, counts = fill_nan_with_channel_mean(np.ones((4, 2)), all_nan_value=-1)
    assert counts.total == 0 and counts.all_nan_channels == ()
    with pytest.raises(SignalError):
        fill_nan_with_channel_mean(np.ones(5))


def test_fill_nan_on_a_real_window(ds):
    filled, counts = fill_nan_with_channel_mean(ds.eeg(1002))
    assert counts.all_nan_channels == (19,) and counts.per_channel[19] == 11000
    assert not np.isnan(filled).any() and (filled[:, 19] == 0).all()


def test_longest_nan_runs():
    x = np.zeros((10, 3))
    x[0:2, 0] = np.nan
    x[4:9, 0] = np.nan
    x[9, 1] = np.nan
    assert longest_nan_runs(x).tolist() == [5, 1, 0]


# ---------------------------------------------------------------------- spectrograms


def test_spectrogram_file(ds):
    spec = ds.spectrogram(501)
    assert spec.values.shape == (700, 400) and spec.values.dtype == np.float32
    assert spec.time.dtype == np.float32 and spec.time[:3].tolist() == [1, 3, 5]
    assert spec.columns[0] == "LL_0.59" and spec.columns[100].startswith("RL_")
    assert spec.columns[-1] == "RP_19.92"
    np.testing.assert_allclose(spec.frequencies[[0, -1]], [0.59, 19.92])
    assert spec.region("LP")[0, 0] == 200                         # LP is the third block in the file


def test_spectrogram_window_starts_at_offset_over_two(ds):
    w = ds.spectrogram_window(501, 204)
    assert w.values.shape == (300, 400)
    assert w.values[0, 0] == 102 * 1000 and w.time[0] == 102 * 2 + 1
    assert ds.spectrogram_window(501, 201).values[0, 0] == 100 * 1000     # floor(201 / 2)
    mean_offset = ds.labels.set_index("eeg_id").loc[1002, "spectrogram_label_offset_seconds_mean"]
    assert ds.spectrogram_window(501, mean_offset).values[0, 0] == 101 * 1000
    assert ds.spectrogram_window(501, 800).values[-1, 0] == 699 * 1000    # ends at the file end


def test_spectrogram_window_past_the_end(ds):
    with pytest.raises(TableError) as info:
        ds.spectrogram_window(501, 802)
    assert "501.parquet" in str(info.value) and "past the end" in str(info.value)
    assert "700 rows" in str(info.value)
    with pytest.raises(TableError, match="past the end"):
        ds.spectrogram_window(502, 2)


def test_spectrogram_cache_is_per_instance_lru(tree, monkeypatch):
    calls = []
    real = hms._read_spectrogram
    monkeypatch.setattr(hms, "_read_spectrogram", lambda path: calls.append(path.name) or real(path))
    ds = HMSDataset(tree, spectrogram_cache_size=1)
    for offset in (100, 110, 200):       # three windows of one file: one read
        ds.spectrogram_window(501, offset)
    assert calls == ["501.parquet"]
    ds.spectrogram(502)
    ds.spectrogram(501)                  # evicted by 502
    assert calls == ["501.parquet", "502.parquet", "501.parquet"]
    HMSDataset(tree).spectrogram(501)    # another instance has its own cache
    assert len(calls) == 4
    copy = pickle.loads(pickle.dumps(ds))
    assert copy.root == ds.root and len(copy._spectrogram_cache) == 0


def test_spectrogram_bad_files(bad_tree):
    folder = bad_tree / "train_spectrograms"
    ds = HMSDataset(bad_tree)
    with pytest.raises(TableError, match="503.parquet: spectrogram parquet file not found"):
        ds.spectrogram(503)
    write_spectrogram(folder / "502.parquet", 300, SPEC_COLUMNS[:-1])           # lacks RP_19.92
    with pytest.raises(TableError) as info:
        ds.spectrogram(502)
    assert "502.parquet" in str(info.value) and "'RP': 99" in str(info.value)
    pd.DataFrame({c: [1.0] for c in SPEC_COLUMNS}).to_parquet(folder / "502.parquet")   # no time
    with pytest.raises(TableError, match="502.parquet: spectrogram parquet must start with a 'time'"):
        HMSDataset(bad_tree).spectrogram(502)


# ---------------------------------------------------------------------- bad tables


def test_root_and_split_errors(tmp_path, ds):
    with pytest.raises(CorpusError, match="not a folder"):
        HMSDataset(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="split"):
        ds.eeg(1001, split="valid")


def test_missing_train_csv_lists_the_layout(tmp_path):
    with pytest.raises(TableError) as info:
        HMSDataset(tmp_path).labels
    message = str(info.value)
    assert str(tmp_path / "train.csv") in message and "not found" in message
    assert "train_eegs" in message and "train_spectrograms" in message and "test.csv" in message


def write_csv(root, frame):
    frame.to_csv(root / "train.csv", index=False)
    return HMSDataset(root)


def test_missing_column(bad_tree):
    ds = write_csv(bad_tree, train_frame().drop(columns="lpd_vote"))
    with pytest.raises(TableError) as info:
        ds.labels
    assert "train.csv" in str(info.value) and "missing columns ['lpd_vote']" in str(info.value)


def test_misordered_columns(bad_tree):
    columns = list(HMS_TRAIN_COLUMNS)
    columns[0], columns[1] = columns[1], columns[0]
    ds = write_csv(bad_tree, train_frame()[columns])
    with pytest.raises(TableError, match="train.csv: columns out of order"):
        ds.annotations


@pytest.mark.parametrize("column, value, problem", [
    ("gpd_vote", -1, "negative votes"),
    ("eeg_id", np.nan, "missing or non-numeric eeg_id"),
    ("patient_id", "abc", "missing or non-numeric patient_id"),
    ("label_id", 21.5, "non-integer label_id"),
    ("expert_consensus", "Spike", "expert_consensus not one of"),
    ("spectrogram_label_offset_seconds", -2, "negative spectrogram_label_offset_seconds"),
])
def test_bad_values_name_the_row(bad_tree, column, value, problem):
    frame = train_frame()
    frame[column] = frame[column].astype(object)
    frame.loc[3, column] = value                          # label_id 21, csv line 5
    ds = write_csv(bad_tree, frame)
    with pytest.raises(TableError) as info:
        ds.labels
    message = str(info.value)
    assert str(bad_tree / "train.csv") in message and problem in message
    assert "line 5" in message


def test_all_zero_vote_row(bad_tree):
    frame = train_frame()
    frame.loc[1, list(HMS_VOTE_COLUMNS)] = 0
    with pytest.raises(TableError) as info:
        write_csv(bad_tree, frame).labels
    assert "rows without any vote at line 3 (eeg_id 1001, label_id 11)" in str(info.value)


def test_duplicates_and_disagreeing_sub_rows(bad_tree):
    frame = train_frame()
    frame.loc[2, "eeg_sub_id"] = 0
    with pytest.raises(TableError, match="duplicate eeg_id\\+eeg_sub_id"):
        write_csv(bad_tree, frame).labels
    frame = train_frame()
    frame.loc[2, "patient_id"] = 99
    with pytest.raises(TableError, match="disagree on patient_id for eeg_id 1001"):
        write_csv(bad_tree, frame).labels


def test_bad_test_csv_and_submission(bad_tree):
    pd.DataFrame({"eeg_id": [1], "spectrogram_id": [2], "patient_id": [3]}).to_csv(
        bad_tree / "test.csv", index=False)
    with pytest.raises(TableError, match="test.csv: columns out of order"):
        HMSDataset(bad_tree).test_ids
    (bad_tree / "sample_submission.csv").unlink()
    with pytest.raises(TableError, match="sample_submission.csv: sample_submission.csv not found"):
        HMSDataset(bad_tree).sample_submission()


def test_extra_columns_kept_and_missing_files_listed(bad_tree):
    frame = train_frame()
    frame["fold"] = 3
    ds = write_csv(bad_tree, frame)
    assert ds.annotations["fold"].tolist() == [3] * len(ROWS)
    (bad_tree / "train_eegs" / "1002.parquet").unlink()
    (bad_tree / "train_spectrograms" / "502.parquet").unlink()
    assert ds.missing_files("train") == {"eeg_id": [1002], "spectrogram_id": [502]}
    assert ds.missing_files("test") == {"eeg_id": [], "spectrogram_id": []}
