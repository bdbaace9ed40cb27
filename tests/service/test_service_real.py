"""The service with the real Tagger (spaCy), and ``newstag serve`` as a subprocess."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newstag.service.app import create_app
from newstag.service.settings import Settings
from newstag.service.testing import call_json, free_port, start_server

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]

STORY = {
    "title": "Putin meets Kim Jong Un in Vladivostok",
    "body": "Russian President Vladimir Putin met North Korean leader Kim Jong Un in Vladivostok "
    "on Wednesday. The talks covered trade and the war in Ukraine, officials in Moscow "
    "said. The United Nations has criticised arms sales to Pyongyang.",
}


def call(url: str, path: str, body: Any = None) -> tuple[int, Any]:
    """(status, JSON) of one request."""
    return call_json(url, path, body, timeout=60)[:2]


@pytest.fixture(scope="module")
def real_client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from newstag.tagging.tagger import Tagger

    tagger = Tagger.load(model="default")
    db = tmp_path_factory.mktemp("svc") / "fb.sqlite3"
    with TestClient(
        create_app(tagger=tagger, settings=Settings(feedback_db=str(db))),
        raise_server_exceptions=False,
    ) as c:
        yield c


def test_suggest_matches_the_cli_json(real_client: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "story.json"
    path.write_text(json.dumps(STORY))
    cli = subprocess.run(
        [sys.executable, "-m", "newstag", "suggest", str(path), "--format", "json", "--top-k", "5"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert cli.returncode == 0, cli.stderr
    expected = json.loads(cli.stdout)
    r = real_client.post("/v1/suggest", json={**STORY, "top_k": 5})
    assert r.status_code == 200
    got = r.json()
    assert set(got) == set(expected)
    for key in ("tags", "entities", "title"):
        assert got[key] == expected[key]
    assert got["tags"] and got["entities"]


def test_entities_and_batch_with_real_tagger(real_client: TestClient) -> None:
    r = real_client.post("/v1/entities", json=STORY)
    assert r.status_code == 200
    ents = {e["name"]: e for e in r.json()["entities"]}
    assert ents["Vladimir Putin"]["type"] == "person"
    r = real_client.post("/v1/suggest/batch", json={"articles": [STORY, {"title": 3}, STORY]})
    out = r.json()
    assert r.status_code == 200 and [e["index"] for e in out["errors"]] == [1]
    assert out["results"][0]["tags"] == out["results"][2]["tags"]
    assert out["results"][1] is None and out["results"][0]["title"] == STORY["title"]


@pytest.mark.parametrize(
    "text",
    [
        "\u202e\u0000\ufeff" * 50,
        "🙂" * 400,
        "a" * 20000,
        "<script>" * 100,
        ". , ; " * 300,
        "Ünïcödé Çàfé Zürich Łódź " * 30,
        "\n" * 500 + "x",
    ],
)
def test_odd_text_never_crashes_the_real_tagger(real_client: TestClient, text: str) -> None:
    for path in ("/v1/suggest", "/v1/entities"):
        r = real_client.post(path, json={"title": text[:100], "body": text})
        assert r.status_code < 500, r.text[:300]


def test_serve_subprocess_answers_over_loopback(tmp_path: Path) -> None:
    db = tmp_path / "fb.sqlite3"
    proc, url = start_server(["--model", "none", "--feedback-db", str(db)], ready="/readyz")
    try:
        status, out = call(url, "/v1/suggest", STORY)
        assert status == 200 and "Vladimir Putin" in [t["tag"] for t in out["tags"]]
        status, out = call(url, "/v1/suggest", {"title": 5})
        assert status == 422 and out["error"]
        status, out = call(url, "/v1/feedback", {"article_id": "x", "accepted": ["Russia"]})
        assert status == 201
        for silent in ({"article_id": "x"}, {"article_id": "x", "accepted": [" "], "added": []}):
            status, out = call(url, "/v1/feedback", silent)
            assert status == 422 and "names no tag" in out["error"], out
        status, out = call(url, "/v1/related", {"text": "x"})
        assert status == 404
        with urllib.request.urlopen(url + "/metrics", timeout=10) as resp:
            assert b'endpoint="/v1/suggest"' in resp.read()
        # the example CMS hook, end to end: suggestions, then the editor's feedback
        story = tmp_path / "story.json"
        story.write_text(json.dumps({"id": "cms-1", **STORY}))
        hook = [sys.executable, str(ROOT / "examples" / "cms_hook.py"), str(story)]
        env = {**os.environ, "NEWSTAG_URL": url}
        r = subprocess.run(hook, capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 0 and "Vladimir Putin\tperson" in r.stdout, r.stderr
        r = subprocess.run(
            [*hook, "--keep", "Vladimir Putin", "--add", "Diplomacy"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert r.returncode == 0 and "feedback stored" in r.stderr, r.stderr
        out_file = tmp_path / "corpus.jsonl"
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "newstag",
                "feedback",
                "export",
                str(db),
                "--out",
                str(out_file),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
        exported = [json.loads(x) for x in out_file.read_text().splitlines()]
        assert exported[-1]["id"] == "cms-1"
        assert exported[-1]["tags"] == ["Vladimir Putin", "Diplomacy"]
        assert "Kim Jong Un" in exported[-1]["rejected"]
        r = subprocess.run(
            hook,
            capture_output=True,
            text=True,
            timeout=60,
            env={**env, "NEWSTAG_URL": "http://127.0.0.1:9"},
        )
        assert r.returncode == 1 and "unreachable" in r.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0


def test_serve_with_two_workers_and_api_keys(tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("# CMS keys\nsecret-1\n")
    proc, url = start_server(
        [
            "--model",
            "none",
            "--workers",
            "2",
            "--feedback-db",
            str(tmp_path / "fb.sqlite3"),
            "--api-keys-file",
            str(keys),
        ]
    )
    try:
        status, out = call(url, "/v1/suggest", STORY)
        assert status == 401 and "API key" in out["error"]
        req = urllib.request.Request(
            url + "/v1/suggest",
            data=json.dumps(STORY).encode(),
            headers={"Content-Type": "application/json", "X-API-Key": "secret-1"},
        )
        for _ in range(4):
            with urllib.request.urlopen(req, timeout=120) as resp:
                assert resp.status == 200
    finally:
        proc.terminate()
        proc.wait(30)


def test_serve_bad_options_fail_with_one_line(tmp_path: Path) -> None:
    def serve(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "newstag", "serve", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    r = serve("--model", str(tmp_path / "nope"))
    assert r.returncode == 1 and "no such model directory" in r.stderr
    r = serve("--model", "none", "--index", str(tmp_path / "nope"))
    assert r.returncode == 1 and "no such index directory" in r.stderr
    r = serve("--model", "none", "--feedback-db", str(tmp_path / "x" / "fb.db"))
    assert r.returncode == 1 and "does not exist" in r.stderr
    with socket.socket() as busy:
        port = free_port()
        busy.bind(("127.0.0.1", port))
        busy.listen()
        r = serve("--model", "none", "--port", str(port), "--feedback-db", str(tmp_path / "fb.db"))
    assert r.returncode == 1 and "cannot listen" in r.stderr
    for res in (r,):
        assert "Traceback" not in res.stderr and res.stderr.strip().count("\n") == 0


def test_related_with_a_real_index(tmp_path: Path) -> None:
    from newstag.related import RelatedIndex
    from newstag.service.testing import FakeTagger

    rows = [
        {"id": "1", "headline": "Putin and Kim meet in Vladivostok to discuss arms"},
        {"id": "2", "headline": "Kim Jong Un travels by train to Russia for Putin talks"},
        {"id": "3", "headline": "Wheat prices fall as harvest in Kansas beats forecasts"},
        {"id": "4", "headline": "Storm floods farms across Kansas and Nebraska"},
    ]
    RelatedIndex.build(rows).save(tmp_path / "idx")
    index = RelatedIndex.load(tmp_path / "idx")
    app = create_app(
        tagger=FakeTagger(), index=index, settings=Settings(feedback_db=str(tmp_path / "fb.db"))
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/v1/related", json={"text": "Putin hosts Kim Jong Un", "k": 2})
        assert r.status_code == 200, r.text
        assert {h["id"] for h in r.json()["results"]} == {"1", "2"}
        # the default floor drops the Kansas headlines; min_score 0 keeps what shares anything
        floor = c.post("/v1/related", json={"text": "Putin hosts Kim Jong Un", "k": 4}).json()
        everything = c.post(
            "/v1/related", json={"text": "Putin hosts Kim Jong Un", "k": 4, "min_score": 0}
        ).json()
        assert len(everything["results"]) > len(floor["results"])
        assert all(h["score"] >= 0.01 for h in floor["results"])


def test_model_processes_spread_load_and_survive_a_killed_process(tmp_path: Path) -> None:
    import threading

    proc, url = start_server(
        [
            "--model",
            "none",
            "--model-processes",
            "2",
            "--feedback-db",
            str(tmp_path / "fb.sqlite3"),
        ],
        ready="/readyz",
    )
    try:
        status, ready = call(url, "/readyz")
        assert status == 200 and len(ready["pid"]) == 2
        statuses: list[int] = []

        def client() -> None:
            for _ in range(3):
                statuses.append(call(url, "/v1/suggest", STORY)[0])

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == [200] * 12
        os.kill(ready["pid"][0], signal.SIGKILL)  # a model process dies (OOM killer, ...)
        status, out = call(url, "/v1/suggest", STORY)
        assert status in (200, 503), out  # 503 "retry" at most, never a 500
        for _ in range(60):  # the pool is rebuilt and the service answers again
            status, out = call(url, "/v1/suggest", STORY)
            if status == 200:
                break
        assert status == 200 and "Vladimir Putin" in [t["tag"] for t in out["tags"]]
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(30)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(title=st.text(max_size=80), body=st.text(max_size=600))
def test_generated_text_never_5xx_with_the_real_tagger(
    real_client: TestClient, title: str, body: str
) -> None:
    for path in ("/v1/suggest", "/v1/entities"):
        r = real_client.post(
            path,
            content=json.dumps({"title": title, "body": body}),
            headers={"content-type": "application/json"},
        )
        assert r.status_code < 500, r.text[:300]


def test_model_processes_end_with_the_server_on_sigterm(tmp_path: Path) -> None:
    """uvicorn re-raises SIGTERM after its shutdown; the model processes must not outlive it."""
    import time

    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc (Linux)")
    proc, url = start_server(
        [
            "--model",
            "none",
            "--model-processes",
            "2",
            "--feedback-db",
            str(tmp_path / "fb.sqlite3"),
        ],
        ready="/readyz",
    )
    try:
        status, ready = call(url, "/readyz")
        assert status == 200 and len(ready["pid"]) == 2
    finally:
        proc.terminate()
        proc.wait(30)
    deadline = time.monotonic() + 10
    alive = list(ready["pid"])
    while alive and time.monotonic() < deadline:
        alive = [
            p
            for p in alive
            if Path(f"/proc/{p}").exists()
            and "Z" not in Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1][:3]
        ]
        time.sleep(0.1)
    for pid in alive:  # clean up before failing
        os.kill(pid, signal.SIGKILL)
    assert not alive, f"model processes {alive} outlived the server"
