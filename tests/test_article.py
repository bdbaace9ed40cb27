"""The article readers and the page-furniture cleaner."""

from __future__ import annotations

import json

import pytest

from newstag.article import (
    ArticleError,
    classify_line,
    clean_text,
    from_record,
    iter_jsonl,
    parse_text,
    read_article,
)
from tests.conftest import SAMPLE


@pytest.mark.parametrize("line,kind,reason", [
    ("Gila Isaacson | 18:57", "topics", "byline"),
    ("Avi Woolf | 05.07.24", "topics", "byline"),
    ("Hamas, Israel-Gaza War, IDF", "topics", "topic list"),
    ("Tags: Russia North Korea Kim Jong Un", "topics", "tag line"),
    ("Do not send comments that include links or profanity.", "furniture", "comment form"),
    ("The comment was sent successfully", "furniture", "comment form"),
    ("Click here to subscribe", "furniture", "page prompt"),
    ("Read more: Why the talks failed", "furniture", "link prompt"),
    ("Share on Facebook", "furniture", "page prompt"),
])
def test_furniture_lines_are_recognised(line, kind, reason):
    assert classify_line(line) == (kind, reason)


@pytest.mark.parametrize("line", [
    "Kim Jong Un Will Meet Putin in Vladivostok",  # Title Case headline, not a tag line
    "Stocks fell sharply on Monday as investors worried about rising interest rates.",
])
def test_story_lines_are_kept(line):
    assert classify_line(line)[0] in ("heading", "prose")


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
    path.write_bytes("Café owners protest\n\nThe café owners of Zürich protested on "
                     "Monday against a new tax, officials said.".encode("cp1252"))
    article = read_article(path)
    assert article.title == "Café owners protest"
    assert any("not valid UTF-8" in w for w in article.warnings)


def test_non_english_text_warns():
    article = parse_text("Le président a parlé\n\nLe président de la République a annoncé "
                         "lundi une nouvelle réforme des retraites pour les travailleurs "
                         "du secteur public, selon le gouvernement.")
    assert any("English" in w for w in article.warnings)


def test_iter_jsonl_reports_bad_lines():
    lines = [json.dumps({"title": "A", "body": "Body one is here."}), "{not json", "",
             json.dumps({"title": "", "body": ""})]
    items = list(iter_jsonl(lines))
    assert [no for no, _ in items] == [1, 2, 4]
    assert not isinstance(items[0][1], ArticleError)
    assert isinstance(items[1][1], ArticleError) and "malformed" in str(items[1][1])
    assert isinstance(items[2][1], ArticleError)


def test_story_split_by_an_inline_card_is_joined():
    story = ("Parliament passes budget\n"
             + "The parliament passed the budget on Tuesday after a long debate among all "
               "parties in the chamber.\n" * 3
             + "Related coverage\nMarkets, Economy, Budget\nJane Doe | 10:15\n"
             + "The finance minister said the budget would cut the deficit by half within "
               "two years, a claim disputed by economists.\n" * 3)
    article = clean_text(story)
    assert article.body.count("finance minister") == 3
    assert "Jane Doe" not in article.body
