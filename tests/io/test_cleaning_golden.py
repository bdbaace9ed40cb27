"""Golden cleaning tests: on our own sample pages every story line survives (results
tables, lists, standings, schedules, quotes, the dateline) and every furniture line goes,
whatever the input: a text file, JSON fields, a DataFrame row or an HTML page."""

from __future__ import annotations

import html
import json

import pytest

from newstag.io.article import (
    DATA,
    classify_line,
    clean_text,
    from_record,
    parse_html,
    read_article,
)
from tests.conftest import SAMPLE, run_cli

# (headline, last story line): the story is every non-empty line between them
STORIES = {
    "golf-results.txt": (
        "McNulty Leads Zimbabwe Open by Two Shots",
        "Price, the world number three, said the greens were the fastest "
        "he had played in Africa this season.",
    ),
    "flood-relief.txt": (
        "Flood Relief Reaches Villages Cut Off in Northern Bangladesh",
        "The Meteorological Department forecast more heavy rain in the "
        "Brahmaputra basin later this week.",
    ),
}


def split_page(name: str) -> tuple[list[str], str, list[str]]:
    """(furniture lines, headline, story lines after the headline) of a sample page."""
    lines = [ln.strip() for ln in (SAMPLE / name).read_text().splitlines() if ln.strip()]
    first, last = (lines.index(x) for x in STORIES[name])
    return lines[:first] + lines[last + 1 :], lines[first], lines[first + 1 : last + 1]


def assert_clean(article, name: str) -> None:
    furniture, headline, story = split_page(name)
    kept = article.body.splitlines()
    assert article.title == headline
    missing = [ln for ln in story if ln not in kept]
    assert not missing, f"story lines dropped: {missing}"
    leaked = [ln for ln in furniture if ln in kept or ln == article.title]
    assert not leaked, f"furniture kept: {leaked}"
    assert [ln for ln in kept if ln] == story  # in the page's order, nothing else


@pytest.mark.parametrize("name", sorted(STORIES))
def test_text_page_keeps_the_whole_story(name):
    assert_clean(read_article(SAMPLE / name), name)


def _fields(name: str) -> dict[str, str]:
    """The page as a CMS would send it: the headline as a field, the body with furniture
    before and after the story."""
    furniture, headline, story = split_page(name)
    half = len(furniture) // 2
    return {"title": headline, "body": "\n".join(furniture[:half] + story + furniture[half:])}


@pytest.mark.parametrize("name", sorted(STORIES))
def test_json_fields_keep_the_whole_story(name):
    assert_clean(from_record(_fields(name), name), name)


@pytest.mark.parametrize("name", sorted(STORIES))
def test_dataframe_row_keeps_the_whole_story(name):
    pd = pytest.importorskip("pandas")
    from newstag.jobs.frames import frame_articles

    (article,) = frame_articles(pd.DataFrame([_fields(name)]))
    assert_clean(article, name)


def _html_block(line: str) -> str:
    """A story line as a page would mark it up: rows with tabs as a table, others as <p>."""
    if "\t" in line:
        cells = "".join(f"<td>{html.escape(c)}</td>" for c in line.split("\t"))
        return f"<table><tr>{cells}</tr></table>"
    return f"<p>{html.escape(line)}</p>"


def _plain(line: str) -> str:
    return " ".join(line.replace("|", " ").split())


@pytest.mark.parametrize("name", sorted(STORIES))
def test_html_page_keeps_the_whole_story(name):
    furniture, headline, story = split_page(name)
    page = (
        f"<html><head><title>{html.escape(headline)}</title></head><body>"
        f"<nav>{' '.join(html.escape(x) for x in furniture[:3])}</nav>"
        f"<article><h1>{html.escape(headline)}</h1>"
        f"{''.join(_html_block(ln) for ln in story)}</article>"
        f"<footer><p>{html.escape(furniture[-1])}</p></footer></body></html>"
    )
    article = parse_html(page, name)
    assert article.title == headline
    kept = {_plain(ln) for ln in article.body.splitlines() if ln.strip()}
    assert [ln for ln in story if _plain(ln) not in kept] == []
    assert not {_plain(furniture[0]), _plain(furniture[-1])} & kept


def test_a_field_headline_is_never_replaced_by_a_body_line():
    body = "HARARE 1996-12-07\nFourie 69 73 71\nPrice 68 68 67\n"
    article = from_record({"title": "Zimbabwe Open scores", "body": body})
    assert article.title == "Zimbabwe Open scores"
    assert article.body.split() == body.split()


@pytest.mark.parametrize(
    "text",
    [
        "Fourie 69 73 71\nZimbabwe Open second round\nHARARE 1996-12-07\nPrice 68 68 67\n",
        "HARARE 1996-12-07\nFourie 69 73 71\nGolf scores from Harare\n"
        "Mark McNulty of Zimbabwe shot a second-round 61 on Saturday to lead the Open.\n",
    ],
)
def test_a_results_line_is_never_the_headline(text):
    article = clean_text(text)
    assert classify_line(article.title)[0] != DATA
    assert "Fourie 69 73 71" in article.text and "HARARE 1996-12-07" in article.text


@pytest.mark.parametrize(
    "line,reason",
    [
        ("201 Mark McNulty ( Zimbabwe ) 72 61 68", "table row"),
        ("Fourie 69 73 71", "table row"),
        ("Arsenal 17 10 4 3 34 18 34", "table row"),
        ("Shr 20 cts vs 15 cts", "table row"),
        ("Sylhet\t210,000", "table row"),
        ("| Sylhet | 210,000 |", "table row"),
        ("HARARE 1996-12-07", "dateline"),
        ("LONDON, March 3 -", "dateline"),
        ("NEW YORK, Zimbabwe 1996-12-07", "dateline"),
        ("- 120 tonnes of rice", "list item"),
        ("2. Nick Price (Zimbabwe)", "list item"),
    ],
)
def test_story_data_lines_are_recognised(line, reason):
    assert classify_line(line) == (DATA, reason)


@pytest.mark.parametrize(
    "line",
    [
        "BROWN-FORMAN <BFDB> SETS STOCK SPLIT, UPS PAYOUT",  # not a topic list
        "TEXAS COMMERCE BANCSHARES <TCB> FILES PLAN",  # not a tag line
        "MAGMA LOWERS COPPER 0.75 CENT TO 66 CTS",  # numbers, but a headline
    ],
)
def test_all_caps_wire_headlines_are_headings(line):
    assert classify_line(line) == ("heading", "")


def test_a_row_of_figures_is_not_a_byline():
    assert classify_line("Minneapolis   2.65  2.71  --    --    3.70") == (DATA, "table row")
    assert classify_line("Ruth Klein | 05.07.24 10:15")[0] != DATA


@pytest.mark.parametrize(
    "line",
    [
        "Gila Isaacson | 18:57",
        "Published: 05.07.24",
        "Updated 12:30",
        "3 comments",
        "Share on Facebook",
        "Hamas, Israel-Gaza War, IDF",
    ],
)
def test_furniture_is_not_data(line):
    assert classify_line(line)[0] != DATA


@pytest.mark.slow
def test_clean_command_keeps_the_table(tmp_path):
    """The CLI reads the sample as a user would and keeps the results table."""
    r = run_cli("suggest", str(SAMPLE / "golf-results.txt"), "--model", "none", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    json.loads(r.stdout)
