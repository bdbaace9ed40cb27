"""Corpus readers: JSONL, CSV/TSV, .txt + .tags folders, Reuters SGML; bad rows reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newstag.corpus import (
    CorpusError,
    CorpusReport,
    load_corpus,
    read_corpus,
    read_corpus_frame,
    split_by_date,
)
from newstag.paths import REPO_ROOT, shared_data

SAMPLE = REPO_ROOT / "data" / "sample" / "corpus.jsonl"


def test_sample_corpus_reads_fully() -> None:
    records, report = load_corpus(SAMPLE)
    n_lines = sum(1 for line in SAMPLE.read_text().splitlines() if line.strip())
    assert len(records) == n_lines == report.used
    assert not report.skipped
    assert all(r.tags for r in records)
    assert records[0].text.startswith(records[0].title + "\n\n")


def test_jsonl_bad_rows_are_reported_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join([
        json.dumps({"title": "A", "body": "b", "tags": ["x", "y"]}),
        "{not json",
        json.dumps({"title": "", "body": ""}),
        json.dumps({"title": "B", "text": "c", "tags": 5}),
        "",
        json.dumps({"headline": "C", "snippet": "d", "keywords": ["z"], "id": 9}),
    ]) + "\n")
    report = CorpusReport()
    records = list(read_corpus(path, report=report))
    assert [r.title for r in records] == ["A", "C"]
    assert records[1].tags == ["z"] and records[1].id == "9" and records[1].body == "d"
    lines = [where.rsplit(":", 1)[1] for where, _ in report.skipped]
    assert lines == ["2", "3", "4"]
    assert "malformed JSON" in report.skipped[0][1]
    assert "used 2" in report.summary() and "skipped 3" in report.summary()


def test_csv_and_tsv_with_separators_and_custom_fields(tmp_path: Path) -> None:
    csv_path = tmp_path / "c.csv"
    csv_path.write_text('title,body,tags\nOne,"Body, with comma",a;b ; c\nTwo,Body two,\n')
    records, report = load_corpus(csv_path)
    assert records[0].tags == ["a", "b", "c"] and records[0].body == "Body, with comma"
    assert report.untagged == 1 and records[1].tags == []
    tsv_path = tmp_path / "c.tsv"
    tsv_path.write_text("headline\tstory\tlabels\nOne\tText one\tx|y\n")
    records, _ = load_corpus(tsv_path, text_field="story", tags_field="labels", tag_sep="|")
    assert records[0].tags == ["x", "y"] and records[0].body == "Text one"


def test_csv_without_tags_column_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("title,body\nOne,Two\n")
    with pytest.raises(CorpusError, match="tags"):
        load_corpus(path)
    with pytest.raises(CorpusError, match="no column 'nope'"):
        load_corpus(path, tags_field="nope")


def test_empty_and_untagged_corpora_fail_clearly(tmp_path: Path) -> None:
    empty = tmp_path / "e.jsonl"
    empty.write_text("\n")
    with pytest.raises(CorpusError, match="no usable articles"):
        load_corpus(empty)
    untagged = tmp_path / "u.jsonl"
    untagged.write_text(json.dumps({"title": "A", "body": "B"}) + "\n")
    with pytest.raises(CorpusError, match="no article has tags"):
        load_corpus(untagged)
    with pytest.raises(CorpusError, match="no such file"):
        load_corpus(tmp_path / "missing.jsonl")
    with pytest.raises(CorpusError, match="unknown corpus format"):
        load_corpus(untagged.with_suffix(".xyz").write_text("x") and untagged.with_suffix(".xyz"))


def test_txt_folder_with_sidecar_tags(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Headline one\n\nThe body of the first story is here.\n")
    (tmp_path / "a.tags").write_text("Alpha\nBeta\n\n")
    (tmp_path / "b.txt").write_text("Headline two\n\nNo tags for this one.\n")
    report = CorpusReport()
    records = list(read_corpus(tmp_path, report=report))
    assert len(records) == 1 and records[0].tags == ["Alpha", "Beta"]
    assert records[0].title == "Headline one" and records[0].id == "a"
    assert report.skipped and "b.txt" in report.skipped[0][0]


REUTERS_SGM = """<!DOCTYPE lewis SYSTEM "lewis.dtd">
<REUTERS LEWISSPLIT="TRAIN" TOPICS="YES" CGISPLIT="TRAINING-SET" OLDID="1" NEWID="1">
<DATE>26-FEB-1987 15:01:01.79</DATE>
<TOPICS><D>cocoa</D></TOPICS>
<PLACES><D>el-salvador</D><D>usa</D></PLACES>
<PEOPLE><D>james-baker</D></PEOPLE>
<ORGS></ORGS>
<EXCHANGES></EXCHANGES>
<COMPANIES></COMPANIES>
<TEXT>&#2;
<TITLE>HARBOUR TOWN COCOA NOTES</TITLE>
<DATELINE>    SALVADOR, Feb 26 - </DATELINE><BODY>Rain &lt;fell&gt; on the
coastal cocoa farms this week, Baker said.
 Reuter
&#3;</BODY></TEXT>
</REUTERS>
<REUTERS LEWISSPLIT="TEST" TOPICS="NO" CGISPLIT="TRAINING-SET" OLDID="2" NEWID="2">
<DATE>26-FEB-1987 15:02:20.00</DATE>
<TOPICS></TOPICS>
<PLACES><D>usa</D></PLACES>
<PEOPLE></PEOPLE>
<ORGS></ORGS>
<EXCHANGES></EXCHANGES>
<COMPANIES></COMPANIES>
<TEXT TYPE="BRIEF">&#2;
<TITLE>SAMPLE REFINERS &lt;SMP> PLAN FINANCE ARM</TITLE>
&#3;</TEXT>
</REUTERS>
"""


def test_reuters_sgml_fields(tmp_path: Path) -> None:
    path = tmp_path / "reut2-000.sgm"
    path.write_text(REUTERS_SGM, encoding="latin-1")
    topics = list(read_corpus(path))
    assert [r.tags for r in topics] == [["cocoa"], []]
    assert topics[0].title == "HARBOUR TOWN COCOA NOTES"
    assert topics[0].body.startswith("Rain <fell> on the coastal") and "Reuter" not in \
        topics[0].body
    assert topics[0].meta["lewissplit"] == "TRAIN" and topics[1].meta["topics_attr"] == "NO"
    assert topics[1].title.startswith("SAMPLE REFINERS <SMP>")
    places = list(read_corpus(tmp_path, reuters_field="places"))  # a folder works too
    assert places[0].tags == ["el-salvador", "usa"]
    everything = list(read_corpus(path, reuters_field="all"))
    assert everything[0].tags == ["cocoa", "el-salvador", "usa", "james-baker"]
    with pytest.raises(CorpusError, match="Reuters tag field"):
        list(read_corpus(path, reuters_field="nope"))


def test_read_corpus_frame(tmp_path: Path) -> None:
    frame = read_corpus_frame(SAMPLE)
    assert list(frame.columns) == ["id", "title", "body", "tags", "date"]
    assert len(frame) == len(load_corpus(SAMPLE)[0])
    assert isinstance(frame.loc[0, "tags"], list)
    bad = tmp_path / "b.jsonl"
    bad.write_text('{"title": "A", "body": "B", "tags": ["t"]}\n{oops\n')
    frame = read_corpus_frame(bad)
    assert len(frame) == 1 and frame.attrs["skipped"][0][0].endswith(":2")


def test_split_by_date() -> None:
    records, _ = load_corpus(SAMPLE)
    train, test = split_by_date(records, 0.75)
    assert len(train) + len(test) == sum(1 for r in records if r.date)
    assert max(r.date for r in train) <= min(r.date for r in test)


@pytest.mark.shared
def test_reuters_modapte_split_sizes() -> None:
    folder = shared_data("reuters21578")
    if folder is None:
        pytest.skip("needs ../shared/data/reuters21578 (not present)")
    records = list(read_corpus(folder))
    train = [r for r in records if r.meta["lewissplit"] == "TRAIN" and r.meta["topics_attr"] ==
             "YES"]
    test = [r for r in records if r.meta["lewissplit"] == "TEST" and r.meta["topics_attr"] ==
            "YES"]
    train_tags = {t for r in train for t in r.tags}
    cats = train_tags & {t for r in test for t in r.tags}
    assert len(cats) == 90
    assert sum(bool(set(r.tags) & cats) for r in test) == 3019
