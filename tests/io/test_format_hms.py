"""Conformance of `HMSDataset` with the files of the Kaggle HMS competition as published.

Every fixture here is written by hand to the published format, never by our synthetic writer:

- train.csv header and first two rows as the competition ships them (the public file listing of
  the MLE-bench copy and Kaggle's data description): 15 columns, ids as integers, offsets as
  floats written '0.0', votes as counts. The other rows are invented in the same format.
- test.csv: spectrogram_id, eeg_id, patient_id (in that order); sample_submission.csv: eeg_id and
  the six *_vote columns, 1/6 each.
- train_eegs/<eeg_id>.parquet: 20 float32 columns Fp1 ... O2, EKG at 200 Hz (NaN runs and
  all-NaN columns occur); test_eegs/ files hold exactly 50 s.
- train_spectrograms/<spectrogram_id>.parquet: `time` (int64, 1, 3, 5, ... s) then 400 float32
  columns LL_0.59 ... RP_19.92 named as in the files (trailing zeros dropped: 'LL_4.1'); train
  files hold >= 10 min (a specimen had 305 rows, time 1 ... 609), test files exactly 300 rows.

Expected parses are written out by hand below. TF-free.
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kerasseizure.errors import TableError
from kerasseizure.io.hms import HMSDataset, read_eeg_parquet

# The column names of an EEG parquet file, in file order, as published.
EEG_COLUMNS = ["Fp1", "F3", "C3", "P3", "F7", "T3", "T5", "O1", "Fz", "Cz", "Pz",
               "Fp2", "F4", "C4", "P4", "F8", "T4", "T6", "O2", "EKG"]

# The 100 bin labels of each spectrogram region, as the parquet column names spell them.
FREQUENCY_LABELS = """
0.59 0.78 0.98 1.17 1.37 1.56 1.76 1.95 2.15 2.34 2.54 2.73 2.93 3.13 3.32 3.52 3.71 3.91 4.1 4.3
4.49 4.69 4.88 5.08 5.27 5.47 5.66 5.86 6.05 6.25 6.45 6.64 6.84 7.03 7.23 7.42 7.62 7.81 8.01 8.2
8.4 8.59 8.79 8.98 9.18 9.38 9.57 9.77 9.96 10.16 10.35 10.55 10.74 10.94 11.13 11.33 11.52 11.72
11.91 12.11 12.3 12.5 12.7 12.89 13.09 13.28 13.48 13.67 13.87 14.06 14.26 14.45 14.65 14.84 15.04
15.23 15.43 15.63 15.82 16.02 16.21 16.41 16.6 16.8 16.99 17.19 17.38 17.58 17.77 17.97 18.16 18.36
18.55 18.75 18.95 19.14 19.34 19.53 19.73 19.92
""".split()
SPECTROGRAM_COLUMNS = [f"{region}_{label}" for region in ("LL", "RL", "LP", "RP")
                       for label in FREQUENCY_LABELS]

TRAIN_CSV = """\
eeg_id,eeg_sub_id,eeg_label_offset_seconds,spectrogram_id,spectrogram_sub_id,spectrogram_label_offset_seconds,label_id,patient_id,expert_consensus,seizure_vote,lpd_vote,gpd_vote,lrda_vote,grda_vote,other_vote
1628180742,0,0.0,353733,0,0.0,127492639,42516,Seizure,3,0,0,0,0,0
1628180742,1,6.0,353733,1,6.0,3887563113,42516,Seizure,3,0,0,0,0,0
1628180742,2,8.0,353733,2,8.0,1142670488,42516,Seizure,3,0,0,0,0,0
2000000002,1,2.0,3000003,1,1002.0,900000021,20002,GPD,0,0,12,1,0,2
2000000002,0,0.0,3000003,0,1000.0,900000020,20002,GPD,0,1,10,2,0,1
2000000003,0,0.0,3000003,2,1100.0,900000030,20002,Seizure,1,0,0,0,0,1
2000000003,1,10.0,3000003,3,1110.0,900000031,20002,Other,0,0,0,0,3,7
"""

TEST_CSV = """\
spectrogram_id,eeg_id,patient_id
7000001,8000001,9001
"""

SAMPLE_SUBMISSION_CSV = """\
eeg_id,seizure_vote,lpd_vote,gpd_vote,lrda_vote,grda_vote,other_vote
8000001,0.16666666666666666,0.16666666666666666,0.16666666666666666,0.16666666666666666,0.16666666666666666,0.16666666666666666
"""


def _eeg_table(n_rows):
    """EEG columns as float32 with x[i, c] = 1000 c + i (exact in float32 for these sizes)."""
    i = np.arange(n_rows, dtype=np.float32)
    return {name: (1000.0 * c + i).astype(np.float32) for c, name in enumerate(EEG_COLUMNS)}


def _write_eeg(path, columns):
    pq.write_table(pa.table({name: pa.array(values, type=pa.float32()) for name, values in columns.items()}),
                   path)


def _write_spectrogram(path, n_rows, nan_rows=()):
    """time int64 1, 3, 5, ... then v[r, j] = 1000 r + j as float32, row r of LL all NaN for r in nan_rows."""
    columns = {"time": pa.array(np.arange(n_rows, dtype=np.int64) * 2 + 1, type=pa.int64())}
    for j, name in enumerate(SPECTROGRAM_COLUMNS):
        values = (np.arange(n_rows) * 1000.0 + j).astype(np.float32)
        if name.startswith("LL_"):
            values[list(nan_rows)] = np.nan
        columns[name] = pa.array(values, type=pa.float32())
    pq.write_table(pa.table(columns), path)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("hms_published")
    for folder in ("train_eegs", "train_spectrograms", "test_eegs", "test_spectrograms"):
        (root / folder).mkdir()
    (root / "train.csv").write_text(TRAIN_CSV)
    (root / "test.csv").write_text(TEST_CSV)
    (root / "sample_submission.csv").write_text(SAMPLE_SUBMISSION_CSV)
    # Train EEG 1628180742: 60 s; Fp1 NaN on samples 100..349, T3 NaN throughout.
    columns = _eeg_table(12000)
    columns["Fp1"][100:350] = np.nan
    columns["T3"][:] = np.nan
    _write_eeg(root / "train_eegs" / "1628180742.parquet", columns)
    # Train spectrogram 353733: 305 rows (time 1 ... 609) like a published specimen; LL of row 2 NaN.
    _write_spectrogram(root / "train_spectrograms" / "353733.parquet", 305, nan_rows=(2,))
    # Test files: exactly 50 s of EEG and exactly 300 spectrogram rows.
    _write_eeg(root / "test_eegs" / "8000001.parquet", _eeg_table(10000))
    _write_spectrogram(root / "test_spectrograms" / "7000001.parquet", 300)
    return root


@pytest.fixture()
def dataset(root):
    return HMSDataset(root)


def test_annotations_keep_every_row_in_file_order(dataset):
    rows = dataset.annotations
    assert list(rows.columns[:15]) == TRAIN_CSV.splitlines()[0].split(",")
    assert rows["eeg_id"].tolist() == [1628180742] * 3 + [2000000002] * 2 + [2000000003] * 2
    assert rows["eeg_sub_id"].tolist() == [0, 1, 2, 1, 0, 0, 1]
    assert rows["label_id"].tolist() == [127492639, 3887563113, 1142670488, 900000021, 900000020,
                                         900000030, 900000031]
    assert rows["eeg_label_offset_seconds"].tolist() == [0.0, 6.0, 8.0, 2.0, 0.0, 0.0, 10.0]
    assert rows["spectrogram_label_offset_seconds"].tolist() == [0.0, 6.0, 8.0, 1002.0, 1000.0, 1100.0,
                                                                 1110.0]
    assert rows["total_votes"].tolist() == [3, 3, 3, 15, 14, 2, 10]
    assert rows["population"].tolist() == ["low", "low", "low", "high", "high", "low", "high"]
    for column in ("eeg_id", "label_id", "patient_id", "spectrogram_id", "seizure_vote", "total_votes"):
        assert rows[column].dtype == np.int64, column


def test_labels_one_row_per_eeg_id(dataset):
    labels = dataset.labels.set_index("eeg_id")
    assert labels.index.tolist() == [1628180742, 2000000002, 2000000003]
    expected = pd.DataFrame({
        "patient_id": [42516, 20002, 20002],
        "spectrogram_id": [353733, 3000003, 3000003],
        "n_annotations": [3, 2, 2],
        "seizure_vote": [9, 0, 1], "lpd_vote": [0, 1, 0], "gpd_vote": [0, 22, 0],
        "lrda_vote": [0, 3, 0], "grda_vote": [0, 0, 3], "other_vote": [0, 3, 8],
        "total_votes": [9, 29, 12],
        "votes_per_annotation_min": [3, 14, 2],
        "votes_per_annotation_max": [3, 15, 10],
        "population": ["low", "high", "mixed"],
        # The first sub-row by eeg_sub_id decides (sub 0 of 2000000002 is the file's 5th line).
        "expert_consensus": ["Seizure", "GPD", "Seizure"],
        "spectrogram_label_offset_seconds_mean": [14.0 / 3.0, 1001.0, 1105.0],
        "spectrogram_label_offset_seconds_min": [0.0, 1000.0, 1100.0],
        "spectrogram_label_offset_seconds_max": [8.0, 1002.0, 1110.0],
        "eeg_label_offset_seconds_min": [0.0, 0.0, 0.0],
        "eeg_label_offset_seconds_max": [8.0, 2.0, 10.0],
    }, index=labels.index)
    for column in expected.columns:
        got = labels[column].tolist()
        if expected[column].dtype == float:
            np.testing.assert_allclose(got, expected[column].tolist(), rtol=0, atol=1e-12, err_msg=column)
        else:
            assert got == expected[column].tolist(), column
    probabilities = labels[["Seizure", "LPD", "GPD", "LRDA", "GRDA", "Other"]].to_numpy()
    np.testing.assert_allclose(probabilities, [
        [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [0.0, 1 / 29, 22 / 29, 3 / 29, 0.0, 3 / 29],
        [1 / 12, 0.0, 0.0, 0.0, 3 / 12, 8 / 12],
    ], rtol=0, atol=1e-15)


def test_describe_counts_by_population(dataset):
    table = dataset.describe()
    assert table.index.tolist() == ["low", "high", "mixed", "all"]
    assert table["eeg_ids"].tolist() == [1, 1, 1, 3]
    assert table["patients"].tolist() == [1, 1, 1, 2]
    assert table["spectrogram_ids"].tolist() == [1, 1, 1, 2]
    assert table["annotations"].tolist() == [3, 2, 2, 7]
    np.testing.assert_allclose(table["votes_per_annotation"], [3.0, 14.5, 6.0, 23.5 / 3])
    assert table.loc["all", "Seizure"] == 2 and table.loc["all", "GPD"] == 1


def test_test_table_and_sample_submission(dataset):
    ids = dataset.test_ids
    assert list(ids.columns) == ["spectrogram_id", "eeg_id", "patient_id"]
    assert ids.iloc[0].tolist() == [7000001, 8000001, 9001]
    submission = dataset.sample_submission()
    assert list(submission.columns) == ["eeg_id", "seizure_vote", "lpd_vote", "gpd_vote", "lrda_vote",
                                        "grda_vote", "other_vote"]
    assert submission["eeg_id"].tolist() == [8000001]
    np.testing.assert_allclose(submission.iloc[0, 1:].to_numpy(float), [1 / 6] * 6)


def test_missing_files_of_a_partial_download(dataset):
    assert dataset.missing_files("train") == {"eeg_id": [2000000002, 2000000003], "spectrogram_id": [3000003]}
    assert dataset.missing_files("test") == {"eeg_id": [], "spectrogram_id": []}


def test_train_eeg_parse_keeps_nan_runs_and_all_nan_column(dataset, root):
    x = dataset.eeg(1628180742)
    assert x.shape == (12000, 20) and x.dtype == np.float32
    # x[i, c] = 1000 c + i where not NaN.
    assert x[0, 0] == 0.0 and x[99, 0] == 99.0 and x[350, 0] == 350.0
    assert np.isnan(x[100:350, 0]).all() and np.isnan(x[:, 5]).all()
    assert x[11999, 19] == 19000.0 + 11999.0            # EKG, last sample
    assert int(np.isnan(x).sum()) == 250 + 12000
    np.testing.assert_array_equal(read_eeg_parquet(root / "train_eegs" / "1628180742.parquet"), x)


def test_train_eeg_window_at_a_label_offset(dataset):
    # Row 2 of train.csv: offset 6.0 s -> samples 1200 .. 11199 (50 s at 200 Hz).
    window = dataset.eeg_window(1628180742, 6.0)
    assert window.shape == (10000, 20)
    assert window[0, 0] == 1200.0 and window[-1, 0] == 11199.0
    assert window[0, 19] == 19000.0 + 1200.0
    assert np.isnan(window[:, 5]).all() and not np.isnan(window[:, 0]).any()
    # Offset 8.0 s ends at sample 11599 < 12000; offset 20 s would run past the 60 s file.
    assert dataset.eeg_window(1628180742, 8.0)[-1, 1] == 1000.0 + 11599.0
    with pytest.raises(TableError, match="runs past the end"):
        dataset.eeg_window(1628180742, 20.0)
    # No offset: the middle 50 s, samples 1000 .. 10999.
    assert dataset.eeg_window(1628180742)[0, 1] == 1000.0 + 1000.0


def test_nan_statistics_of_the_train_eeg(dataset):
    row = dataset.nan_statistics([1628180742]).iloc[0]
    assert row["n_samples"] == 12000
    assert row["nan_Fp1"] == pytest.approx(250 / 12000)
    assert row["nan_T3"] == 1.0 and row["nan_EKG"] == 0.0
    assert row["nan_fraction"] == pytest.approx(12250 / 240000)
    # Middle 50 s = samples 1000 .. 10999: only T3 is NaN there.
    assert row["middle_window_nan_fraction"] == pytest.approx(10000 / 200000)
    assert row["n_all_nan_channels"] == 1 and row["all_nan_channels"] == "T3"
    assert row["longest_nan_run"] == 12000 and row["longest_nan_run_channel"] == "T3"


def test_test_eeg_is_exactly_fifty_seconds(dataset):
    x = dataset.eeg(8000001, split="test")
    assert x.shape == (10000, 20)
    window = dataset.eeg_window(8000001, split="test")
    assert window[0, 0] == 0.0 and window[-1, 0] == 9999.0


def test_spectrogram_parse_with_published_names_and_int_time(dataset):
    spec = dataset.spectrogram(353733)
    assert spec.columns[:3] == ("LL_0.59", "LL_0.78", "LL_0.98")
    assert spec.columns[18] == "LL_4.1" and spec.columns[100] == "RL_0.59"
    assert spec.columns[200] == "LP_0.59" and spec.columns[300] == "RP_0.59"
    assert spec.columns[-1] == "RP_19.92" and len(spec.columns) == 400
    np.testing.assert_array_equal(spec.frequencies, [float(label) for label in FREQUENCY_LABELS])
    assert spec.frequencies[0] == 0.59 and spec.frequencies[-1] == 19.92
    assert spec.values.shape == (305, 400) and spec.values.dtype == np.float32
    assert spec.time.dtype == np.float32
    assert spec.time[0] == 1.0 and spec.time[1] == 3.0 and spec.time[-1] == 609.0
    # v[r, j] = 1000 r + j; LL of row 2 is NaN, the other regions are not.
    assert spec.values[0, 0] == 0.0 and spec.values[304, 399] == 304399.0
    assert np.isnan(spec.region("LL")[2]).all()
    assert not np.isnan(spec.region("RL")[2]).any()
    assert spec.region("RL")[2, 0] == 2100.0 and spec.region("RP")[0, 99] == 399.0


def test_spectrogram_window_at_a_label_offset(dataset):
    # Offset 6.0 s: the 10 min with time >= 6 start at time 7, row 3.
    window = dataset.spectrogram_window(353733, 6.0)
    assert window.values.shape == (300, 400)
    assert window.time[0] == 7.0 and window.time[-1] == 605.0
    assert window.values[0, 0] == 3000.0 and window.region("LP")[0, 0] == 3200.0
    # Offset 8.0 s: rows 4 .. 303 (time 9 .. 607), the last window that fits 305 rows.
    assert dataset.spectrogram_window(353733, 8.0).time[-1] == 607.0
    with pytest.raises(TableError, match="runs past the end"):
        dataset.spectrogram_window(353733, 12.0)


def test_test_spectrogram_is_exactly_ten_minutes(dataset):
    window = dataset.spectrogram_window(7000001, 0, split="test")
    assert window.values.shape == (300, 400)
    assert window.time[0] == 1.0 and window.time[-1] == 599.0
