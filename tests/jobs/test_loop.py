"""The batch loop: a batch that breaks the tagger is tagged one by one, the bad article is
reported by its id, the others are tagged (in batch jobs, Dask partitions and the service)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from newstag.io.article import Article, from_record
from newstag.jobs.batch import default_rejects_path, run_batch
from newstag.jobs.loop import TagFailure, tag_batch, tag_rows
from tests.jobs.test_batch import FakeTagger, make_records, write_jsonl


class CountingTagger(FakeTagger):
    """FakeTagger whose whole batch fails when any title has BOOM; counts the calls."""

    def __init__(self) -> None:
        super().__init__()
        self.batches = 0
        self.singles = 0

    def suggest(self, article: Any, top_k: int = 10, min_score: float = 0.0) -> dict[str, Any]:
        self.singles += 1
        return super().suggest(article, top_k=top_k, min_score=min_score)

    def suggest_many(
        self, articles: Any, top_k: int = 10, min_score: float = 0.0, n_process: int = 1
    ) -> Any:
        self.batches += 1
        articles = list(articles)
        if any("BOOM" in a.title for a in articles):
            raise RuntimeError("the batch broke\nsecond line of the message")
        return [FakeTagger.suggest(self, a, top_k, min_score) for a in articles]


def _articles(titles: list[str]) -> list[Article]:
    return [
        from_record({"title": t, "body": f"Body of {t}."}, f"row {i}")
        for i, t in enumerate(titles, 1)
    ]


def test_a_good_batch_is_tagged_in_one_call() -> None:
    tagger = CountingTagger()
    results = tag_batch(tagger, _articles(["Harbour news today", "Market report"]), top_k=2)
    assert [r["title"] for r in results] == ["Harbour news today", "Market report"]
    assert (tagger.batches, tagger.singles) == (1, 0)


def test_a_failing_article_is_reported_in_its_place_and_the_rest_are_tagged() -> None:
    tagger = CountingTagger()
    articles = _articles(["Harbour news today", "BOOM goes the tagger", "Market report"])
    results = tag_batch(tagger, articles)
    assert isinstance(results[1], TagFailure)
    assert str(results[1]) == "RuntimeError: tagger exploded"
    assert results[0] == FakeTagger().suggest(articles[0])
    assert results[2] == FakeTagger().suggest(articles[2])
    assert tagger.batches == 1 and tagger.singles == 3


def test_tag_rows_keeps_the_id_of_the_failing_row() -> None:
    rows = list(
        zip(
            ["a1", "a2", "a3", "a4"],
            _articles(["One story", "BOOM here", "Third story", "BOOM again"]),
            strict=True,
        )
    )
    tagged = tag_rows(CountingTagger(), rows)
    assert [rid for rid, _ in tagged.results] == ["a1", "a3"]
    assert [rid for rid, _ in tagged.failures] == ["a2", "a4"]
    assert tagged.results[1][1]["title"] == "Third story"


def test_a_failure_keeps_only_the_first_line_and_survives_pickling() -> None:
    failure = TagFailure.of(ValueError("bad input\nwith a traceback-like tail"))
    back = pickle.loads(pickle.dumps(failure))
    assert str(back) == str(failure) == "ValueError: bad input"
    assert back.kind == "ValueError"


def test_an_empty_batch_calls_nothing() -> None:
    tagger = CountingTagger()
    assert tag_batch(tagger, []) == []
    assert tagger.batches == 0


def test_batch_worker_processes_report_the_failing_id(tmp_path: Path) -> None:
    records = make_records(9)
    records[4] = {"id": "boom-4", "title": "BOOM in the harbour", "body": "It broke."}
    src = write_jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / "out.jsonl"
    summary = run_batch(
        src, out, tagger_factory=FakeTagger, n_process=2, chunk_size=5, progress=False
    )
    assert (summary.tagged, summary.rejected) == (8, 1)
    rejects = [json.loads(x) for x in default_rejects_path(out).read_text().splitlines()]
    assert [(r["id"], r["row"]) for r in rejects] == [("boom-4", 5)]
    assert rejects[0]["reason"].endswith("line 5: RuntimeError: tagger exploded")
    ids = [json.loads(x)["id"] for x in out.read_text().splitlines()]
    assert ids == [r["id"] for i, r in enumerate(records) if i != 4]


def test_a_dask_partition_reports_the_failing_row_and_tags_the_rest() -> None:
    from newstag.jobs.dask import suggest_partition

    frame = pd.DataFrame(make_records(4))
    frame.loc[2, "title"] = "BOOM in the partition"
    out = suggest_partition(frame, tagger_factory=CountingTagger)
    assert out["error"].isna().tolist() == [True, True, False, True]
    assert out.loc[2, "error"] == "dask: row 2: RuntimeError: tagger exploded"
    assert out.loc[2, "id"] == "a2" and pd.isna(out.loc[2, "result"])
    assert json.loads(out.loc[3, "result"])["title"] == frame.loc[3, "title"]


@pytest.fixture
def service(tmp_path: Path) -> Any:
    from fastapi.testclient import TestClient

    from newstag.service.app import create_app
    from newstag.service.settings import Settings
    from newstag.service.testing import FakeTagger as ServiceTagger

    class Breaks(ServiceTagger):
        def suggest(self, article: Any, top_k: int = 10, min_score: float = 0.0) -> Any:
            if "BOOM" in article.title:
                raise RuntimeError("tagger exploded")
            return super().suggest(article, top_k=top_k, min_score=min_score)

    app = create_app(tagger=Breaks(), settings=Settings(feedback_db=str(tmp_path / "fb.db")))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_the_service_batch_endpoint_reports_the_failing_article_by_index(service: Any) -> None:
    stories = [
        {"title": "Leaders Meet In Geneva", "body": "They met in Geneva on Monday."},
        {"title": "BOOM Goes The Tagger", "body": "This one breaks the tagger."},
        {"title": "Second Story", "body": "Short."},
    ]
    r = service.post("/v1/suggest/batch", json={"articles": stories})
    assert r.status_code == 200, r.text
    out = r.json()
    assert [x is not None for x in out["results"]] == [True, False, True]
    assert [e["index"] for e in out["errors"]] == [1]
    assert out["errors"][0]["error"].startswith("articles[1]: could not be tagged")
    assert out["results"][2]["title"] == "Second Story"
