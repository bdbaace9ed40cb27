"""The embedded NER (``src/newstag/data/ner``): shipped, the default, and cached by fingerprint."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from newstag.io.article import Article
from newstag.nlp.cache import cache_key
from newstag.nlp.entities import EntityExtractor
from newstag.nlp.pipeline import (
    DEFAULT_PIPELINE,
    EMBEDDED_NER_DIR,
    SMALL_PIPELINE,
    load_pipeline,
    pipeline_fingerprint,
    resolve_pipeline_name,
)

RESULTS = (
    "GOLF - ZIMBABWE OPEN SCORES\nHARARE 1996-12-07\nLeading scores after the second "
    "round of the Zimbabwe Open:\n132 Mark McNulty (Zimbabwe) 72 60\n135 Nick Price "
    "(Zimbabwe) 68 67, Justin Hobday (South Africa) 71 64\n"
)


def names(extractor: EntityExtractor, text: str, kind: str) -> set[str]:
    """Names of one type in ``text`` (first line the headline; NER only, no page cleaning)."""
    title, _, body = text.partition("\n")
    return {e.name for e in extractor.extract(Article(title, body)) if e.type == kind}


def test_the_embedded_ner_is_the_default_and_small_enough(monkeypatch):
    monkeypatch.delenv("NEWSTAG_PIPELINE", raising=False)
    assert resolve_pipeline_name() == DEFAULT_PIPELINE
    size = sum(p.stat().st_size for p in EMBEDDED_NER_DIR.rglob("*") if p.is_file())
    assert size < 10_000_000
    nlp = load_pipeline(DEFAULT_PIPELINE)
    assert nlp.pipe_names == ["ner"]
    assert {"PERSON", "GPE", "LOC", "ORG", "NORP", "DATE"} <= set(nlp.get_pipe("ner").labels)


def test_results_tables_and_caps_headlines_give_people_and_places():
    found = EntityExtractor(DEFAULT_PIPELINE)
    people = names(found, RESULTS, "person")
    assert {"Mark McNulty", "Nick Price", "Justin Hobday"} <= people
    assert {"Zimbabwe", "South Africa"} <= names(found, RESULTS, "place")
    assert {"Japan", "China"} <= names(
        found,
        "SOCCER - JAPAN GET LUCKY WIN, CHINA IN SURPRISE DEFEAT\nAL-AIN, United Arab "
        "Emirates 1996-12-06\nJapan began the defence of their title with a win.",
        "place",
    )


def test_the_plain_small_pipeline_stays_available():
    nlp = load_pipeline(SMALL_PIPELINE)
    assert "ner" in nlp.pipe_names
    article = Article(title="Putin meets Kim", body="Vladimir Putin met Kim Jong Un in Moscow.")
    assert "Vladimir Putin" in {e.name for e in EntityExtractor(SMALL_PIPELINE).extract(article)}


def test_fingerprint_follows_the_files(tmp_path):
    embedded = pipeline_fingerprint(DEFAULT_PIPELINE)
    assert embedded.startswith("newstag_ner@")
    assert embedded != pipeline_fingerprint(SMALL_PIPELINE)
    copy = tmp_path / "ner"
    shutil.copytree(EMBEDDED_NER_DIR, copy)
    assert pipeline_fingerprint(str(copy)).split("@")[1] == embedded.split("@")[1]
    meta = json.loads((copy / "meta.json").read_text())
    (copy / "meta.json").write_text(json.dumps({**meta, "version": "9.9.9"}))
    pipeline_fingerprint.cache_clear()
    assert pipeline_fingerprint(str(copy)).split("@")[1] != embedded.split("@")[1]
    pipeline_fingerprint.cache_clear()


def test_the_entity_cache_never_mixes_pipelines(tmp_path, monkeypatch):
    from newstag.nlp.cache import extract_entities

    monkeypatch.setenv("NEWSTAG_CACHE_DIR", str(tmp_path))
    articles = [Article("Putin meets Kim", "Vladimir Putin met Kim Jong Un in Moscow.")]
    extract_entities(articles, DEFAULT_PIPELINE)
    extract_entities(articles, SMALL_PIPELINE)
    with sqlite3.connect(tmp_path / "entities.sqlite3") as db:
        keys = {row[0] for row in db.execute("SELECT DISTINCT pipeline FROM ents")}
    assert keys == {cache_key(DEFAULT_PIPELINE), cache_key(SMALL_PIPELINE)}
    assert all(key.endswith("|v1") for key in keys)


def test_cli_entities_uses_the_embedded_ner_by_default(cli, tmp_path):
    page = tmp_path / "results.txt"
    page.write_text(
        "TENNIS - KREMLIN CUP RESULTS\nSeeded players fell on Tuesday in Moscow. "
        "Kafelnikov beat Ivanisevic and Becker lost to Rafter.\n",
        encoding="utf-8",
    )
    env = {"NEWSTAG_PIPELINE": ""}
    default = json.loads(cli("entities", str(page), "--format", "json", env=env).stdout)
    small = json.loads(
        cli("entities", str(page), "--format", "json", "--pipeline", SMALL_PIPELINE, env=env).stdout
    )
    people = {e["name"] for e in default["entities"] if e["type"] == "person"}
    assert {"Kafelnikov", "Ivanisevic", "Becker", "Rafter"} <= people
    assert people != {e["name"] for e in small["entities"] if e["type"] == "person"}


def test_cli_reports_an_unknown_pipeline_in_one_line(cli, tmp_path):
    page = tmp_path / "a.txt"
    page.write_text("Putin meets Kim\nVladimir Putin met Kim Jong Un.", encoding="utf-8")
    proc = cli("entities", str(page), "--pipeline", "no_such_pipeline")
    assert proc.returncode != 0
    assert "no_such_pipeline" in proc.stderr and "Traceback" not in proc.stderr


def test_conll_dev_people_and_places():
    """Document-level PER+LOC F1 on the first 60 CoNLL dev stories (see benchmarks/entities.py)."""
    from tests.conftest import shared_or_skip

    path = shared_or_skip("conll2003", "eng.testa.gz")
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_entities", Path(__file__).resolve().parents[2] / "benchmarks" / "entities.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    from newstag.nlp import gazetteer

    stories = bench.read_conll(path)[:60]
    articles = [bench.story_article(s) for s in stories]
    gold = [bench.gold_sets(s) for s in stories]
    found = bench.newstag_sets(EntityExtractor(DEFAULT_PIPELINE), articles, gazetteer.load())
    assert bench.set_scores(gold, found)["PER+LOC"]["f1"] >= 0.85


def test_the_shipped_model_extracts_with_the_embedded_ner(monkeypatch):
    from newstag.paths import default_model_dir
    from newstag.tagging import ModelError
    from newstag.tagging.tagger import Tagger

    if not (default_model_dir() / "manifest.json").exists():
        pytest.skip("no shipped models/default bundle")
    monkeypatch.delenv("NEWSTAG_PIPELINE", raising=False)
    assert Tagger.load("default").extractor.pipeline_name == DEFAULT_PIPELINE
    small = Tagger.load("default", pipeline=SMALL_PIPELINE)
    assert small.extractor.pipeline_name == SMALL_PIPELINE
    with pytest.raises(ModelError):
        Tagger.load("default", pipeline="another_pipeline")
