"""Conformance of `read_tse` / `read_tse_bi` with .tse / .tse_bi files as TUSZ v1.x releases them.

Layout (NEDC's Tse class, TUSZ v1.5.0 _AAREADME.txt): the version line, a blank line, then
'start stop label probability' lines with 4 decimals that tile the record, background included.
"""

import pandas as pd
import pytest

from kerasseizure.errors import AnnotationError
from kerasseizure.io.tusz_annotations import read_tse, read_tse_bi

from .conftest import assert_refused, write_annotation

TSE = """version = tse_v1.0.0

0.0000 10.2775 bckg 1.0000
10.2775 35.7775 gnsz 1.0000
35.7775 102.2525 bckg 1.0000
102.2525 140.0000 cpsz 1.0000
140.0000 301.0000 bckg 1.0000
"""

EXPECTED = pd.DataFrame(
    [(0.0, 10.2775, "bckg", 1.0), (10.2775, 35.7775, "gnsz", 1.0), (35.7775, 102.2525, "bckg", 1.0),
     (102.2525, 140.0, "cpsz", 1.0), (140.0, 301.0, "bckg", 1.0)],
    columns=["start", "stop", "label", "probability"])

TSE_BI = """version = tse_v1.0.0

0.0000 10.2775 bckg 1.0000
10.2775 35.7775 seiz 1.0000
35.7775 301.0000 bckg 1.0000
"""


def _write(tmp_path, text, name="00000258_s002_t000.tse", newline="\n"):
    return write_annotation(tmp_path / name, text, newline)


def test_release_layout_parses_to_the_hand_written_rows(tmp_path):
    pd.testing.assert_frame_equal(read_tse(_write(tmp_path, TSE), duration=301), EXPECTED)


def test_crlf_and_trailing_spaces(tmp_path):
    text = TSE.replace(" 1.0000\n", " 1.0000  \n")
    pd.testing.assert_frame_equal(read_tse(_write(tmp_path, text, newline="\r\n")), EXPECTED)


def test_bi_file(tmp_path):
    events = read_tse_bi(_write(tmp_path, TSE_BI, "00000258_s002_t000.tse_bi"), duration=301)
    pd.testing.assert_frame_equal(events, pd.DataFrame(
        [(0.0, 10.2775, "bckg", 1.0), (10.2775, 35.7775, "seiz", 1.0), (35.7775, 301.0, "bckg", 1.0)],
        columns=["start", "stop", "label", "probability"]))
    with pytest.raises(AnnotationError, match="line 4: unknown label 'gnsz'"):
        read_tse_bi(_write(tmp_path, TSE))


@pytest.mark.parametrize("old, new, line, fragment", [
    ("version = tse_v1.0.0", "version = tse_v2.0.0", 1, "expected 'version = tse_v1.0.0'"),
    ("10.2775 35.7775 gnsz", "10.2775 35,7775 gnsz", 4, "stop '35,7775' is not a number"),
    ("10.2775 35.7775 gnsz", "10.2775 35.7775 gnzz", 4, "unknown label 'gnzz'"),
    ("35.7775 102.2525 bckg 1.0000", "35.7775 102.2525 bckg", 5, "expected 'start stop label probability'"),
    ("35.7775 102.2525 bckg", "36.0000 102.2525 bckg", 5, "gap from 35.7775 s to 36 s"),
    ("35.7775 102.2525 bckg", "30.0000 102.2525 bckg", 5, "overlaps the previous event"),
    ("0.0000 10.2775 bckg", "1.0000 10.2775 bckg", 3, "first event starts at 1 s"),
])
def test_broken_files_are_refused_with_file_and_line(tmp_path, old, new, line, fragment):
    assert_refused(read_tse, _write(tmp_path, TSE.replace(old, new)), line, fragment)


def test_events_past_the_recording_and_no_events(tmp_path):
    with pytest.raises(AnnotationError, match="ends at 301 s, after the end of the recording at 300 s"):
        read_tse(_write(tmp_path, TSE), duration=300)
    with pytest.raises(AnnotationError, match="no events after the version line"):
        read_tse(_write(tmp_path, "version = tse_v1.0.0\n\n"))
