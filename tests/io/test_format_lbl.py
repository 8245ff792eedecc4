"""Conformance of `read_lbl` with .lbl / .lbl_bi files laid out as TUSZ v1.x releases them.

The fixture is written by hand to the published layout (NEDC's Lbl class, TUSZ v1.5.0
_AAREADME.txt): an empty first line, the version, 22 montage lines with the release's irregular
spacing, one level, the 28-symbol table, blank lines between blocks, one-hot label lines.
"""

import functools

import pandas as pd
import pytest

from kerasseizure.errors import AnnotationError
from kerasseizure.io.tusz_annotations import read_lbl, read_tse

from .conftest import assert_refused, write_annotation

HEAD = """
version = lbl_v1.0.0

montage =  0, FP1-F7: EEG FP1-REF --  EEG F7-REF
montage =  1, F7-T3:  EEG F7-REF  --  EEG T3-REF
montage =  2, T3-T5:  EEG T3-REF  --  EEG T5-REF
montage =  3, T5-O1:  EEG T5-REF  --  EEG O1-REF
montage =  4, FP2-F8: EEG FP2-REF --  EEG F8-REF
montage =  5, F8-T4 : EEG F8-REF  --  EEG T4-REF
montage =  6, T4-T6:  EEG T4-REF  --  EEG T6-REF
montage =  7, T6-O2:  EEG T6-REF  --  EEG O2-REF
montage =  8, A1-T3:  EEG A1-REF  --  EEG T3-REF
montage =  9, T3-C3:  EEG T3-REF  --  EEG C3-REF
montage = 10, C3-CZ:  EEG C3-REF  --  EEG CZ-REF
montage = 11, CZ-C4:  EEG CZ-REF  --  EEG C4-REF
montage = 12, C4-T4:  EEG C4-REF  --  EEG T4-REF
montage = 13, T4-A2:  EEG T4-REF  --  EEG A2-REF
montage = 14, FP1-F3: EEG FP1-REF --  EEG F3-REF
montage = 15, F3-C3:  EEG F3-REF  --  EEG C3-REF
montage = 16, C3-P3:  EEG C3-REF  --  EEG P3-REF
montage = 17, P3-O1:  EEG P3-REF  --  EEG O1-REF
montage = 18, FP2-F4: EEG FP2-REF --  EEG F4-REF
montage = 19, F4-C4:  EEG F4-REF  --  EEG C4-REF
montage = 20, C4-P4:  EEG C4-REF  --  EEG P4-REF
montage = 21, P4-O2:  EEG P4-REF  --  EEG O2-REF

number_of_levels = 1

level[0] = 1

symbols[0] = {0: '(null)', 1: 'spsw', 2: 'gped', 3: 'pled', 4: 'eybl', 5: 'artf', 6: 'bckg', 7: 'seiz', 8: 'fnsz', 9: 'gnsz', 10: 'spsz', 11: 'cpsz', 12: 'absz', 13: 'tnsz', 14: 'cnsz', 15: 'tcsz', 16: 'atsz', 17: 'mysz', 18: 'nesz', 19: 'intr', 20: 'slow', 21: 'eyem', 22: 'chew', 23: 'shiv', 24: 'musc', 25: 'elpp', 26: 'elst', 27: 'calb'}

"""
HEAD_LINES = HEAD.count("\n")  # the first label line is line HEAD_LINES + 1

# One-hot vectors over the 28 symbols.
BCKG = "[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]"  # noqa: E501
FNSZ = "[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]"  # noqa: E501
GNSZ = "[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]"  # noqa: E501
SPSW = "[0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]"  # noqa: E501

# A 30 s recording: a focal seizure seen on FP1-F7 (10.2775-20.5 s) and F7-T3 (12-21.25 s).
LABELS = f"""label = {{0, 0, 0.0000, 10.2775, 0, {BCKG}}}
label = {{0, 0, 10.2775, 20.5000, 0, {FNSZ}}}
label = {{0, 0, 20.5000, 30.0000, 0, {BCKG}}}
label = {{0, 0, 0.0000, 12.0000, 1, {BCKG}}}
label = {{0, 0, 12.0000, 21.2500, 1, {FNSZ}}}
label = {{0, 0, 21.2500, 30.0000, 1, {BCKG}}}
label = {{0, 0, 0.0000, 30.0000, 2, {BCKG}}}
"""

EXPECTED = pd.DataFrame(
    [(0, "FP1-F7", 0, 0, 0.0, 10.2775, "bckg", 1.0),
     (0, "FP1-F7", 0, 0, 10.2775, 20.5, "fnsz", 1.0),
     (0, "FP1-F7", 0, 0, 20.5, 30.0, "bckg", 1.0),
     (1, "F7-T3", 0, 0, 0.0, 12.0, "bckg", 1.0),
     (1, "F7-T3", 0, 0, 12.0, 21.25, "fnsz", 1.0),
     (1, "F7-T3", 0, 0, 21.25, 30.0, "bckg", 1.0),
     (2, "T3-T5", 0, 0, 0.0, 30.0, "bckg", 1.0)],
    columns=["channel_index", "channel", "level", "sublevel", "start", "stop", "label", "probability"])

# The matching .tse: the union of the channels at term level.
TSE = """version = tse_v1.0.0

0.0000 10.2775 bckg 1.0000
10.2775 21.2500 fnsz 1.0000
21.2500 30.0000 bckg 1.0000
"""


def _write(tmp_path, text, name="00000258_s002_t000.lbl", newline="\n"):
    return write_annotation(tmp_path / name, text, newline)


_refused = functools.partial(assert_refused, read_lbl)


def test_release_layout_parses_to_the_hand_written_rows(tmp_path):
    label_file = read_lbl(_write(tmp_path, HEAD + LABELS), duration=30)
    pd.testing.assert_frame_equal(label_file.events, EXPECTED)
    assert label_file.montage[5] == ("F8-T4", "EEG F8-REF", "EEG T4-REF")
    assert label_file.montage[0] == ("FP1-F7", "EEG FP1-REF", "EEG F7-REF")
    assert len(label_file.montage) == 22 and len(label_file.symbols[0]) == 28
    assert label_file.symbols[0][27] == "calb"


def test_crlf_and_block_order_do_not_matter(tmp_path):
    crlf = read_lbl(_write(tmp_path, HEAD + LABELS, newline="\r\n")).events
    pd.testing.assert_frame_equal(crlf, EXPECTED)
    # Labels before the montage and symbol blocks, as NEDC's parser would also accept.
    version, rest = HEAD.split("version = lbl_v1.0.0\n")
    shuffled = read_lbl(_write(tmp_path, "\n\nversion = lbl_v1.0.0\n\n" + LABELS + rest, "b.lbl")).events
    pd.testing.assert_frame_equal(shuffled, EXPECTED)


def test_opening_brace_may_be_missing(tmp_path):
    # NEDC's newer writer prints 'label = 0, 0, ...]}' and its parser ignores the braces.
    text = HEAD + LABELS.replace("label = {", "label = ")
    pd.testing.assert_frame_equal(read_lbl(_write(tmp_path, text)).events, EXPECTED)


def test_union_of_channels_agrees_with_the_tse(tmp_path):
    seizures = read_lbl(_write(tmp_path, HEAD + LABELS)).seizures()
    pd.testing.assert_frame_equal(
        seizures, pd.DataFrame([(10.2775, 21.25, "fnsz", 2)], columns=["start", "stop", "label", "n_channels"]))
    tse = read_tse(_write(tmp_path, TSE, "00000258_s002_t000.tse"), duration=30)
    term = tse[tse["label"] != "bckg"].reset_index(drop=True)
    pd.testing.assert_frame_equal(seizures[["start", "stop", "label"]], term[["start", "stop", "label"]])


def test_bi_file_with_the_same_table(tmp_path):
    seiz = FNSZ.replace("0.0, 1.0, 0.0, 0.0, 0.0", "1.0, 0.0, 0.0, 0.0, 0.0")  # index 7
    text = HEAD + f"label = {{0, 0, 0.0000, 5.0000, 3, {BCKG}}}\nlabel = {{0, 0, 5.0000, 9.0000, 3, {seiz}}}\n"
    events = read_lbl(_write(tmp_path, text, "x.lbl_bi"), labels=("seiz", "bckg")).events
    assert list(events["label"]) == ["bckg", "seiz"] and list(events["channel"]) == ["T5-O1"] * 2


def test_two_seizure_types_on_one_channel_at_once(tmp_path):
    text = HEAD + LABELS + f"label = {{0, 0, 15.0000, 18.0000, 0, {GNSZ}}}\n"
    _refused(_write(tmp_path, text), HEAD_LINES + 8, "'gnsz' on channel FP1-F7 from 15 s to 18 s overlaps 'fnsz'")


def test_seizure_overlapping_background_on_one_channel(tmp_path):
    # Channel 2 is background for the whole record; a seizure on it must replace, not overlap, it.
    text = HEAD + LABELS + f"label = {{0, 0, 5.0000, 8.0000, 2, {FNSZ}}}\n"
    _refused(_write(tmp_path, text), HEAD_LINES + 8, "'fnsz' on channel T3-T5")


def test_touching_events_are_not_an_overlap(tmp_path):
    text = HEAD + LABELS + f"label = {{0, 0, 30.0000, 31.0000, 2, {FNSZ}}}\n"
    assert len(read_lbl(_write(tmp_path, text)).events) == 8


@pytest.mark.parametrize("line, body, fragment", [
    (2, "version = lbl_v2.0.0", "expected 'version = lbl_v1.0.0'"),
    (HEAD_LINES + 1, f"label = {{0, 0, 1.0, abc, 0, {BCKG}}}", "stop 'abc' is not a number"),
    (HEAD_LINES + 1, f"label = {{0, 0, 1.0, 2.0, 0, {SPSW}}}", "unknown label 'spsw'"),
    (HEAD_LINES + 1, f"label = {{0, 0, 1.0, 2.0, 22, {BCKG}}}", "channel 22 is not in the montage block"),
    (HEAD_LINES + 1, "label = {0, 0, 1.0, 2.0, 0, [0.0, 1.0]}", "2 probabilities for 28 symbols"),
    (HEAD_LINES + 1, "label = {0, 0, 1.0, 2.0, 0, " + BCKG.replace("0.0, 0.0, 1.0", "0.0, 0.5, 0.5") + "}",
     "found artf, bckg"),
    (HEAD_LINES + 1, "lable = {0, 0, 1.0, 2.0, 0, []}", "unrecognised line"),
])
def test_broken_files_are_refused_with_file_and_line(tmp_path, line, body, fragment):
    text = HEAD.replace("version = lbl_v1.0.0", body) if line == 2 else HEAD + body + "\n"
    _refused(_write(tmp_path, text), line, fragment)


def test_file_without_labels(tmp_path):
    with pytest.raises(AnnotationError, match="no label lines"):
        read_lbl(_write(tmp_path, HEAD))
