"""Long texts in pieces: splitting with offsets, the same entities, and articles over spaCy's
1,000,000-character limit through ``newstag suggest`` and ``newstag batch``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newstag.io.article import from_record, read_article
from newstag.nlp.chunks import parse, split_paragraphs
from tests.conftest import SAMPLE, run_cli


def sample_paragraphs() -> list[str]:
    return [
        p
        for name in ("kim-putin-summit.txt", "gaza-aid-convoy.txt")
        for p in read_article(SAMPLE / name).body.split("\n\n")
    ]


def long_story(chars: int) -> str:
    """A headline and sample paragraphs repeated to at least ``chars`` characters."""
    paragraphs = sample_paragraphs()
    parts = ["Summits and convoys: the long read"]
    while sum(len(p) + 2 for p in parts) < chars:
        parts.append(paragraphs[len(parts) % len(paragraphs)])
    return "\n\n".join(parts) + "\n"


@pytest.mark.parametrize("max_chars", [1, 7, 50, 400, 5000])
def test_pieces_cover_the_text_in_order_within_the_limit(max_chars: int) -> None:
    text = long_story(6000)
    pieces = split_paragraphs(text, max_chars)
    assert "".join(p.text for p in pieces) == text
    assert all(text[p.start : p.start + len(p.text)] == p.text for p in pieces)
    assert all(0 < len(p.text) <= max_chars for p in pieces)


def test_pieces_end_at_paragraph_breaks_when_there_are_some() -> None:
    text = long_story(6000)
    pieces = split_paragraphs(text, 1000)
    assert len(pieces) > 5
    assert all(p.text.endswith("\n\n") for p in pieces[:-1])


def test_a_paragraph_without_breaks_is_cut_at_sentences_then_spaces() -> None:
    sentences = "The council met on Monday. " * 100
    pieces = split_paragraphs(sentences, 500)
    assert all(p.text.endswith(". ") for p in pieces[:-1])
    words = "word " * 300
    assert all(p.text.endswith(" ") for p in split_paragraphs(words, 64)[:-1])
    assert [len(p.text) for p in split_paragraphs("x" * 25, 10)] == [10, 10, 5]


def test_a_short_text_is_one_piece() -> None:
    assert [(p.start, p.text) for p in split_paragraphs("Storm hits coast", 100)] == [
        (0, "Storm hits coast")
    ]
    assert [(p.start, p.text) for p in split_paragraphs("", 100)] == [(0, "")]
    with pytest.raises(ValueError):
        split_paragraphs("text", 0)


@pytest.mark.slow
def test_pieces_give_the_same_entity_spans_as_the_whole_text() -> None:
    from newstag.nlp.pipeline import load_pipeline

    nlp = load_pipeline()
    text = long_story(12_000)
    whole = [(e.label_, e.start_char, e.end_char) for e in nlp(text).ents]
    merged = [(e.label_, e.start_char, e.end_char) for e in parse(nlp, text, max_chars=1500).ents]
    assert len(whole) > 50
    assert merged == whole


def _check_mentions(result: dict, text: str) -> None:
    """Every mention's offsets point at its text in the whole article, to the last one."""
    mentions = [m for e in result["entities"] for m in e["mentions"]]
    assert mentions
    for m in mentions:
        assert text[m["start"] : m["end"]] == m["text"], m
    assert max(m["start"] for m in mentions) > 1_000_000 * 0.95


@pytest.mark.slow
def test_suggest_reads_an_article_over_a_million_characters(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text(long_story(1_050_000))
    assert path.stat().st_size > 1_000_000
    r = run_cli("suggest", str(path), "--model", "none", "--format", "json", "--top-k", "5")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Traceback" not in r.stderr and "E088" not in r.stderr
    result = json.loads(r.stdout)
    # the people of every piece are found (which of a many-story article's entities lead the
    # tags is salience's business: its country prior puts the countries first here)
    assert {"Kim Jong Un", "Vladimir Putin"} <= {e["name"] for e in result["entities"]}
    assert len(result["tags"]) == 5
    _check_mentions(result, read_article(path).text)


@pytest.mark.slow
def test_batch_tags_a_row_over_a_million_characters(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    big = {
        "id": "long",
        "title": "Summits and convoys: the long read",
        "body": long_story(1_010_000),
    }
    small = {
        "id": "short",
        "title": "Storm hits coast",
        "body": "A storm hit the coast of Portugal on Monday, officials in Lisbon said.",
    }
    src.write_text(json.dumps(big) + "\n" + json.dumps(small) + "\n")
    out = tmp_path / "out.jsonl"
    r = run_cli("batch", str(src), "--out", str(out), "--model", "none", "--no-progress")
    assert r.returncode == 0, r.stderr[-2000:]
    rows = {row["id"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert set(rows) == {"long", "short"}, r.stderr[-2000:]
    assert "Vladimir Putin" in {t["tag"] for t in rows["long"]["tags"]}
    assert "Portugal" in {t["tag"] for t in rows["short"]["tags"]}
    _check_mentions(rows["long"], from_record(big).text)
