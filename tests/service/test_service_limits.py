"""What ``newstag serve`` refuses, over real HTTP on loopback: an oversized body always gets
the 413 JSON (never a connection reset), a page with no story a 422."""

from __future__ import annotations

import http.client
import json
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from newstag.service.testing import start_server

pytestmark = pytest.mark.slow

BIG = 3_000_000  # bytes: over the default 2 MB body cap
KEY = "cms-key-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("limits") / "fb.sqlite3"
    proc, url = start_server(
        ["--model", "none", "--feedback-db", str(db)], env={"NEWSTAG_API_KEYS": KEY}
    )
    try:
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


def big_body(size: int = BIG) -> bytes:
    """A JSON article whose body alone is ``size`` bytes."""
    return json.dumps({"title": "Oversized", "body": "x" * size}).encode()


def pieces(body: bytes, size: int = 65536, pause: float = 0.002) -> Iterator[bytes]:
    """``body`` in pieces with short pauses, as it leaves a client on a real network."""
    for i in range(0, len(body), size):
        yield body[i : i + size]
        time.sleep(pause)


def post(
    url: str, path: str, body: bytes, chunked: bool = False, key: str = KEY
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """POST ``body`` paced like a network link; (status, JSON answer, headers).

    Transport errors (a reset, a broken pipe) propagate."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        headers = {"Content-Type": "application/json", "X-API-Key": key}
        if not chunked:
            headers["Content-Length"] = str(len(body))
        conn.request("POST", path, body=pieces(body), headers=headers, encode_chunked=chunked)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read()), {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


def test_twenty_oversized_requests_all_get_the_413_json(server: str) -> None:
    body = big_body()
    failures: list[str] = []
    for i in range(20):
        try:
            status, out, headers = post(server, "/v1/suggest", body)
        except OSError as exc:  # a reset or broken pipe instead of the answer
            failures.append(f"try {i}: {type(exc).__name__}: {exc}")
            continue
        assert status == 413, (status, out)
        assert "over the" in out["error"] and "cap" in out["error"]
        assert headers.get("connection") == "close"
    assert not failures, failures


def test_oversized_chunked_body_gets_the_413_json(server: str) -> None:
    """No Content-Length: the cap is found while reading, and the answer still arrives."""
    for _ in range(3):
        status, out, _ = post(server, "/v1/suggest", big_body(), chunked=True)
        assert status == 413 and "cap" in out["error"]


def test_oversized_request_without_a_key_gets_the_401_json(server: str) -> None:
    for _ in range(3):
        status, out, headers = post(server, "/v1/suggest", big_body(), key="wrong")
        assert status == 401 and out["error"] == "invalid API key"
        assert headers.get("connection") == "close"


def test_a_page_with_no_story_is_422(server: str) -> None:
    body = json.dumps({"html": "<nav>Home | News</nav><p>Share on Facebook</p>"}).encode()
    status, out, _ = post(server, "/v1/suggest", body)
    assert status == 422 and "no story found" in out["error"], out
    status, out, _ = post(server, "/v1/entities", body)
    assert status == 422 and "no story found" in out["error"], out


def test_the_server_answers_normally_after_oversized_requests(server: str) -> None:
    body = json.dumps(
        {
            "title": "Storm hits coast",
            "body": "A storm hit the coast of Portugal on Monday, officials in Lisbon said.",
        }
    ).encode()
    status, out, headers = post(server, "/v1/suggest", body)
    assert status == 200 and "Portugal" in {t["tag"] for t in out["tags"]}
