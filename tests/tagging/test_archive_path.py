"""A model trained on a newsroom's own archive, through the public path (``newstag train``
then ``newstag suggest`` / ``newstag eval`` as subprocesses): the story's entities join the
model's tags as the archive's kinds of tag allow (:func:`newstag.tagging.archive.type_shares`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from newstag.tagging import load_model
from newstag.tagging.archive import (
    fill_to_typical,
    is_code,
    makes_new_tags,
    place_kind,
    type_shares,
    typical_tags,
)
from newstag.tagging.assemble import Draft, _keep
from newstag.tagging.identity import surname_draft, surname_key, surname_only
from tests.conftest import SAMPLE, run_cli

pytestmark = pytest.mark.slow

CORPUS = SAMPLE / "corpus.jsonl"
TOPICS = {"Economy", "Politics", "Sport", "Weather"}
STORY = {
    "title": "Harriet Vance wins support for budget plan in Lisbon",
    "body": "Harriet Vance secured the backing of the parliament in Lisbon on Tuesday. Vance "
    "said the budget would cut taxes for families across Portugal. Opposition leaders in "
    "Portugal called the vote rushed and promised to challenge the plan.",
    "date": "2024-03-05",
}


def _env(cache: Path) -> dict[str, str]:
    return {"NEWSTAG_CACHE_DIR": str(cache), "OMP_NUM_THREADS": "1"}


def _train(corpus: Path, out: Path, cache: Path) -> Path:
    proc = run_cli("train", str(corpus), "--out", str(out), "--folds", "3", env=_env(cache))
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two archives of the same stories: tagged with people, places and topics (the sample
    corpus), and tagged with topics only."""
    tmp = tmp_path_factory.mktemp("archive")
    cache = tmp / "cache"
    rows = [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]
    topics = tmp / "topics.jsonl"
    topics.write_text(
        "\n".join(
            json.dumps({**r, "tags": [t for t in r["tags"] if t in TOPICS]})
            for r in rows
            if set(r["tags"]) & TOPICS
        )
        + "\n"
    )
    codes = tmp / "codes.jsonl"  # the same archive with Reuters-style codes: "czech-republic"
    codes.write_text(
        "\n".join(
            json.dumps({**r, "tags": [t.lower().replace(" ", "-") for t in r["tags"]]})
            for r in rows
        )
        + "\n"
    )
    return {
        "full": _train(CORPUS, tmp / "full", cache),
        "topics": _train(topics, tmp / "topics", cache),
        "codes": _train(codes, tmp / "codes", cache),
        "cache": cache,
    }


def _suggest(model: Path, cache: Path, tmp_path: Path, whole: bool = False) -> Any:
    """``newstag suggest STORY --model MODEL -f json``: the tags (or the whole result)."""
    story = tmp_path / "story.json"
    story.write_text(json.dumps(STORY))
    proc = run_cli("suggest", str(story), "--model", str(model), "-f", "json", env=_env(cache))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    return result if whole else result["tags"]


def test_type_shares_are_the_vocabulary_s_uses(models):
    full, topics = load_model(models["full"]), load_model(models["topics"])
    shares = type_shares(full)
    assert shares["person"] == pytest.approx(30 / 98)  # 6 people x 5 uses of 98 tag uses
    assert sum(shares.values()) == pytest.approx(1.0)
    assert makes_new_tags(full, "person") and makes_new_tags(full, "place")
    assert type_shares(topics).get("person", 0.0) == 0.0
    assert not makes_new_tags(topics, "person") and not makes_new_tags(topics, "place")
    assert makes_new_tags(None, "place")  # entity-only mode: entities are the tags


def test_an_archive_of_people_and_places_gets_new_ones(models, tmp_path):
    tags = _suggest(models["full"], models["cache"], tmp_path)
    new = {t["tag"]: t for t in tags if t.get("new")}
    assert "Harriet Vance" in new and new["Harriet Vance"]["type"] == "person"
    assert "Portugal" in {t["tag"] for t in tags}
    assert "Politics" in {t["tag"] for t in tags}


def test_an_archive_tagged_by_topic_gets_no_entity_tags(models, tmp_path):
    result = _suggest(models["topics"], models["cache"], tmp_path, whole=True)
    entities = {e["name"] for e in result["entities"]}
    assert {"Harriet Vance", "Portugal"} <= entities  # the story's salient entities ...
    assert {t["tag"] for t in result["tags"]} <= TOPICS  # ... are no tags of this archive
    assert not any(t.get("new") for t in result["tags"])


def test_an_archive_of_codes_keeps_its_codes(models, tmp_path):
    tags = {t["tag"] for t in _suggest(models["codes"], models["cache"], tmp_path)}
    assert "portugal" not in tags  # unknown to the archive: no code to give it
    story = {**STORY, "title": STORY["title"].replace("Lisbon", "Madrid")}
    madrid = tmp_path / "madrid.json"
    madrid.write_text(json.dumps({**story, "body": story["body"].replace("Portugal", "Spain")}))
    proc = run_cli(
        "suggest",
        str(madrid),
        "--model",
        str(models["codes"]),
        "-f",
        "json",
        env=_env(models["cache"]),
    )
    assert proc.returncode == 0, proc.stderr
    shown = {t["tag"] for t in json.loads(proc.stdout)["tags"]}
    assert "spain" in shown and "Spain" not in shown  # the archive's code, not the story's


def test_codes_and_surnames():
    assert is_code("west-germany") and is_code("usa") and not is_code("Kim Jong-un")
    assert surname_key("Trump, Donald J") == "trump" == surname_key("Donald Trump")
    assert surname_key("conable") == "conable"
    trump = {"name": "Trump", "type": "person"}
    assert surname_only("Trump, Donald J", [trump]) is trump
    donald = {"name": "Donald Trump Jr", "type": "person"}
    assert surname_only("Trump, Donald J", [trump, {"name": "Ivanka Trump"}]) is None
    assert surname_only("Trump, Donald J", [donald]) is None


def test_a_surname_joins_the_model_s_confident_person_only():
    drafts = {
        "Trump, Donald J": Draft("Trump, Donald J", "person", p=0.9),
        "Trump, Melania": Draft("Trump, Melania", "person", p=0.1),
        "conable": Draft("conable", "person", p=0.8),
    }
    assert surname_draft({"name": "Trump", "type": "person"}, drafts, 0.4) == "Trump, Donald J"
    assert surname_draft({"name": "Trump", "type": "person"}, drafts, 0.05) is None  # two
    assert surname_draft({"name": "Barber Conable", "type": "person"}, drafts, 0.4) == "conable"
    assert surname_draft({"name": "Melania Trump", "type": "person"}, drafts, 0.4) is None
    assert surname_draft({"name": "Trump", "type": "place"}, drafts, 0.4) is None


def test_place_kinds():
    assert place_kind("France") == "place" and place_kind("west-germany") == "place"
    assert place_kind("Lyon") == "locality" and place_kind("Atlanta, Georgia") == "locality"


def test_a_selective_archive_s_known_tag_scored_low_needs_the_mean_to_reach_the_threshold():
    low = Draft("usa", "place", p=0.05, e=0.3, mentioned=True)
    high = Draft("argentina", "place", p=0.5, e=0.6, mentioned=True)
    new = Draft("Lusaka", "place", e=0.3, mentioned=True, new=True)
    assert _keep(low, 0.4)  # people and places always compete ...
    assert not _keep(low, 0.4, selective=True)  # ... unless the archive tags the main one
    assert _keep(high, 0.4, selective=True) and _keep(new, 0.4, selective=True)
    assert _keep(Draft("usa", "place", p=0.3, e=0.6, mentioned=True), 0.4, selective=True)


def test_fill_adds_the_model_s_next_tags_up_to_the_archive_s_typical_count(models):
    model = load_model(models["full"])
    assert typical_tags(model) == 3  # 98 tag uses on 34 articles
    shown = [Draft("a", "topic", p=0.9)]
    near = Draft("b", "topic", p=0.3)
    far = Draft("c", "topic", p=0.1)
    drafts = {d.tag: d for d in (*shown, near, far, Draft("d", "person", e=0.5, new=True))}
    assert fill_to_typical(shown, drafts, 3, threshold=0.4, min_score=0.0) == [
        near
    ]  # c: below half
    assert fill_to_typical(shown * 3, drafts, 3, threshold=0.4, min_score=0.0) == []
