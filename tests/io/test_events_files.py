"""Seizure event files: events.tsv and .csv_bi round trips, the TUSZ readers reused, pairing, refusals."""

import datetime

import pytest

from kerasseizure.errors import AnnotationError, CorpusError, ScoringError
from kerasseizure.io.events import (
    EVENTS_TSV_COLUMNS,
    Event,
    RecordingEvents,
    event_file_key,
    hypothesis_events,
    pair_event_files,
    read_events_tsv,
    read_seizure_events,
    recording_subject,
    write_csv_bi,
    write_events_tsv,
)
from kerasseizure.io.tusz_annotations import read_tusz_csv

from .conftest import assert_refused, write_annotation

HEADER = "\t".join(EVENTS_TSV_COLUMNS)

# As epilepsy2bids' Annotations.saveTsv writes it (2 decimals), with a HED-SCORE seizure type.
SZCORE_TSV = f"""{HEADER}
12.50\t30.25\tsz_foc_ia\t0.90\tF7-T3,T3-T5\t2021-03-04 05:06:07\t3600.00
700.00\t15.00\tsz\tn/a\tn/a\t2021-03-04 05:06:07\t3600.00
"""

TSE_BI = """version = tse_v1.0.0

0.0000 36.8868 bckg 1.0000
36.8868 183.3055 seiz 1.0000
183.3055 301.0000 bckg 1.0000
"""


def _spans(recording):
    return [(round(e.onset, 4), round(e.stop, 4)) for e in recording.events]


def test_events_tsv_as_szcore_writes_it(tmp_path):
    recording = read_events_tsv(write_annotation(tmp_path / "sub-01_run-00_events.tsv", SZCORE_TSV))
    assert recording.duration == 3600.0
    assert recording.date_time == datetime.datetime(2021, 3, 4, 5, 6, 7)
    assert [(e.onset, e.duration, e.label, e.confidence) for e in recording.events] == \
        [(12.5, 30.25, "sz_foc_ia", 0.9), (700.0, 15.0, "sz", None)]


def test_events_tsv_round_trip(tmp_path):
    path = tmp_path / "rec_events.tsv"
    start = datetime.datetime(2020, 1, 2, 3, 4, 5)
    written = [Event(36.8868, 146.4187, "seiz", 1.0), Event(400.25, 10.5, "sz_gen_m_tonicClonic", None)]
    write_events_tsv(path, written, 1801.5, date_time=start)
    lines = path.read_text().splitlines()
    assert lines[0] == HEADER
    # TUSZ's 'seiz' is not a HED-SCORE type: written as the unclassified seizure 'sz'.
    assert lines[1].split("\t") == ["36.8868", "146.4187", "sz", "1.0000", "n/a", "2020-01-02 03:04:05", "1801.5000"]
    assert lines[2].split("\t")[2:4] == ["sz_gen_m_tonicClonic", "n/a"]
    recording = read_events_tsv(path)
    assert recording.duration == 1801.5 and recording.date_time == start
    assert _spans(recording) == [(36.8868, 183.3055), (400.25, 410.75)]


def test_events_tsv_without_seizures_is_one_background_row(tmp_path):
    path = tmp_path / "quiet_events.tsv"
    write_events_tsv(path, [], 600)
    assert path.read_text().splitlines()[1].split("\t") == ["0.0000", "600.0000", "bckg", "n/a", "n/a", "n/a",
                                                           "600.0000"]
    recording = read_seizure_events(path)
    assert recording.events == () and recording.duration == 600


def test_csv_bi_round_trip_through_the_existing_reader(tmp_path):
    path = tmp_path / "aaaaaaac_s001_t000.csv_bi"
    # 100-150 and 150-160 touch, 155-170 overlaps them: one seizure 100-170, as NEDC merges them.
    write_csv_bi(path, [Event(100, 50, confidence=0.8), Event(150, 10), Event(155, 15), Event(300.12346, 20)],
                 601.5)
    lines = path.read_text().splitlines()
    assert lines[:6] == ["# version = csv_v1.0.0", "# bname = aaaaaaac_s001_t000", "# duration = 601.5000 secs",
                         "# montage_file = $NEDC_NFC/lib/nedc_eas_default_montage.txt", "#",
                         "channel,start_time,stop_time,label,confidence"]
    annotation = read_tusz_csv(path, binary=True)
    assert annotation.duration == 601.5
    rows = [tuple(row) for row in annotation.events.itertuples(index=False)]
    assert rows == [("TERM", 0.0, 100.0, "bckg", 1.0), ("TERM", 100.0, 170.0, "seiz", 0.8),
                    ("TERM", 170.0, 300.1235, "bckg", 1.0), ("TERM", 300.1235, 320.1235, "seiz", 1.0),
                    ("TERM", 320.1235, 601.5, "bckg", 1.0)]
    recording = read_seizure_events(path)
    assert recording.duration == 601.5 and _spans(recording) == [(100.0, 170.0), (300.1235, 320.1235)]


def test_csv_bi_without_seizures_and_at_the_end(tmp_path):
    write_csv_bi(tmp_path / "a.csv_bi", [], 30)
    assert read_tusz_csv(tmp_path / "a.csv_bi", binary=True).events["label"].tolist() == ["bckg"]
    write_csv_bi(tmp_path / "b.csv_bi", [Event(0, 30)], 30)
    assert read_tusz_csv(tmp_path / "b.csv_bi", binary=True).events["label"].tolist() == ["seiz"]


def test_tse_bi_is_read_with_the_tusz_parser(tmp_path):
    recording = read_seizure_events(write_annotation(tmp_path / "00000258_s001_t000.tse_bi", TSE_BI, "\r\n"))
    assert recording.duration == 301.0 and _spans(recording) == [(36.8868, 183.3055)]
    assert recording.events[0].label == "seiz"


@pytest.mark.parametrize("text, line, fragment", [
    (SZCORE_TSV.replace("\tchannels", "\tchannel"), 1, "missing column(s) channels"),
    (SZCORE_TSV.replace("sz_foc_ia", "seiz"), 2, "unknown eventType 'seiz'"),
    (SZCORE_TSV.replace("700.00", "7OO"), 3, "onset '7OO' is not a number"),
    (SZCORE_TSV.replace("30.25", "-1"), 2, "duration '-1'"),
    (SZCORE_TSV.replace("15.00\tsz\tn/a\tn/a\t2021-03-04 05:06:07\t3600.00",
                        "15.00\tsz\tn/a\tn/a\t2021-03-04 05:06:07\t1800.00"), 3, "differs from 3600 s on line 2"),
    (SZCORE_TSV.replace("700.00", "3599.00"), 3, "after the end of the recording"),
    (SZCORE_TSV.replace("2021-03-04 05:06:07\t3600.00\n7", "04/03/2021\t3600.00\n7"), 2, "dateTime"),
    (SZCORE_TSV.replace("0.90", "1.5"), 2, "confidence '1.5'"),
    (SZCORE_TSV.replace("\tn/a\tn/a\t2021", "\tn/a\t2021"), 3, "6 tab-separated fields"),
])
def test_malformed_events_tsv_is_refused_naming_the_file_and_line(tmp_path, text, line, fragment):
    assert_refused(read_seizure_events, write_annotation(tmp_path / "x_events.tsv", text), line, fragment)


def test_events_tsv_with_no_rows_is_refused(tmp_path):
    path = write_annotation(tmp_path / "x_events.tsv", HEADER + "\n")
    with pytest.raises(AnnotationError, match="no rows after the header") as caught:
        read_events_tsv(path)
    assert str(caught.value).startswith(str(path))


def test_malformed_tusz_files_are_refused_by_the_tusz_parsers(tmp_path):
    path = tmp_path / "x.csv_bi"
    write_csv_bi(path, [Event(10, 5)], 60)
    assert_refused(read_seizure_events, write_annotation(path, path.read_text().replace(",seiz,", ",fnsz,")), 8,
                   "unknown label 'fnsz'")
    assert_refused(read_seizure_events, write_annotation(tmp_path / "y.tse_bi", TSE_BI.replace("183.3055 seiz", "18x seiz")),
                   4, "stop '18x' is not a number")
    with pytest.raises(AnnotationError, match="not a seizure event file"):
        read_seizure_events(write_annotation(tmp_path / "z.csv", "x"))


def test_writers_check_their_arguments_and_write_nothing_on_error(tmp_path):
    with pytest.raises(ScoringError, match="ends after the end of the recording"):
        write_csv_bi(tmp_path / "a.csv_bi", [Event(50, 20)], 60)
    with pytest.raises(ScoringError, match="not a HED-SCORE seizure type"):
        write_events_tsv(tmp_path / "a_events.tsv", [Event(5, 5)], 60, event_type="seiz")
    with pytest.raises(ScoringError, match="not positive"):
        RecordingEvents([], -3)
    assert list(tmp_path.iterdir()) == []


def test_files_are_paired_by_recording_name_across_formats(tmp_path):
    ref, hyp = tmp_path / "ref", tmp_path / "hyp"
    write_csv_bi(ref / "train" / "aaaaaaac_s001_t000.csv_bi", [Event(10, 5)], 60)
    write_csv_bi(ref / "aaaaaaac_s001_t001.csv_bi", [], 60)
    write_events_tsv(hyp / "aaaaaaac_s001_t000_events.tsv", [Event(11, 5)], 60)
    write_annotation(ref / "aaaaaaac_s001_t000.csv", "per-channel file: not an event file")
    assert event_file_key("sub-01_ses-01_task-szMonitoring_run-00_events.tsv") == \
        "sub-01_ses-01_task-szMonitoring_run-00"
    assert recording_subject("sub-01_ses-01_run-00") == "sub-01" and recording_subject("aaaaaaac_s001_t000") == \
        "aaaaaaac"
    assert pair_event_files(ref, hyp) == [
        ("aaaaaaac_s001_t000", ref / "train" / "aaaaaaac_s001_t000.csv_bi", hyp / "aaaaaaac_s001_t000_events.tsv"),
        ("aaaaaaac_s001_t001", ref / "aaaaaaac_s001_t001.csv_bi", None)]
    orphan = write_csv_bi(hyp / "zzzzzzzz_s001_t000.csv_bi", [], 60).path
    with pytest.raises(AnnotationError, match="no reference file for this recording") as caught:
        pair_event_files(ref, hyp)
    assert str(caught.value).startswith(orphan)
    write_events_tsv(ref / "aaaaaaac_s001_t001_events.tsv", [], 60)
    with pytest.raises(CorpusError, match="two event files for recording 'aaaaaaac_s001_t001'"):
        pair_event_files(ref, hyp)
    with pytest.raises(CorpusError, match="no event files"):
        pair_event_files(tmp_path / "empty", hyp)


def test_hypothesis_must_be_the_same_recording(tmp_path):
    reference = RecordingEvents([Event(10, 5)], 301.0, path="ref.csv_bi")
    # 2-decimal durations are within the 0.01 s tolerance; the event past 301 s is clipped.
    hypothesis = RecordingEvents([Event(290, 11.004)], 301.004, path="hyp_events.tsv")
    assert [(e.onset, e.stop) for e in hypothesis_events(reference, hypothesis)] == [(290.0, 301.0)]
    with pytest.raises(AnnotationError, match="lasts 302 s here but 301 s in its reference ref.csv_bi") as caught:
        hypothesis_events(reference, RecordingEvents([], 302.0, path="hyp_events.tsv"))
    assert str(caught.value).startswith("hyp_events.tsv")
