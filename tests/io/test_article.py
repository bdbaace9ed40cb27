"""The article readers and the page-furniture cleaner."""

from __future__ import annotations

import json

import pytest

from newstag.io.article import (
    Article,
    ArticleError,
    NoStoryError,
    clean_text,
    from_record,
    iter_jsonl,
    parse_html,
    parse_text,
    read_article,
    to_article,
)
from newstag.io.records import Record
from newstag.jobs.batch import default_rejects_path
from tests.conftest import SAMPLE, run_cli

NO_STORY_HTML = "<nav>Home | News</nav><p>Share on Facebook</p>"


def test_first_line_is_headline_for_clean_text():
    article = parse_text("Storm hits coast\n\nA storm hit the coast on Monday, officials said.\n")
    assert article.title == "Storm hits coast"
    assert article.body.startswith("A storm hit")
    assert article.dropped == []


def test_sidebar_after_body_is_dropped():
    article = read_article(SAMPLE / "kim-putin-summit.txt")
    assert article.title.startswith("Kim Jong Un Will Meet Putin")
    assert "Netanyahu" not in article.text and "Gila Isaacson" not in article.text
    assert "Do not send comments" not in article.text
    assert "Share on Facebook" not in article.text
    assert "Click here to subscribe" not in article.text  # line 3, a 7-word prompt
    assert "artillery shells" in article.body  # the story itself survives
    reasons = {d.reason for d in article.dropped}
    assert {"byline", "topic list", "comment form", "tag line"} <= reasons


def test_furniture_before_body_is_dropped():
    article = read_article(SAMPLE / "gaza-aid-convoy.txt")
    assert article.title == "Aid Convoy Reaches Northern Gaza After Weeks of Delays"
    assert article.body.startswith("The World Food Programme says")  # the standfirst
    for furniture in ("Olaf Scholz", "Apple announces", "Ruth Klein", "Talkbacks", "Also read"):
        assert furniture not in article.text


def test_html_page_uses_page_headline_and_main_content():
    article = read_article(SAMPLE / "eu-energy-summit.html")
    assert article.title == "EU Leaders Agree Gas Price Cap at Brussels Summit"
    assert "Ursula von der Leyen" in article.body
    for furniture in ("Ronaldo", "Trudeau", "Nvidia", "Privacy policy", "Do not send comments"):
        assert furniture not in article.text
    assert article.body.count("EU Leaders Agree") == 0


def test_json_record_and_errors():
    article = read_article(SAMPLE / "wildfire.json")
    assert article.id == "sample-wildfire-1" and article.title.startswith("Wildfires")
    with pytest.raises(ArticleError, match="empty article"):
        from_record({"title": "  ", "body": ""})
    with pytest.raises(ArticleError, match="must be a string"):
        from_record({"title": 3, "body": "x"})
    with pytest.raises(ArticleError, match="JSON object"):
        from_record(["a list"])


def test_bad_files(tmp_path):
    with pytest.raises(ArticleError, match="no such file"):
        read_article(tmp_path / "missing.txt")
    with pytest.raises(ArticleError, match="is a directory"):
        read_article(tmp_path)
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n\t\n")
    with pytest.raises(ArticleError, match="empty or whitespace-only"):
        read_article(empty)
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(ArticleError, match="binary"):
        read_article(binary)
    big = tmp_path / "big.txt"
    big.write_text("Headline\n" + "word " * 1000)
    with pytest.raises(ArticleError, match="over the 100-byte cap"):
        read_article(big, max_bytes=100)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"title": "x", ')
    with pytest.raises(ArticleError, match="malformed JSON"):
        read_article(bad_json)


def test_non_utf8_is_decoded_with_warning(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(
        "Café owners protest\n\nThe café owners of Zürich protested on "
        "Monday against a new tax, officials said.".encode("cp1252")
    )
    article = read_article(path)
    assert article.title == "Café owners protest"
    assert any("not valid UTF-8" in w for w in article.warnings)


def test_non_english_text_warns():
    article = parse_text(
        "Le président a parlé\n\nLe président de la République a annoncé "
        "lundi une nouvelle réforme des retraites pour les travailleurs "
        "du secteur public, selon le gouvernement."
    )
    assert any("English" in w for w in article.warnings)


def test_iter_jsonl_reports_bad_lines():
    lines = [
        json.dumps({"title": "A", "body": "Body one is here."}),
        "{not json",
        "",
        json.dumps({"title": "", "body": ""}),
    ]
    items = list(iter_jsonl(lines))
    assert [no for no, _ in items] == [1, 2, 4]
    assert not isinstance(items[0][1], ArticleError)
    assert isinstance(items[1][1], ArticleError) and "malformed" in str(items[1][1])
    assert isinstance(items[2][1], ArticleError)


def test_story_split_by_an_inline_card_is_joined():
    story = (
        "Parliament passes budget\n"
        + "The parliament passed the budget on Tuesday after a long debate among all "
        "parties in the chamber.\n"
        * 3
        + "Related coverage\nMarkets, Economy, Budget\nJane Doe | 10:15\n"
        + "The finance minister said the budget would cut the deficit by half within "
        "two years, a claim disputed by economists.\n" * 3
    )
    article = clean_text(story)
    assert article.body.count("finance minister") == 3
    assert "Jane Doe" not in article.body


# ---------------------------------------------------------------------------
# A page with no story
# ---------------------------------------------------------------------------


def test_a_page_of_furniture_has_no_story():
    with pytest.raises(NoStoryError, match="page.html: no story found"):
        parse_html(NO_STORY_HTML, "page.html")
    with pytest.raises(NoStoryError, match="no story found"):
        from_record({"html": NO_STORY_HTML}, "request")
    with pytest.raises(NoStoryError, match="no story found"):
        parse_text("Home | News\nShare on Facebook\nClick here to subscribe\n", "page.txt")
    with pytest.raises(NoStoryError):
        from_record({"body": "Share on Facebook\nFollow us on Twitter"}, "row 3")
    with pytest.raises(NoStoryError, match="empty.html: no story found"):
        parse_html("<html><body><nav></nav></body></html>", "empty.html")
    assert issubclass(NoStoryError, ArticleError)  # every reader already reports these


def test_a_record_with_a_headline_and_a_furniture_body_keeps_the_headline():
    article = from_record({"title": "Storm hits coast", "body": "Share on Facebook"})
    assert article.title == "Storm hits coast" and article.body == ""
    assert [d.text for d in article.dropped] == ["Share on Facebook"]


@pytest.mark.slow
def test_suggest_and_batch_refuse_a_page_with_no_story(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(NO_STORY_HTML)
    r = run_cli("suggest", str(page), "--model", "none", "--format", "json")
    assert r.returncode != 0
    first = r.stderr.splitlines()[0]
    assert str(page) in first and "no story found" in first, r.stderr
    assert "Traceback" not in r.stderr and "Facebook" not in r.stdout

    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "nav", "html": NO_STORY_HTML})
        + "\n"
        + json.dumps(
            {
                "id": "ok",
                "title": "Storm hits coast",
                "body": "A storm hit the coast of Portugal on Monday.",
            }
        )
        + "\n"
    )
    out = tmp_path / "out.jsonl"
    r = run_cli("batch", str(src), "--out", str(out), "--model", "none", "--no-progress")
    assert r.returncode == 0, r.stderr
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["ok"]
    rejects = [json.loads(x) for x in default_rejects_path(out).read_text().splitlines()]
    assert [(x["id"], "no story found" in x["reason"]) for x in rejects] == [("nav", True)]


def test_to_article_takes_an_article_a_text_a_dict_or_a_record():
    article = Article("Storm hits coast", "A storm hit the coast on Monday, officials said.")
    assert to_article(article) is article
    from_text = to_article("Storm hits coast\n\nA storm hit the coast on Monday, officials said.")
    assert (from_text.title, from_text.body) == (article.title, article.body)
    from_dict = to_article({"title": "Storm hits coast", "body": article.body, "id": 7}, "x.json")
    assert (from_dict.title, from_dict.id, from_dict.source) == (article.title, "7", "x.json")
    record = Record("in.jsonl", row=2, line=3, data={"title": "Storm hits coast"})
    assert to_article(record).source == "in.jsonl: line 3"


def test_to_article_errors_name_the_input():
    with pytest.raises(ArticleError, match=r"^in.jsonl: line 3: not JSON$"):
        to_article(Record("in.jsonl", row=2, line=3, error="not JSON"))
    with pytest.raises(ArticleError, match=r"^in.jsonl: line 4: empty article"):
        to_article(Record("in.jsonl", row=3, line=4, data={"title": " "}))
    with pytest.raises(ArticleError, match=r"^<text>: empty"):
        to_article("  \n")
