"""The related-headlines index: build, add, duplicates, persistence, querying (no spaCy)."""

from __future__ import annotations

import pytest

from newstag.related import (
    FieldNames,
    RelatedError,
    RelatedIndex,
    entity_keys,
    parse_queries,
    read_rows,
    word_terms,
)
from tests.conftest import SAMPLE

ROWS = [
    {"id": "a1", "headline": "Floods force thousands from homes in northern Italy",
     "date": "2024-05-14"},
    {"id": "a2", "headline": "Italy evacuates villages as floods hit Emilia-Romagna",
     "date": "2024-05-15"},
    {"id": "b1", "headline": "Bank of England raises interest rates again", "date": "2024-08-03"},
    {"id": "b2", "headline": "Interest rates rise as Bank of England fights inflation",
     "date": "2024-08-04"},
    {"id": "c1", "headline": "Museum reopens after long renovation", "date": "2023-01-01"},
]


def lexical(rows=ROWS, **kw) -> RelatedIndex:
    return RelatedIndex.build(rows, entities=False, **kw)


def test_query_ranks_the_same_event_first():
    index = lexical()
    hits = index.query(text="Floods in Italy: thousands evacuated", k=3)
    assert [h["id"] for h in hits[:2]] == ["a2", "a1"] or [h["id"] for h in hits[:2]] == [
        "a1", "a2"]
    assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]
    assert "italy" in hits[0]["shared_terms"]
    assert set(hits[0]["scores"]) == {"word", "char"}


def test_query_by_id_excludes_itself_and_finds_sibling():
    index = lexical()
    hits = index.query(id="b1", k=2)
    assert [h["id"] for h in hits][0] == "b2"
    assert "b1" not in [h["id"] for h in hits]


def test_exclude_self_drops_identical_headline_unless_asked():
    index = lexical()
    text = ROWS[2]["headline"]
    assert index.query(text=text, k=1)[0]["id"] != "b1"
    assert index.query(text=text, k=1, exclude_self=False)[0]["id"] == "b1"


def test_since_filters_by_date():
    index = lexical()
    hits = index.query(text="Bank of England rates", k=10, since="2024-08-04")
    assert [h["id"] for h in hits] == ["b2"]
    with pytest.raises(RelatedError, match="since"):
        index.query(text="x", since="yesterday")


def test_add_appends_and_is_queryable():
    index = lexical()
    report = index.add([{"id": "b3", "headline": "Bank of England lifts rates to 5.25 percent"}])
    assert (report.added, report.replaced, len(index)) == (1, 0, 6)
    assert "b3" in [h["id"] for h in index.query(id="b1", k=2)]


def test_duplicates_error_skip_replace():
    index = lexical()
    dup = [{"id": "c1", "headline": "Art museum reopens its doors"}]
    with pytest.raises(RelatedError, match="duplicate id 'c1'"):
        index.add(dup)
    assert len(index) == 5
    report = index.add(dup, on_duplicate="skip")
    assert report.added == 0 and len(report.skipped) == 1 and "c1" in str(report.skipped[0])
    assert index.rows_[index.id_pos_["c1"]].headline.startswith("Museum")
    report = index.add(dup, on_duplicate="replace")
    assert report.replaced == 1 and len(index) == 5
    assert index.query(id="c1", k=1) is not None
    assert index.rows_[index.id_pos_["c1"]].headline == "Art museum reopens its doors"


def test_duplicates_within_one_build_name_lines():
    rows = ROWS + [{"id": "a1", "headline": "Another headline"}]
    with pytest.raises(RelatedError, match=r"line 6: duplicate id 'a1' \(already in line 1\)"):
        lexical(rows)
    index = RelatedIndex.build(rows, entities=False, on_duplicate="skip")
    assert len(index) == 5 and index.problems_[0].line == 6


def test_save_load_round_trip(tmp_path):
    index = lexical()
    before = index.query(text="interest rates", k=5)
    index.save(tmp_path / "idx")
    again = RelatedIndex.load(tmp_path / "idx")
    assert again.query(text="interest rates", k=5) == before
    assert again.info()["size"] == 5
    again.add([{"id": "d1", "headline": "Interest rates unchanged in Japan"}])
    again.save(tmp_path / "idx")
    third = RelatedIndex.load(tmp_path / "idx")
    assert len(third) == 6 and "d1" in third


def test_refit_learns_new_words():
    index = lexical()
    index.add([{"id": "z1", "headline": "Zebrafish genome sequenced"},
               {"id": "z2", "headline": "Scientists sequence zebrafish DNA"}])
    assert "zebrafish" not in index.word_vec_.vocabulary_
    index.refit()
    assert "zebrafish" in index.word_vec_.vocabulary_
    assert index.query(id="z1", k=1)[0]["id"] == "z2"


def test_load_rejects_non_index(tmp_path):
    with pytest.raises(RelatedError, match="no such index"):
        RelatedIndex.load(tmp_path / "missing")
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(RelatedError, match="not a newstag"):
        RelatedIndex.load(tmp_path)


def test_unknown_id_and_empty_query():
    index = lexical()
    with pytest.raises(RelatedError, match="not in the index"):
        index.query(id="nope")
    with pytest.raises(RelatedError, match="empty query"):
        index.query(text="   ")


def test_read_rows_reports_bad_lines(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_text('{"id": "1", "headline": "Fine"}\n'
                    "{not json\n"
                    '{"id": "2", "headline": ""}\n'
                    "\n"
                    '{"headline": "no id"}\n'
                    '{"id": "3", "headline": "Bad date", "date": "last week"}\n'
                    '{"id": "4", "title": "Title works too"}\n')
    rows, problems = read_rows(path)
    assert [r.id for _, r in rows] == ["1", "4"]
    assert [p.line for p in problems] == [2, 3, 5, 6]
    assert "malformed JSON" in str(problems[0]) and str(path) in str(problems[0])


def test_read_csv_with_other_field_names(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text('key,title,published\nk1,"A headline, with comma",2024-01-02\n'
                    "k2,,2024-01-03\nk3,short row\n")
    rows, problems = read_rows(path, FieldNames(id="key", headline="title", date="published"))
    assert [(r.id, r.headline, r.date) for _, r in rows] == [
        ("k1", "A headline, with comma", "2024-01-02")]
    assert [p.line for p in problems] == [3, 4]


def test_parse_queries(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "a1"}\n{"text": "rates"}\n{"other": 1}\n')
    items, problems = parse_queries(path)
    assert [line for line, _ in items] == [1, 2] and problems[0].line == 3


def test_dataframe_and_frame_round_trip():
    pd = pytest.importorskip("pandas")
    index = lexical(pd.DataFrame(ROWS))
    frame = index.to_frame()
    assert list(frame["id"]) == [r["id"] for r in ROWS]


def test_word_terms_and_entity_keys():
    assert word_terms("The floods are flooding Italy's towns") == ["flood", "flood", "italy",
                                                                    "town"]
    assert entity_keys("John Kerry") == ["john kerry", "~john", "~kerry"]
    assert entity_keys("Kerry") == ["kerry", "~kerry"]


def test_sample_headlines_load():
    rows, problems = read_rows(SAMPLE / "headlines.csv")
    assert len(rows) >= 30 and not problems
    assert len({r.id for _, r in rows}) == len(rows)


def test_nothing_in_common_is_not_returned():
    index = lexical()
    assert index.query(text="qqq", k=5) == []
    with pytest.raises(RelatedError, match="cannot index"):
        lexical([{"id": "x", "headline": "The"}])
