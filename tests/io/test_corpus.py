"""Corpus readers: JSONL, CSV/TSV, .txt + .tags folders, Reuters SGML; bad rows reported."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from newstag.io.corpus import (
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
    path.write_text(
        "\n".join(
            [
                json.dumps({"title": "A", "body": "b", "tags": ["x", "y"]}),
                "{not json",
                json.dumps({"title": "", "body": ""}),
                json.dumps({"title": "B", "text": "c", "tags": 5}),
                "",
                json.dumps({"headline": "C", "snippet": "d", "keywords": ["z"], "id": 9}),
            ]
        )
        + "\n"
    )
    report = CorpusReport()
    records = list(read_corpus(path, report=report))
    assert [r.title for r in records] == ["A", "C"]
    assert records[1].tags == ["z"] and records[1].id == "9" and records[1].body == "d"
    lines = [re.search(r": line (\d+)", where)[1] for where, _ in report.skipped]
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
    assert (
        topics[0].body.startswith("Rain <fell> on the coastal") and "Reuter" not in topics[0].body
    )
    assert topics[0].meta["lewissplit"] == "TRAIN" and topics[1].meta["topics_attr"] == "NO"
    assert topics[1].title.startswith("SAMPLE REFINERS <SMP>")
    places = list(read_corpus(tmp_path, reuters_field="places"))  # a folder works too
    assert places[0].tags == ["el-salvador", "usa"]
    everything = list(read_corpus(path, reuters_field="all"))
    assert everything[0].tags == ["cocoa", "el-salvador", "usa", "james-baker"]
    with pytest.raises(CorpusError, match="Reuters tag field"):
        list(read_corpus(path, reuters_field="nope"))
    assert topics[0].meta["dateline"] == "SALVADOR, Feb 26 -"
    dated = list(read_corpus(path, reuters_dateline=True))
    assert dated[0].body.startswith("SALVADOR, Feb 26 - Rain <fell> on the coastal")
    assert dated[1].body == topics[1].body  # no dateline, nothing added


def test_read_corpus_frame(tmp_path: Path) -> None:
    frame = read_corpus_frame(SAMPLE)
    assert list(frame.columns) == ["id", "title", "body", "tags", "date"]
    assert len(frame) == len(load_corpus(SAMPLE)[0])
    assert isinstance(frame.loc[0, "tags"], list)
    bad = tmp_path / "b.jsonl"
    bad.write_text('{"title": "A", "body": "B", "tags": ["t"]}\n{oops\n')
    frame = read_corpus_frame(bad)
    assert len(frame) == 1 and frame.attrs["skipped"][0][0].endswith(": line 2, column 2")


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
    train = [
        r for r in records if r.meta["lewissplit"] == "TRAIN" and r.meta["topics_attr"] == "YES"
    ]
    test = [r for r in records if r.meta["lewissplit"] == "TEST" and r.meta["topics_attr"] == "YES"]
    train_tags = {t for r in train for t in r.tags}
    cats = train_tags & {t for r in test for t in r.tags}
    assert len(cats) == 90
    assert sum(bool(set(r.tags) & cats) for r in test) == 3019


# ---------------------------------------------------------------- tag aliases


def test_tag_aliases_tsv_and_json_lines_with_bad_lines_reported(tmp_path: Path) -> None:
    from newstag.io.corpus import read_tag_aliases

    path = tmp_path / "aliases.tsv"
    path.write_text(
        "# tag<TAB>alias...\n"
        "\n"
        "okafor\tGrace Okafor\tG. Okafor\n"
        '{"tag": "kestrel-bank", "aliases": ["Kestrel Bank", "Kestrel"]}\n'
        "just-a-tag\n"  # line 5: no alias
        '{"tag": "x", "aliases": "single alias"}\n'
        '{"tag": 3, "aliases": ["a"]}\n'  # line 7: tag not a string
        '{"tag": "y", "aliases": [1, 2]}\n'  # line 8: aliases not strings
        "{broken json\n"  # line 9
        "\tAlias without tag\n"  # line 10
        "okafor\tDr Grace Okafor\tGrace Okafor\n",  # adds to the first line's tag
        encoding="utf-8",
    )
    report = CorpusReport()
    aliases = read_tag_aliases(path, report)
    assert aliases == {
        "okafor": ["Grace Okafor", "G. Okafor", "Dr Grace Okafor"],
        "kestrel-bank": ["Kestrel Bank", "Kestrel"],
        "x": ["single alias"],
    }
    lines = {int(re.search(r": line (\d+)", where)[1]): reason for where, reason in report.skipped}
    assert sorted(lines) == [5, 7, 8, 9, 10]
    assert "no alias" in lines[5] and "tag" in lines[7] and "list of strings" in lines[8]
    assert "malformed JSON" in lines[9]
    assert report.used == 4


def test_tag_aliases_missing_or_empty_file_fails(tmp_path: Path) -> None:
    from newstag.io.corpus import read_tag_aliases

    with pytest.raises(CorpusError, match="no such alias file"):
        read_tag_aliases(tmp_path / "nope.tsv")
    empty = tmp_path / "empty.tsv"
    empty.write_text("# nothing\nlonely-tag\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"no usable tag aliases.*empty.tsv: line 2: no alias"):
        read_tag_aliases(empty)


def test_tag_aliases_round_trip(tmp_path: Path) -> None:
    from newstag.io.corpus import read_tag_aliases, write_tag_aliases

    aliases = {"b-tag": ["Bee Tag"], "a-tag": ["Ay Tag", "A\ttabbed"]}
    path = write_tag_aliases(aliases, tmp_path / "out.tsv")
    assert read_tag_aliases(path) == {"a-tag": ["Ay Tag", "A tabbed"], "b-tag": ["Bee Tag"]}


def test_reuters_description_converter_on_own_fixture(tmp_path: Path) -> None:
    """The converter reads the Reuters cat-descriptions layout (made-up entries here)."""
    from newstag.io.corpus import reuters_tag_aliases

    text = """Some notes on the categories

****Subject Codes (3)

Widget Exports (WIDGET-X)
Harbour Traffic (HARBOUR)

**Commodity Codes (2)

GRAVEL
PEAT
________________________________________________________________
@heading[Organization Codes (2)]
@begin[format]
Northern Gravel Council (NGC)@*
Union of Peat Producing Towns
[Union des Villes Tourbieres]
(UPPT)@*
@end[format]
@heading[Country Codes (2)]
@begin[format]
RURITANIA@*
GRAND-FENWICK @*
@end[format]
@heading[People Codes (5)]
@begin[itemize]
Ruritania
@begin[itemize]
   President Rudolf (Rudi) Rassendyll  (RASSENDYLL)

   Finance Minister Anna Maria de Vries  (DE-VRIES)

   Central Bank (Ruritanian Bank) Governor Otto Klein
                                            (OTTO-KLEIN)
@end[itemize]

GRAND-FENWICK (Duchy of Grand Fenwick)
@begin[itemize]
Gloriana Twelfth, Duchess of Grand Fenwick  (TWELFTH)
@end[itemize]

Tully Bascombe, prime minister  (BASCOMBE)
@end[itemize]
"""
    path = tmp_path / "cat-descriptions.txt"
    path.write_bytes(text.encode("latin-1"))
    aliases = reuters_tag_aliases(path)
    assert aliases["widget-x"] == ["Widget Exports"]
    assert aliases["ngc"] == ["Northern Gravel Council"]
    assert aliases["uppt"] == ["Union of Peat Producing Towns", "Union des Villes Tourbieres"]
    assert aliases["rassendyll"][:2] == ["Rudolf Rassendyll", "Rudi Rassendyll"]
    assert aliases["de-vries"] == ["Anna Maria de Vries", "Maria de Vries"]
    assert "otto-klein" not in aliases  # the full name is the code itself: nothing to add
    assert aliases["twelfth"] == ["Gloriana Twelfth"]
    assert aliases["bascombe"] == ["Tully Bascombe"]
    assert aliases["grand-fenwick"] == ["Duchy of Grand Fenwick"]
    assert "gravel" not in aliases and "ruritania" not in aliases  # bare codes
    assert not any("Governor" in a or "Minister" in a for v in aliases.values() for a in v)


def test_a_new_corpus_format_is_one_registered_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newstag.io import corpus

    monkeypatch.setitem(
        corpus.READERS,
        "lines",
        lambda path, report, options: iter(
            corpus.CorpusRecord(id=str(n), title="", body=line, tags=[options.tag_sep])
            for n, line in enumerate(path.read_text().splitlines(), 1)
        ),
    )
    src = tmp_path / "stories.txt"
    src.write_text("Floods in Italy\nElection in Peru\n")
    records = list(corpus.read_corpus(src, "lines", tag_sep="|"))
    assert [(r.id, r.body, r.tags) for r in records] == [
        ("1", "Floods in Italy", ["|"]),
        ("2", "Election in Peru", ["|"]),
    ]
    with pytest.raises(corpus.CorpusError, match="unknown corpus format 'nope'"):
        list(corpus.read_corpus(src, "nope"))
