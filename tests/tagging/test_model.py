"""End to end with spaCy: train on the sample corpus, suggest through the Tagger, cache reuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from newstag.io.corpus import load_corpus
from newstag.paths import REPO_ROOT, default_model_dir

SAMPLE = REPO_ROOT / "data" / "sample" / "corpus.jsonl"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import os

    from newstag.tagging.train import train_model

    tmp = tmp_path_factory.mktemp("model")
    old = os.environ.get("NEWSTAG_CACHE_DIR")
    os.environ["NEWSTAG_CACHE_DIR"] = str(tmp / "cache")
    try:
        records, _ = load_corpus(SAMPLE)
        train_model(records, out=tmp / "bundle", folds=3)
    finally:
        if old is None:
            os.environ.pop("NEWSTAG_CACHE_DIR")
        else:
            os.environ["NEWSTAG_CACHE_DIR"] = old
    return tmp / "bundle"


def test_tagger_uses_the_bundle(bundle: Path) -> None:
    from newstag.tagging.tagger import Tagger

    tagger = Tagger.load(model=str(bundle))
    assert tagger.mode == "model"
    text = (
        "Maria Lopez wins support for budget plan in Madrid\n\n"
        "Maria Lopez secured the backing of the parliament in Madrid on Tuesday. "
        "Lopez said the budget would cut taxes for families across Spain."
    )
    result = tagger.suggest(text)
    tags = {t["tag"]: t for t in result["tags"]}
    assert "Maria Lopez" in tags and "Spain" in tags
    for tag in result["tags"]:
        assert tag["type"] in ("person", "place", "organisation", "topic")
        assert tag["source"] in ("entity", "classifier", "classifier+entity")
        assert tag["evidence"]
        for ev in tag["evidence"]:
            if ev["kind"] == "mention":
                assert text[ev["start"] : ev["end"]] == ev["text"]
            else:
                assert ev["kind"] == "term" and ev["weight"] > 0


def test_new_person_gets_a_new_tag_or_none(bundle: Path) -> None:
    from newstag.tagging import load_model

    model = load_model(bundle)
    ranked = model.rank_batch(
        ["Oskar Holm takes the title in Prague final\n\nOskar Holm won the final in Prague."],
        [
            [
                {
                    "name": "Oskar Holm",
                    "type": "person",
                    "salience": 0.9,
                    "count": 2,
                    "in_headline": True,
                    "in_lead": True,
                    "country": None,
                    "aliases": ["Oskar Holm"],
                    "mentions": [["Oskar Holm", 0, 10]],
                }
            ]
        ],
    )[0]
    new = [c for c in ranked if c["new"]]
    assert [c["tag"] for c in new] == ["Oskar Holm"]


def test_entity_cache_is_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from newstag.nlp import cache

    monkeypatch.setenv("NEWSTAG_CACHE_DIR", str(tmp_path))
    records, _ = load_corpus(SAMPLE)
    first = cache.extract_entities(records[:5])
    calls: list[int] = []

    class Boom:
        def __init__(self, *a: object) -> None:
            self.pipeline_name = "newstag_ner"

        def extract_many(self, *a: object, **k: object) -> None:
            calls.append(1)
            raise AssertionError("spaCy should not run on cached texts")

    monkeypatch.setattr("newstag.nlp.entities.EntityExtractor", Boom)
    again = cache.extract_entities(records[:5])
    assert again == first and not calls
    monkeypatch.setenv("NEWSTAG_CACHE_DIR", "off")
    with pytest.raises(AssertionError):
        cache.extract_entities(records[:1])


@pytest.mark.skipif(
    not (default_model_dir() / "manifest.json").exists(), reason="no shipped models/default bundle"
)
def test_default_bundle_loads_and_verifies() -> None:
    from newstag.tagging import load_model

    model = load_model(default_model_dir())
    assert model.manifest_["pipeline"] == "newstag_ner"  # retrained with the embedded NER
    assert len(model.labels) > 100
    size = sum(f.stat().st_size for f in default_model_dir().iterdir())
    assert size < 60_000_000
