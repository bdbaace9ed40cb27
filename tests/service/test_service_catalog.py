"""The review page's public endpoints over real HTTP: ``GET /v1/model``, ``GET /v1/tags``,
``POST /v1/article``, ``GET /v1/related/items/{id}``, and the page's own files at ``/``."""

from __future__ import annotations

import hashlib
import json
import signal
from pathlib import Path
from typing import Any

import pytest

from newstag.paths import default_model_dir
from newstag.service.testing import call_json as call
from newstag.service.testing import start_server
from tests.conftest import SAMPLE, run_cli

pytestmark = pytest.mark.slow


def build_index(out: Path) -> Path:
    """The sample headlines as a related index (built by the CLI, no entities: fast)."""
    proc = run_cli(
        "index", "build", str(SAMPLE / "headlines.csv"), "--out", str(out), "--no-entities"
    )
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("catalog-index") / "index")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, index: Path) -> Any:
    """``newstag serve`` with the shipped model and the sample index, on loopback."""
    tmp = tmp_path_factory.mktemp("catalog")
    proc, url = start_server(
        ["--model", "default", "--index", str(index), "--feedback-db", str(tmp / "fb.sqlite3")],
        ready="/readyz",
    )
    yield url
    proc.send_signal(signal.SIGINT)
    proc.wait(30)


def test_model_names_itself_and_its_vocabulary(server: str) -> None:
    manifest = default_model_dir() / "manifest.json"
    status, out, _ = call(server, "/v1/model")
    assert status == 200
    assert out["name"] == "default" and out["mode"] == "model"
    assert out["version"] == hashlib.sha256(manifest.read_bytes()).hexdigest()[:12]
    assert out["vocabulary"] == json.loads(manifest.read_text())["n_labels"] > 100
    assert out["created"] and out["index"] == {"loaded": True}


def test_tags_type_ahead(server: str) -> None:
    status, out, _ = call(server, "/v1/tags?prefix=KOR&limit=3")
    assert status == 200 and len(out["tags"]) == 3 and out["total"] > 3
    # tags starting with the prefix come first (most frequent first), then tags with a
    # later word starting with it ("North Korea")
    _, out, _ = call(server, "/v1/tags?prefix=kor&limit=100")
    names = [t["tag"] for t in out["tags"]]
    assert "North Korea" in names and "South Korea" in names
    assert all(any(w.startswith("kor") for w in n.lower().split()) for n in names)
    first = [n.lower().startswith("kor") for n in names]
    assert first[0] and first == sorted(first, reverse=True)
    counts = [t["count"] for t, f in zip(out["tags"], first, strict=True) if f]
    assert counts == sorted(counts, reverse=True)
    # no prefix: the most frequent tags
    _, out, _ = call(server, "/v1/tags?limit=5")
    assert len(out["tags"]) == 5 and out["total"] == out["vocabulary"]
    _, none, _ = call(server, "/v1/tags?prefix=zzqx")
    assert none["tags"] == [] and none["total"] == 0
    status, err, _ = call(server, "/v1/tags?limit=0")
    assert status == 422 and "limit" in err["error"]


def test_tag_check_spells_added_tags_like_the_vocabulary(server: str) -> None:
    status, out, _ = call(server, "/v1/tags/check?tag=%20north%20%20KOREA")
    assert status == 200
    assert out == {
        "tag": "North Korea",
        "type": "place",
        "known": True,
        "allowed": True,
        "reason": None,
    }
    _, out, _ = call(server, "/v1/tags/check?tag=Summit%20diplomacy")
    assert out["tag"] == "Summit diplomacy" and not out["known"] and out["allowed"]
    for bad in ("", "%20%20", "x" * 301):
        status, err, _ = call(server, f"/v1/tags/check?tag={bad}")
        assert status == 422 and "tag" in err["error"], bad
    status, _, _ = call(server, "/v1/model")
    assert status == 200


def test_house_rules_apply_to_added_tags(tmp_path: Path) -> None:
    rules = tmp_path / "house.toml"
    rules.write_text(
        'new_tags = false\ndeny = ["Europe"]\n\n[spellings]\n"Kim Jong-un" = "Kim Jong Un"\n'
    )
    proc, url = start_server(
        [
            "--model",
            "default",
            "--feedback-db",
            str(tmp_path / "fb.sqlite3"),
            "--rules",
            str(rules),
        ],
        ready="/readyz",
    )
    try:
        _, model, _ = call(url, "/v1/model")
        assert model["house_rules"] is True
        _, out, _ = call(url, "/v1/tags/check?tag=kim%20jong-un")
        assert out["tag"] == "Kim Jong Un" and out["known"] and out["allowed"]
        _, out, _ = call(url, "/v1/tags/check?tag=europe")
        assert not out["allowed"] and "deny" in out["reason"]
        _, out, _ = call(url, "/v1/tags/check?tag=Summit%20diplomacy")
        assert not out["allowed"] and "no new tags" in out["reason"]
        _, tags, _ = call(url, "/v1/tags?prefix=kim%20jong&limit=100")
        names = [t["tag"] for t in tags["tags"]]
        assert "Kim Jong Un" in names and "Kim Jong-un" not in names
        _, tags, _ = call(url, "/v1/tags?prefix=europe&limit=100")
        assert "Europe" not in [t["tag"] for t in tags["tags"]]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


def test_article_is_the_text_that_offsets_point_into(server: str) -> None:
    text = (SAMPLE / "kim-putin-summit.txt").read_text()
    status, art, _ = call(server, "/v1/article", {"body": text})
    assert status == 200
    assert art["title"] == text.splitlines()[0]
    assert art["text"] == f"{art['title']}\n\n{art['body']}"
    assert "Share on Facebook" in [d["text"] for d in art["dropped"]]
    assert "Share on Facebook" not in art["body"]
    status, out, _ = call(server, "/v1/suggest", {"title": art["title"], "body": art["body"]})
    assert status == 200
    mentions = [m for e in out["entities"] for m in e["mentions"]]
    assert mentions and all(art["text"][m["start"] : m["end"]] == m["text"] for m in mentions)
    html = (SAMPLE / "eu-energy-summit.html").read_text()
    status, page, _ = call(server, "/v1/article", {"html": html})
    assert status == 200 and page["title"] and "<" not in page["body"]
    for bad in ({}, {"title": 3}, {"body": "   "}, {"body": "x", "colour": "red"}):
        status, err, _ = call(server, "/v1/article", bad)
        assert status == 422 and err["error"] and "\n" not in err["error"], bad


def test_related_item_by_id(server: str) -> None:
    status, item, _ = call(server, "/v1/related/items/flood-1")
    assert status == 200
    assert item["headline"].startswith("Floods force thousands")
    assert item["lead"] and item["tags"] == ["Italy", "floods"]
    status, err, _ = call(server, "/v1/related/items/no-such-id")
    assert status == 404 and "no-such-id" in err["error"]


def test_related_item_from_a_model_process(index: Path, tmp_path: Path) -> None:
    proc, url = start_server(
        [
            "--model",
            "none",
            "--index",
            str(index),
            "--model-processes",
            "1",
            "--feedback-db",
            str(tmp_path / "fb.sqlite3"),
        ],
        ready="/readyz",
    )
    try:
        status, item, _ = call(url, "/v1/related/items/moon-1")
        assert status == 200 and item["id"] == "moon-1" and item["headline"]
        status, err, _ = call(url, "/v1/related/items/nope")
        assert status == 404 and "nope" in err["error"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


def test_new_endpoints_are_in_the_openapi_schema(server: str) -> None:
    _, schema, _ = call(server, "/openapi.json")
    paths = schema["paths"]
    for path, method in (
        ("/v1/model", "get"),
        ("/v1/tags", "get"),
        ("/v1/article", "post"),
        ("/v1/related/items/{item_id}", "get"),
    ):
        assert paths[path][method]["summary"], path
    assert "/" not in paths and "/ui/review.js" not in paths


def test_page_and_assets_are_served_locally(server: str) -> None:
    status, html, headers = call(server, "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "connect-src 'self'" in headers["content-security-policy"]
    for asset in ("/ui/review.js", "/ui/review.css", "/ui/favicon.svg"):
        assert asset in html
        status, body, _ = call(server, asset)
        assert status == 200 and body
    assert "http://" not in html and "https://" not in html


def test_entities_only_service_with_api_keys(tmp_path: Path) -> None:
    proc, url = start_server(
        ["--model", "none", "--feedback-db", str(tmp_path / "fb.sqlite3")],
        env={"NEWSTAG_API_KEYS": "k-1"},
    )
    try:
        status, html, _ = call(url, "/")  # the page loads without a key, then asks for one
        assert status == 200 and "API key" in html
        status, err, _ = call(url, "/v1/model")
        assert status == 401 and "API key" in err["error"]
        key = {"X-API-Key": "k-1"}
        status, out, _ = call(url, "/v1/model", headers=key)
        assert status == 200 and out["mode"] == "entities" and out["vocabulary"] == 0
        assert out["version"] is None and out["index"] is None and not out["house_rules"]
        _, tags, _ = call(url, "/v1/tags?prefix=a", headers=key)
        assert tags == {"tags": [], "total": 0, "vocabulary": 0}
        status, err, _ = call(url, "/v1/related/items/x", headers=key)
        assert status == 404 and "index" in err["error"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
