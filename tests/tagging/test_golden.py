"""Golden tests on the sample pages: the expected top tags, and no page furniture."""

from __future__ import annotations

import pytest

from newstag.io.article import read_article
from newstag.tagging.tagger import Tagger
from tests.conftest import SAMPLE

FURNITURE = {  # names that appear only in each page's sidebars, tag lines and comment boxes
    "kim-putin-summit.txt": {
        "Netanyahu",
        "Benjamin Netanyahu",
        "Hamas",
        "Joe Biden",
        "Emmanuel Macron",
        "Tel Aviv",
        "Recep Tayyip Erdogan",
        "Toyota",
        "Elon Musk",
        "Tesla",
        "Pope Francis",
        "Gila Isaacson",
        "Avi Woolf",
        "Marseille",
        "Alberta",
        "Canada",
        "Mexico",
        "Iran",
        "Sudan",
    },
    "gaza-aid-convoy.txt": {
        "Olaf Scholz",
        "Apple",
        "Lula",
        "Brazil",
        "India",
        "Bavaria",
        "Germany",
        "Shira Navon",
        "Ruth Klein",
    },
    "eu-energy-summit.html": {
        "Cristiano Ronaldo",
        "Ronaldo",
        "Justin Trudeau",
        "Trudeau",
        "Nvidia",
        "Portugal",
        "Spain",
        "Canada",
        "Daily Ledger",
    },
}


@pytest.fixture(scope="module")
def tagger():
    return Tagger.load("none")


@pytest.mark.parametrize(
    "name,expected_top",
    [
        ("kim-putin-summit.txt", {"Kim Jong Un", "Vladimir Putin", "North Korea", "Russia"}),
        ("gaza-aid-convoy.txt", {"Gaza", "United Nations", "Israel"}),
        ("eu-energy-summit.html", {"European Union", "Germany"}),
        ("wildfire.json", {"Greece", "Kyriakos Mitsotakis"}),
    ],
)
def test_entity_mode_top_tags(tagger, name, expected_top):
    result = tagger.suggest(read_article(SAMPLE / name), top_k=len(expected_top) + 1)
    top = {t["tag"] for t in result["tags"]}
    assert expected_top <= top, top


def test_leaders_meeting_top_four_are_the_leaders_and_countries(tagger):
    result = tagger.suggest(read_article(SAMPLE / "kim-putin-summit.txt"), top_k=4)
    assert {t["tag"] for t in result["tags"]} == {
        "Kim Jong Un",
        "Vladimir Putin",
        "North Korea",
        "Russia",
    }
    assert [t["type"] for t in result["tags"][:2]] == ["person", "person"]


@pytest.mark.parametrize("name", sorted(FURNITURE))
def test_no_furniture_entity_or_tag(tagger, name):
    result = tagger.suggest(read_article(SAMPLE / name), top_k=50)
    names = {e["name"] for e in result["entities"]} | {t["tag"] for t in result["tags"]}
    assert not names & FURNITURE[name], names & FURNITURE[name]


def test_suggestions_follow_the_contract(tagger):
    result = tagger.suggest(read_article(SAMPLE / "kim-putin-summit.txt"))
    assert set(result) >= {"tags", "entities"}
    for tag in result["tags"]:
        assert set(tag) >= {"tag", "type", "score", "source", "evidence"}
        assert tag["type"] in {"person", "place", "organisation", "topic"}
        assert 0.0 <= tag["score"] <= 1.0
        assert tag["evidence"] and all(e["kind"] == "mention" for e in tag["evidence"])
    scores = [t["score"] for t in result["tags"]]
    assert scores == sorted(scores, reverse=True)


@pytest.fixture(scope="module")
def shipped():
    from newstag.paths import default_model_dir

    if not (default_model_dir() / "manifest.json").exists():
        pytest.skip("the shipped model is not installed")
    return Tagger.load("default")


def test_shipped_model_leaders_summit_top_four_and_no_wrong_identity(shipped):
    result = shipped.suggest(read_article(SAMPLE / "kim-putin-summit.txt"), top_k=10)
    tags = result["tags"]
    assert {t["tag"] for t in tags[:4]} == {
        "Vladimir Putin",
        "North Korea",
        "Kim Jong Un",
        "Russia",
    }, [t["tag"] for t in tags]
    assert {t["type"] for t in tags[:4] if t["tag"] in ("Vladimir Putin", "Kim Jong Un")} == {
        "person"
    }
    names = {t["tag"] for t in tags} | {t.get("model_tag") for t in tags}
    assert not names & {"Kim Jong-il", "Kim Jong Il"}, names
