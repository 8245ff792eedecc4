"""Conformance of `read_tusz_csv` with v2.0.x .csv / .csv_bi files as TUSZ releases them.

Layout (NEDC's Csv class, TUSZ v2.0.3 AAREADME.txt, published excerpts of release files): five
'#' header lines (version, bname, duration with 2 decimals and 'secs', montage_file, '#'), the
column header, then one row per channel per event (.csv) or TERM rows of seiz/bckg (.csv_bi).
Consecutive rows of one channel touch exactly; seizure times differ slightly between channels.
"""

import functools

import pandas as pd
import pytest

from kerasseizure.errors import AnnotationError
from kerasseizure.io.tusz_annotations import merge_channel_seizures, read_tusz_csv

from .conftest import assert_refused, write_annotation

CSV = """# version = csv_v1.0.0
# bname = aaaaaaac_s001_t000
# duration = 301.00 secs
# montage_file = $NEDC_NFC/lib/nedc_eas_default_montage.txt
#
channel,start_time,stop_time,label,confidence
FP1-F7,0.0000,36.8868,bckg,1.0000
FP1-F7,36.8868,183.3055,cpsz,1.0000
FP1-F7,183.3055,301.0000,bckg,1.0000
F7-T3,0.0000,37.2500,bckg,1.0000
F7-T3,37.2500,180.0000,cpsz,1.0000
F7-T3,180.0000,301.0000,bckg,1.0000
T3-T5,0.0000,301.0000,bckg,1.0000
"""

EXPECTED = pd.DataFrame(
    [("FP1-F7", 0.0, 36.8868, "bckg", 1.0), ("FP1-F7", 36.8868, 183.3055, "cpsz", 1.0),
     ("FP1-F7", 183.3055, 301.0, "bckg", 1.0), ("F7-T3", 0.0, 37.25, "bckg", 1.0),
     ("F7-T3", 37.25, 180.0, "cpsz", 1.0), ("F7-T3", 180.0, 301.0, "bckg", 1.0),
     ("T3-T5", 0.0, 301.0, "bckg", 1.0)],
    columns=["channel", "start", "stop", "label", "probability"])

CSV_BI = """# version = csv_v1.0.0
# bname = aaaaaaac_s001_t000
# duration = 301.00 secs
# montage_file = $NEDC_NFC/lib/nedc_eas_default_montage.txt
#
channel,start_time,stop_time,label,confidence
TERM,0.0000,36.8868,bckg,1.0000
TERM,36.8868,183.3055,seiz,1.0000
TERM,183.3055,301.0000,bckg,1.0000
"""


def _write(tmp_path, text, name="aaaaaaac_s001_t000.csv", newline="\n"):
    return write_annotation(tmp_path / name, text, newline)


_refused = functools.partial(assert_refused, read_tusz_csv)


def test_release_layout_parses_to_the_hand_written_rows(tmp_path):
    annotation = read_tusz_csv(_write(tmp_path, CSV), duration=301.0)
    pd.testing.assert_frame_equal(annotation.events, EXPECTED)
    assert annotation.duration == 301.0
    assert annotation.header == {"version": "csv_v1.0.0", "bname": "aaaaaaac_s001_t000",
                                 "duration": "301.00 secs",
                                 "montage_file": "$NEDC_NFC/lib/nedc_eas_default_montage.txt"}
    pd.testing.assert_frame_equal(merge_channel_seizures(annotation.events), pd.DataFrame(
        [(36.8868, 183.3055, "cpsz", 2)], columns=["start", "stop", "label", "n_channels"]))


def test_crlf_and_four_decimal_duration(tmp_path):
    text = CSV.replace("301.00 secs", "301.0000 secs")
    pd.testing.assert_frame_equal(read_tusz_csv(_write(tmp_path, text, newline="\r\n"), duration=301).events,
                                  EXPECTED)


def test_bi_file(tmp_path):
    events = read_tusz_csv(_write(tmp_path, CSV_BI, "aaaaaaac_s001_t000.csv_bi"), duration=301, binary=True).events
    pd.testing.assert_frame_equal(events, pd.DataFrame(
        [("TERM", 0.0, 36.8868, "bckg", 1.0), ("TERM", 36.8868, 183.3055, "seiz", 1.0),
         ("TERM", 183.3055, 301.0, "bckg", 1.0)], columns=["channel", "start", "stop", "label", "probability"]))


def test_header_duration_must_match_the_edf(tmp_path):
    # An 8x header duration used to pass because no event runs past the EDF's end.
    path = _write(tmp_path, CSV.replace("301.00 secs", "2408.00 secs"))
    _refused(path, 3, "'# duration' is 2408 s but the recording's EDF header gives 301 s", duration=301)
    # A header rounded to 2 decimals is within the tolerance.
    assert read_tusz_csv(_write(tmp_path, CSV), duration=301.004).duration == 301.0


def test_two_seizure_types_on_one_channel_at_once(tmp_path):
    text = CSV + "FP1-F7,100.0000,120.0000,gnsz,1.0000\n"
    _refused(_write(tmp_path, text), 14, "'gnsz' on channel FP1-F7 from 100 s to 120 s overlaps 'cpsz' of line 8")


def test_seizure_overlapping_background_on_one_channel(tmp_path):
    text = CSV + "T3-T5,50.0000,60.0000,cpsz,1.0000\n"
    _refused(_write(tmp_path, text), 14, "'cpsz' on channel T3-T5 from 50 s to 60 s overlaps 'bckg' of line 13")
    bi = CSV_BI.replace("TERM,183.3055,301.0000,bckg", "TERM,180.0000,301.0000,bckg")
    _refused(_write(tmp_path, bi, "x.csv_bi"), 9, "overlaps 'seiz' of line 8", binary=True)


@pytest.mark.parametrize("old, new, line, fragment", [
    ("# version = csv_v1.0.0", "# version = csv_v2.0.0", 1, "expected '# version = csv_v1.0.0'"),
    ("# duration = 301.00 secs", "# duration = many secs", 3, "duration 'many' is not a number"),
    ("channel,start_time", "chan,start_time", 6, "expected the header"),
    ("FP1-F7,36.8868,183.3055,cpsz", "FP1-F7,36.8868,18x.3055,cpsz", 8, "stop_time '18x.3055' is not a number"),
    ("FP1-F7,36.8868,183.3055,cpsz", "FP1-F7,36.8868,183.3055,cpzz", 8, "unknown label 'cpzz'"),
    ("FP1-F7,36.8868,183.3055,cpsz,1.0000", "FP1-F7,36.8868,cpsz,1.0000", 8, "expected 5 comma-separated"),
])
def test_broken_files_are_refused_with_file_and_line(tmp_path, old, new, line, fragment):
    _refused(_write(tmp_path, CSV.replace(old, new)), line, fragment)


def test_file_without_events(tmp_path):
    with pytest.raises(AnnotationError, match="no events after the column header"):
        read_tusz_csv(_write(tmp_path, CSV.split("FP1-F7,0.0000")[0]))
