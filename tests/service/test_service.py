"""HTTP contract of the service, with a light fake tagger (no spaCy): fast."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from newstag.service.app import create_app
from newstag.service.settings import Settings
from newstag.service.testing import FakeTagger

STORY = {
    "title": "Leaders Meet In Geneva",
    "body": "The leaders of France and Germany met in Geneva on Monday to talk about trade "
    "and energy prices, officials said after the meeting ended.",
}


def make_client(
    tmp_path: Path, tagger: Any = None, index: Any = None, **settings: Any
) -> TestClient:
    settings.setdefault("feedback_db", str(tmp_path / "fb.sqlite3"))
    app = create_app(tagger=tagger or FakeTagger(), index=index, settings=Settings(**settings))
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(tmp_path: Path) -> Any:
    with make_client(tmp_path) as c:
        yield c


def test_suggest_returns_the_tagger_contract(client: TestClient) -> None:
    r = client.post("/v1/suggest", json={**STORY, "top_k": 2})
    assert r.status_code == 200
    out = r.json()
    assert set(out) >= {"tags", "entities", "title", "warnings"}
    assert out["title"] == STORY["title"]
    assert len(out["tags"]) == 2
    assert out["tags"][0]["tag"] == "Leaders Meet In Geneva"


def test_suggest_html_page(client: TestClient) -> None:
    para = (
        "<p>The leaders of France and Germany met in Geneva on Monday to talk about trade "
        "and energy prices, officials said after a long meeting in the city.</p>"
    )
    html = (
        f"<html><head><title>Geneva Talks</title></head><body><article><h1>Geneva Talks</h1>"
        f"{para * 4}</article></body></html>"
    )
    r = client.post("/v1/suggest", json={"html": html})
    assert r.status_code == 200, r.text
    assert "Geneva" in r.json()["title"]


@pytest.mark.parametrize(
    "body,status,needle",
    [
        ({"title": 5}, 422, "title"),
        ({**STORY, "colour": "red"}, 422, "colour"),
        ({}, 422, "empty article"),
        ({"title": "   ", "body": ""}, 422, "empty article"),
        ({**STORY, "top_k": 0}, 422, "top_k"),
        ({**STORY, "top_k": "5"}, 422, "top_k"),
        ({**STORY, "min_score": 2}, 422, "min_score"),
        ([1, 2], 422, "JSON object"),
    ],
)
def test_suggest_rejects_bad_input_with_json_4xx(
    client: TestClient, body: Any, status: int, needle: str
) -> None:
    r = client.post("/v1/suggest", json=body)
    assert r.status_code == status
    assert needle in r.json()["error"]


@pytest.mark.parametrize(
    "raw,ctype,status",
    [
        (b"", "application/json", 422),
        (b"{", "application/json", 400),
        (b"\xff\xfe\x00\x01garbage\x80", "application/json", 400),
        (b'{"title": "x"', "application/json", 400),
        (b'{"title": "A headline"}', "text/plain", 415),
    ],
)
def test_malformed_bodies(client: TestClient, raw: bytes, ctype: str, status: int) -> None:
    r = client.post("/v1/suggest", content=raw, headers={"content-type": ctype})
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"]


def test_non_english_is_422_unless_allowed(tmp_path: Path) -> None:
    spanish = {
        "title": "El gobierno de España",
        "body": "El presidente del gobierno se reunió "
        "con los líderes de la Unión Europea para hablar de la economía y de la guerra.",
    }
    with make_client(tmp_path) as c:
        r = c.post("/v1/suggest", json=spanish)
        assert r.status_code == 422 and "English" in r.json()["error"]
    with make_client(tmp_path, allow_non_english=True) as c:
        r = c.post("/v1/suggest", json=spanish)
        assert r.status_code == 200
        assert any("English" in w for w in r.json()["warnings"])


def test_batch_answers_good_items_and_reports_bad_ones_by_index(client: TestClient) -> None:
    r = client.post(
        "/v1/suggest/batch",
        json={
            "articles": [
                STORY,
                {"title": 7},
                "not an object",
                {"title": "Second Story", "body": "Short."},
                {},
            ]
        },
    )
    assert r.status_code == 200
    out = r.json()
    assert [x is not None for x in out["results"]] == [True, False, False, True, False]
    assert [e["index"] for e in out["errors"]] == [1, 2, 4]
    assert all(e["error"].startswith(f"articles[{e['index']}]") for e in out["errors"])
    assert out["results"][3]["title"] == "Second Story"


def test_batch_limits(client: TestClient) -> None:
    assert client.post("/v1/suggest/batch", json={"articles": [STORY] * 65}).status_code == 422
    assert client.post("/v1/suggest/batch", json={"articles": []}).status_code == 422
    r = client.post("/v1/suggest/batch", json={"articles": [{"x": 1}, {}]})
    assert r.status_code == 422 and len(r.json()["detail"]) == 2


def test_entities(client: TestClient) -> None:
    r = client.post("/v1/entities", json=STORY)
    assert r.status_code == 200
    names = [e["name"] for e in r.json()["entities"]]
    assert "France" in names and "Geneva" in names


class FakeIndex:
    def query(self, text: str, k: int = 10, min_score: float | None = None) -> list[dict[str, Any]]:
        if "boom" in text:
            raise ValueError("cannot answer that")
        hits = [
            {"id": str(i), "headline": f"{text[:10]} {i}", "score": 1 / (i + 1)} for i in range(k)
        ]
        return [h for h in hits if min_score is None or h["score"] >= min_score]


def test_related_404_without_index_and_results_with_one(tmp_path: Path) -> None:
    with make_client(tmp_path) as c:
        r = c.post("/v1/related", json={"text": "Geneva talks"})
        assert r.status_code == 404 and "index" in r.json()["error"]
    with make_client(tmp_path, index=FakeIndex()) as c:
        r = c.post("/v1/related", json={"title": "Geneva talks", "k": 3})
        assert r.status_code == 200 and len(r.json()["results"]) == 3
        assert c.post("/v1/related", json={"k": 3}).status_code == 422
        assert c.post("/v1/related", json={"text": "boom"}).status_code == 422
        r = c.post("/v1/related", json={"text": "Geneva talks", "k": 5, "min_score": 0.3})
        assert r.status_code == 200 and len(r.json()["results"]) == 3  # 1, 1/2, 1/3
        r = c.post("/v1/related", json={"text": "Geneva talks", "min_score": 2})
        assert r.status_code == 422 and "min_score" in r.text


def test_feedback_is_stored(tmp_path: Path) -> None:
    db = tmp_path / "fb.sqlite3"
    with make_client(tmp_path, feedback_db=str(db)) as c:
        r = c.post(
            "/v1/feedback",
            json={
                "article_id": "a1",
                "suggested": ["France", "Geneva"],
                "accepted": ["France"],
                "rejected": ["Geneva"],
                "added": ["Energy"],
                **STORY,
            },
        )
        assert r.status_code == 201
        row_id = r.json()["id"]
        assert c.post("/v1/feedback", json={"accepted": ["x"]}).status_code == 422
        assert c.post("/v1/feedback", json={"article_id": ""}).status_code == 422
        for silent in (
            {"article_id": "x"},
            {"article_id": "x", "title": "T", "body": "B"},
            {"article_id": "x", "suggested": [], "accepted": ["", "  "]},
        ):
            r = c.post("/v1/feedback", json=silent)
            assert r.status_code == 422, r.text
            assert r.json()["error"] == (
                "invalid request: feedback names no tag: give at least "
                "one of suggested, accepted, rejected or added"
            )
        assert (
            c.post("/v1/feedback", json={"article_id": "a2", "accepted": "France"}).status_code
            == 422
        )
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT id, article_id, accepted, added FROM feedback").fetchall()
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert rows == [(row_id, "a1", '["France"]', '["Energy"]')]
    assert mode == "wal"


def test_feedback_store_failure_is_reported_not_hidden(tmp_path: Path) -> None:
    with make_client(tmp_path, feedback_db=str(tmp_path / "missing" / "fb.db")) as c:
        r = c.post("/v1/feedback", json={"article_id": "a1", "accepted": ["France"]})
        assert r.status_code == 503 and "NOT stored" in r.json()["error"]


def test_api_keys(tmp_path: Path) -> None:
    with make_client(tmp_path, api_keys=frozenset({"k1", "k2"})) as c:
        r = c.post("/v1/suggest", json=STORY)
        assert r.status_code == 401 and "API key" in r.json()["error"]
        assert c.post("/v1/suggest", json=STORY, headers={"X-API-Key": "bad"}).status_code == 401
        assert c.post("/v1/suggest", json=STORY, headers={"X-API-Key": "k2"}).status_code == 200
        ok = c.post("/v1/suggest", json=STORY, headers={"Authorization": "Bearer k1"})
        assert ok.status_code == 200
        assert c.get("/healthz").status_code == 200  # probes need no key
        assert c.get("/metrics").status_code == 200


def test_cors(tmp_path: Path) -> None:
    with make_client(
        tmp_path, cors_origins=["https://cms.example.org"], api_keys=frozenset({"k"})
    ) as c:
        r = c.options(
            "/v1/suggest",
            headers={
                "Origin": "https://cms.example.org",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "X-API-Key",
            },
        )
        assert r.status_code == 200
        assert r.headers.get("access-control-allow-origin") == "https://cms.example.org"
        r = c.post("/v1/suggest", json=STORY, headers={"Origin": "https://cms.example.org"})
        assert r.status_code == 401  # the browser can read the error
        assert r.headers.get("access-control-allow-origin") == "https://cms.example.org"
        r = c.post(
            "/v1/suggest", json=STORY, headers={"Origin": "https://evil.example", "X-API-Key": "k"}
        )
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


def test_body_cap(tmp_path: Path) -> None:
    with make_client(tmp_path, max_body_bytes=2000) as c:
        big = {"title": "Big", "body": "word " * 1000}
        r = c.post("/v1/suggest", json=big)
        assert r.status_code == 413 and "cap" in r.json()["error"]

        def chunks() -> Any:  # no Content-Length: the cap applies while reading
            for _ in range(10):
                yield b"x" * 500

        r = c.post("/v1/suggest", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413
        assert c.post("/v1/suggest", json=STORY).status_code == 200


def test_time_limit_gives_504_and_service_recovers(tmp_path: Path) -> None:
    tagger = FakeTagger(delay=0.6)
    with make_client(tmp_path, tagger=tagger, timeout=0.2) as c:
        t0 = time.perf_counter()
        r = c.post("/v1/suggest", json=STORY)
        assert r.status_code == 504 and "limit" in r.json()["error"]
        assert time.perf_counter() - t0 < 0.55
        tagger.delay = 0.0
        time.sleep(0.6)
        assert c.post("/v1/suggest", json=STORY).status_code == 200


def test_concurrent_requests_all_answered(client: TestClient) -> None:
    statuses: list[int] = []

    def worker() -> None:
        for _ in range(5):
            statuses.append(client.post("/v1/suggest", json=STORY).status_code)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 20


def test_health_ready_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/readyz").json()["ready"] is True
    client.post("/v1/suggest", json=STORY)
    client.post("/v1/suggest", json={"title": 1})
    text = client.get("/metrics").text
    assert (
        'newstag_http_requests_total{endpoint="/v1/suggest",method="POST",status="200"} 1.0' in text
    )
    assert 'endpoint="/v1/suggest",method="POST",status="422"} 1.0' in text
    assert "newstag_http_request_duration_seconds_bucket" in text


def test_not_ready_while_model_fails_to_load(tmp_path: Path) -> None:
    app = create_app(
        settings=Settings(
            model=str(tmp_path / "no-such-model"), feedback_db=str(tmp_path / "fb.db")
        )
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        for _ in range(100):
            r = c.get("/readyz")
            if "failed" in r.json().get("error", ""):
                break
            time.sleep(0.05)
        assert r.status_code == 503 and "failed to load" in r.json()["error"]
        r = c.post("/v1/suggest", json=STORY)
        assert r.status_code == 503 and r.json()["error"]
        assert (
            c.post("/v1/feedback", json={"article_id": "a", "added": ["France"]}).status_code == 201
        )


def test_openapi_documents_the_endpoints(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in (
        "/v1/suggest",
        "/v1/suggest/batch",
        "/v1/entities",
        "/v1/related",
        "/v1/feedback",
        "/healthz",
        "/readyz",
        "/metrics",
    ):
        assert path in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_lone_surrogates_are_422_not_500(client: TestClient) -> None:
    raw = b'{"title": "a\\ud800b", "body": "Some text."}'
    for path in ("/v1/suggest", "/v1/entities", "/v1/feedback"):
        r = client.post(
            path,
            content=raw if path != "/v1/feedback" else b'{"article_id": "\\udfff", "added": ["x"]}',
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 422 and "unicode" in r.json()["error"].lower(), r.text
    r = client.post(
        "/v1/suggest/batch",
        content=b'{"articles": [{"title": "\\ud800"}, {"title": "Fine Story"}]}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 200 and r.json()["errors"][0]["index"] == 0


class CountingTagger(FakeTagger):
    """Records the size of every suggest_many batch."""

    def __init__(self, delay: float) -> None:
        super().__init__(delay)
        self.batches: list[int] = []

    def suggest_many(self, articles: Any, **kwargs: Any) -> Any:
        articles = list(articles)
        self.batches.append(len(articles))
        return super().suggest_many(articles, **kwargs)


def test_concurrent_suggests_are_batched_and_not_mixed_up(tmp_path: Path) -> None:
    tagger = CountingTagger(delay=0.05)
    with make_client(tmp_path, tagger=tagger, batch_requests=16) as c:
        out: dict[int, Any] = {}

        def one(i: int) -> None:
            r = c.post(
                "/v1/suggest",
                json={"title": f"Story Number {i}", "body": "Text.", "top_k": 1 + i % 3},
            )
            out[i] = r

        threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert all(r.status_code == 200 for r in out.values())
    for i, r in out.items():
        assert r.json()["title"] == f"Story Number {i}"
        assert len(r.json()["tags"]) <= 1 + i % 3
    assert sum(tagger.batches) == 12 and max(tagger.batches) > 1


def test_no_request_batching_by_default(tmp_path: Path) -> None:
    tagger = CountingTagger(delay=0.05)
    with make_client(tmp_path, tagger=tagger) as c:
        threads = [
            threading.Thread(target=c.post, args=("/v1/suggest",), kwargs={"json": STORY})
            for _ in range(6)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert tagger.batches == [1] * 6


def test_a_broken_model_pool_answers_503_and_is_rebuilt_once(tmp_path: Path) -> None:
    import asyncio
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from newstag.service.state import ServiceState
    from newstag.service.worker import ApiError

    class Broken:
        """An executor whose processes died: submit fails, or running work fails."""

        def __init__(self, on_submit: bool) -> None:
            self.on_submit, self.shut = on_submit, False

        def submit(self, *args: Any) -> Future:
            if self.on_submit:
                raise BrokenProcessPool("a process died")
            future: Future = Future()
            future.set_exception(BrokenProcessPool("a process died"))
            return future

        def shutdown(self, **kwargs: Any) -> None:
            self.shut = True

    state = ServiceState(Settings(feedback_db=str(tmp_path / "fb.sqlite3")), tagger=FakeTagger())
    for on_submit in (True, False):
        broken = state.executor = Broken(on_submit)  # type: ignore[assignment]
        with pytest.raises(ApiError) as err:
            asyncio.run(state.run("entities", STORY, False))
        assert err.value.status == 503 and broken.shut and state.executor is not broken
        fresh = state.executor
        assert state._pool_died(broken).status == 503  # a late request of the old pool
        assert state.executor is fresh  # does not replace the new pool again
    assert asyncio.run(state.run("entities", STORY, False))  # the new pool answers
    state.close()
