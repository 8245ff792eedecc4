"""Label vocabularies of both corpora and the published corpus statistics the code relies on."""

# Every label that TUSZ annotation files use (lower case, as in .tse / .csv files).
TUSZ_LABELS = (
    "bckg", "seiz", "fnsz", "gnsz", "spsz", "cpsz", "absz",
    "tnsz", "cnsz", "tcsz", "atsz", "mysz", "nesz",
)

# The seven seizure types of the IBM benchmark, in class-index order (most frequent first).
# MYSZ (3 seizures) is excluded by the benchmark; the others do not occur in v1.4.0/v1.5.2 enough.
SEIZURE_TYPES = ("fnsz", "gnsz", "cpsz", "absz", "tnsz", "tcsz", "spsz")

# The patient-wise protocol visits types rarest first.
PATIENT_WISE_TYPE_ORDER = ("tnsz", "spsz", "absz", "tcsz", "cpsz", "gnsz", "fnsz")

# Published (seizures, patients) per type of the seizure spreadsheets, train + dev pooled.
TUSZ_COUNTS = {
    "1.5.2": {"fnsz": (1836, 150), "gnsz": (583, 81), "cpsz": (367, 41), "absz": (99, 12),
              "tnsz": (62, 3), "tcsz": (48, 14), "spsz": (52, 3)},
    "1.4.0": {"fnsz": (992, 109), "gnsz": (415, 44), "cpsz": (342, 34), "absz": (99, 12),
              "tnsz": (67, 2), "tcsz": (50, 11), "spsz": (44, 2)},
}

# HMS competition classes in submission order, and the matching vote columns of train.csv.
HMS_CLASSES = ("Seizure", "LPD", "GPD", "LRDA", "GRDA", "Other")
HMS_VOTE_COLUMNS = tuple(f"{c.lower()}_vote" for c in HMS_CLASSES)

# train.csv columns, in file order.
HMS_TRAIN_COLUMNS = (
    "eeg_id", "eeg_sub_id", "eeg_label_offset_seconds", "spectrogram_id", "spectrogram_sub_id",
    "spectrogram_label_offset_seconds", "label_id", "patient_id", "expert_consensus",
) + HMS_VOTE_COLUMNS

HMS_TEST_COLUMNS = ("spectrogram_id", "eeg_id", "patient_id")

# Rows with at least this many votes come from the experts who labelled the test set.
HMS_HIGH_VOTE_THRESHOLD = 10
