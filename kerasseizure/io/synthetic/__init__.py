"""Synthetic TUSZ and HMS corpora written in the real on-disk layouts.

`make_tusz_corpus` writes a TUH EEG Seizure Corpus tree (v1.4.0, v1.5.2 or v2.0.3: EDF files,
.tse/.tse_bi/.lbl/.lbl_bi or .csv/.csv_bi annotations, the v1.x seizure spreadsheet);
`make_hms_corpus` writes the Kaggle HMS layout (train.csv, train_eegs/, train_spectrograms/,
test.csv, test_eegs/, test_spectrograms/, sample_submission.csv). The signals come from
`kerasseizure.io.simulation`. The TUSZ writers reproduce the quirks of the real release files
(docs/synthetic.md lists them), never a format of our own. Both are deterministic: the same
arguments give byte-identical files.

The ground truth (what the readers should recover) goes to `<root>/_truth/`, outside the trees the
readers index; `load_truth(root)` returns it as DataFrames. See docs/synthetic.md.

Modules: `tusz` (`make_tusz_corpus`, the presets and the per-file signals), `tusz_plan` (patients,
sessions, files, electrodes and seizures of a corpus), `tusz_files` (the on-disk formats: EDF,
.tse/.lbl/.csv), `tusz_sheet` (the v1.x seizure spreadsheet), `hms` (`make_hms_corpus`,
`hms_spectrogram`) and `common` (presets, output folder, `load_truth`). Every public name is
re-exported here.
"""

from kerasseizure.io.synthetic.common import load_truth
from kerasseizure.io.synthetic.hms import (
    HMS_CLASS_SHARES, HMS_PRESETS, HMS_SPECTROGRAM_COLUMNS, HMS_SPECTROGRAM_FFT_BINS, HMS_SPECTROGRAM_FREQS,
    generating_vote_distributions, hms_spectrogram, make_hms_corpus,
)
from kerasseizure.io.synthetic.tusz import (
    DEFAULT_MONTAGES, DEFAULT_RATES, TUSZ_PRESETS, TUSZ_VERSIONS, make_tusz_corpus, simulated_seizure_activity,
)
from kerasseizure.io.synthetic.tusz_files import LBL_SYMBOLS

__all__ = [
    "load_truth", "make_tusz_corpus", "make_hms_corpus", "hms_spectrogram", "generating_vote_distributions",
    "simulated_seizure_activity",
    "TUSZ_VERSIONS", "TUSZ_PRESETS", "DEFAULT_RATES", "DEFAULT_MONTAGES", "LBL_SYMBOLS",
    "HMS_PRESETS", "HMS_CLASS_SHARES", "HMS_SPECTROGRAM_COLUMNS", "HMS_SPECTROGRAM_FFT_BINS",
    "HMS_SPECTROGRAM_FREQS",
]
