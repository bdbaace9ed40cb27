"""Page cleaning: line classification, and the story, headline and dropped lines of a page."""

from __future__ import annotations

import pytest

from newstag.io.cleaning import (
    DATA,
    FURNITURE,
    HEADING,
    PROSE,
    classify_line,
    clean_page,
    furniture_summary,
    has_story,
    numbered_lines,
)


@pytest.mark.parametrize(
    "line,kind,reason",
    [
        ("Gila Isaacson | 18:57", "topics", "byline"),
        ("Avi Woolf | 05.07.24", "topics", "byline"),
        ("Hamas, Israel-Gaza War, IDF", "topics", "topic list"),
        ("Tags: Russia North Korea Kim Jong Un", "topics", "tag line"),
        ("Do not send comments that include links or profanity.", "furniture", "comment form"),
        ("The comment was sent successfully", "furniture", "comment form"),
        ("Click here to subscribe", "furniture", "page prompt"),
        ("Read more: Why the talks failed", "furniture", "link prompt"),
        ("Share on Facebook", "furniture", "page prompt"),
        # prompts of any length
        ("Click here to subscribe to our newsletter", "furniture", "page prompt"),
        (
            "Click here to subscribe to our newsletter for the latest news from Asia and the rest "
            "of the world, delivered every morning.",
            "furniture",
            "page prompt",
        ),
        (
            "Sign up for our free daily briefing and get the day's top stories in your inbox.",
            "furniture",
            "page prompt",
        ),
        (
            "Follow us on Twitter and Instagram for live updates from the summit",
            "furniture",
            "page prompt",
        ),
        (
            "Share this article with your friends and family on social media",
            "furniture",
            "page prompt",
        ),
    ],
)
def test_furniture_lines_are_recognised(line, kind, reason):
    assert classify_line(line) == (kind, reason)


@pytest.mark.parametrize(
    "line",
    [
        "Kim Jong Un Will Meet Putin in Vladivostok",  # Title Case headline, not a tag line
        "Stocks fell sharply on Monday as investors worried about rising interest rates.",
        # words that open prompts also open real sentences
        "Facebook said on Monday it would block news links in Canada from next month.",
        "Home prices rose 5 percent in March from a year earlier, the data showed.",
        "Subscribers to the service will pay more from January, the company said.",
        "Shares of the carmaker fell 4 percent on Monday after deliveries slowed.",
        "Watchdogs in Brussels opened an inquiry into the merger on Tuesday.",
    ],
)
def test_story_lines_are_kept(line):
    assert classify_line(line)[0] in ("heading", "prose")


def _page(text: str, has_headline: bool = True):
    lines = numbered_lines(text)
    return clean_page(lines, [classify_line(ln) for _, ln in lines], has_headline=has_headline)


STORY = (
    "Home | World | Sport\n"
    "Storm Hits Coast\n"
    "A storm hit the coast on Monday, cutting power to thousands of homes, officials said.\n"
    "Rescue teams reached the worst hit villages by boat on Tuesday morning, they said.\n"
    "Share on Facebook\n"
)


def test_numbered_lines_skip_blank_lines_and_keep_numbers():
    assert numbered_lines("  One  \n\n\tTwo\n") == [(1, "One"), (3, "Two")]


def test_clean_page_finds_headline_story_and_dropped_lines():
    page = _page(STORY)
    assert page.title == "Storm Hits Coast"
    assert page.body.startswith("A storm hit") and page.body.endswith(
        "by boat on Tuesday morning, they said."
    )
    assert [(d.line, d.reason) for d in page.dropped] == [(1, "page prompt"), (5, "page prompt")]


def test_a_title_case_headline_without_function_words_is_no_tag_line():
    headline = "Rishi Sunak Calls Early General Election"
    story = "British Prime Minister Rishi Sunak on Wednesday called a general election for July 4."
    assert classify_line(headline)[1] == "tag line"  # alone it reads as site tags
    page = _page(f"{headline}\n{story}\nPolitics Elections Rishi Sunak Keir Starmer Labour")
    assert page.title == headline and page.body == story
    assert [d.reason for d in page.dropped] == ["tag line"]  # the tags after the story go
    headline = "Sudan Blocks Migrants’ Path, Aiding Europe"
    assert classify_line(headline)[1] == "topic list"
    assert _page(f"{headline}\n{story}").title == headline


def test_without_a_headline_every_story_line_stays_in_the_body():
    page = _page(STORY, has_headline=False)
    assert page.title == "" and page.body.startswith("Storm Hits Coast\n\nA storm hit")


def test_a_page_of_furniture_has_no_story_and_says_what_it_holds():
    kinds = [classify_line(ln) for ln in ("Share on Facebook", "Hamas, Israel-Gaza War, IDF")]
    assert not has_story(kinds)
    assert furniture_summary(kinds) == "2 lines: page prompt, topic list"
    assert has_story([(FURNITURE, "page prompt"), (PROSE, "")])
    assert has_story([(DATA, "table row")]) and has_story([(HEADING, "")])
