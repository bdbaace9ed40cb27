"""The entities HTML report (``newstag.display``) and the evidence column of the tag tables."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from newstag.display import evidence_text, render_html, render_pages
from newstag.io.article import Article
from tests.conftest import SAMPLE, run_cli

TITLE = "Leaders meet in Brussels"
BODY = "EU leaders met in Brussels on Monday. Brussels police closed the roads."


def mention(text: str, start: int) -> dict:
    return {"text": text, "start": start, "end": start + len(text)}


def brussels_article() -> tuple[Article, list[dict], list[dict]]:
    article = Article(title=TITLE, body=BODY)
    text = article.text
    starts = [m.start() for m in re.finditer("Brussels", text)]
    ents = [
        {
            "name": "Brussels",
            "type": "place",
            "count": 3,
            "salience": 0.8,
            "mentions": [mention("Brussels", s) for s in starts],
        }
    ]
    tags = [
        {
            "tag": "Brussels",
            "type": "place",
            "score": 0.8,
            "source": "classifier+entity",
            "evidence": [{"kind": "mention", **mention("Brussels", s)} for s in starts]
            + [
                {"kind": "term", "text": "brussels", "weight": 0.4},
                {"kind": "term", "text": "entity:Belgium", "weight": 0.2},
            ],
        }
    ]
    return article, ents, tags


def body_of(page: str) -> str:
    return page[page.index("<body>") :]


def test_evidence_is_listed_once() -> None:
    article, ents, tags = brussels_article()
    page = render_html(article, ents, tags)
    cells = re.findall(r"<td>([^<]*)</td></tr>", page)
    assert "Brussels, Belgium" in cells
    assert "Brussels, Brussels" not in page and "entity:" not in page


def test_headline_is_shown_once_with_its_mentions_highlighted() -> None:
    article, ents, tags = brussels_article()
    page = body_of(render_html(article, ents, tags))
    plain = re.sub(r"<[^>]+>", "", page)
    assert plain.count("Leaders meet in") == 1
    assert page.count("<mark") == 3  # one in the headline, two in the body
    h1 = page[page.index("<h1>") : page.index("</h1>")]
    assert "<mark" in h1 and "Brussels" in h1
    body = page[page.index('<div class="text">') : page.index("<h2>")]
    assert "EU leaders met in" in body and "Leaders meet in" not in body


def test_legend_lists_only_the_types_on_the_page() -> None:
    article, ents, tags = brussels_article()
    legend = re.search(r'<p class="legend">(.*?)</p>', render_html(article, ents, tags)).group(1)
    assert re.findall(r">(\w+)</span>", legend) == ["place"]
    person = Article(title="Macron speaks", body="Emmanuel Macron spoke in Paris.")
    start = person.text.index("Emmanuel Macron")
    both = render_pages(
        [
            (article, ents, tags),
            (
                person,
                [
                    {
                        "name": "Emmanuel Macron",
                        "type": "person",
                        "mentions": [mention("Emmanuel Macron", start)],
                    }
                ],
                [],
            ),
        ]
    )
    legend = re.search(r'<p class="legend">(.*?)</p>', both).group(1)
    assert re.findall(r">(\w+)</span>", legend) == ["person", "place"]


def test_evidence_text_keeps_whole_items_within_the_width() -> None:
    tag = {
        "evidence": [
            {"text": t}
            for t in (
                "european",
                "eu",
                "european union",
                "the european",
                "european commission",
                "summit",
            )
        ]
    }
    full = evidence_text(tag)
    assert full == "european, eu, european union, the european, european commission, …"
    short = evidence_text(tag, max_chars=40)
    assert short == "european, eu, european union, …" and len(short) <= 40
    assert evidence_text(tag, max_items=2) == "european, eu, …"
    assert evidence_text({"evidence": [{"text": "x" * 80}]}, max_chars=20) == "…"
    assert evidence_text({"evidence": []}) == ""


@pytest.mark.slow
def test_cli_table_evidence_is_never_cut_mid_word() -> None:
    page = SAMPLE / "eu-energy-summit.html"
    as_json = run_cli("suggest", str(page), "--format", "json")
    table = run_cli("suggest", str(page))
    assert as_json.returncode == 0 and table.returncode == 0, table.stderr
    tags = json.loads(as_json.stdout)["tags"]
    cells = {}
    for line in table.stdout.splitlines()[2:]:  # the article line, the header
        parts = re.split(r"\s{2,}", line.strip())
        if len(parts) == 5:
            cells[parts[0]] = parts[4]
    assert cells
    for tag in tags:
        texts = {e["text"].removeprefix("entity:").casefold() for e in tag["evidence"]}
        for item in filter(None, cells.get(tag["tag"], "").split(", ")):
            assert item == "…" or item.casefold() in texts, (tag["tag"], item)


@pytest.mark.slow
def test_entities_html_report_from_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    proc = run_cli("entities", str(SAMPLE / "eu-energy-summit.html"), "--html", str(out))
    assert proc.returncode == 0, proc.stderr
    page = body_of(out.read_text(encoding="utf-8"))
    plain = re.sub(r"<[^>]+>", "", page)
    assert plain.count("Agree Gas Price Cap") == 1
    assert not re.search(r"<td>([^<,]+), \1[,<]", page)  # no evidence listed twice
    legend = re.search(r'<p class="legend">(.*?)</p>', page).group(1)
    for kind in re.findall(r">(\w+)</span>", legend):
        assert f"{kind.upper()}</span>" in page or f'title="{kind.upper()}"' in page
