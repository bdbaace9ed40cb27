"""Property-based junk at every endpoint: always a JSON answer, never a 5xx."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newstag.service.app import create_app
from newstag.service.settings import Settings
from newstag.service.testing import FakeTagger

ENDPOINTS = ["/v1/suggest", "/v1/suggest/batch", "/v1/entities", "/v1/related", "/v1/feedback"]
FIELDS = [
    "title",
    "body",
    "html",
    "text",
    "headline",
    "id",
    "date",
    "top_k",
    "min_score",
    "articles",
    "k",
    "article_id",
    "suggested",
    "accepted",
    "rejected",
    "added",
    "extra",
]

any_text = st.text(st.characters(exclude_categories=()), max_size=200)  # with lone surrogates
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=200)
    | any_text,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)
# objects that look like real requests, with wrong or odd values
near_miss = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6)
batch_like = st.builds(
    lambda items: {"articles": items}, st.lists(near_miss | json_values, max_size=5)
)


class FakeIndex:
    def query(self, text: str, k: int = 10, min_score: float | None = None) -> list[dict[str, Any]]:
        return [{"id": "1", "headline": text[:20], "score": 0.5}][:k]


_STATE: dict[str, TestClient] = {}


def client(tmp: Path) -> TestClient:
    if "c" not in _STATE:
        app = create_app(
            tagger=FakeTagger(),
            index=FakeIndex(),
            settings=Settings(feedback_db=str(tmp / "fuzz.sqlite3"), max_body_bytes=20_000),
        )
        _STATE["c"] = TestClient(app, raise_server_exceptions=False)
    return _STATE["c"]


def check(r: Any) -> None:
    assert r.status_code < 500, (r.status_code, r.text[:300])
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/json")
        assert isinstance(r.json()["error"], str) and r.json()["error"]


FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(endpoint=st.sampled_from(ENDPOINTS), payload=json_values | near_miss | batch_like)
def test_json_junk(tmp_path_factory: Any, endpoint: str, payload: Any) -> None:
    c = client(tmp_path_factory.getbasetemp())
    check(
        c.post(endpoint, content=json.dumps(payload), headers={"content-type": "application/json"})
    )


@FUZZ
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    raw=st.binary(max_size=300),
    ctype=st.sampled_from(
        [
            "application/json",
            "text/plain",
            "",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ]
    ),
)
def test_binary_junk(tmp_path_factory: Any, endpoint: str, raw: bytes, ctype: str) -> None:
    c = client(tmp_path_factory.getbasetemp())
    headers = {"content-type": ctype} if ctype else {}
    check(c.post(endpoint, content=raw, headers=headers))


@FUZZ
@given(
    endpoint=st.sampled_from(ENDPOINTS + ["/healthz", "/readyz", "/metrics", "/v2/x", "/"]),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    query=st.text(max_size=50),
    raw=st.binary(max_size=100),
)
def test_any_method_and_path(
    tmp_path_factory: Any, endpoint: str, method: str, query: str, raw: bytes
) -> None:
    c = client(tmp_path_factory.getbasetemp())
    check(c.request(method, endpoint, params={"q": query}, content=raw))


@FUZZ
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    title=st.text(max_size=300) | any_text,
    body=st.text(max_size=2000) | any_text,
)
def test_text_junk_in_valid_shape(
    tmp_path_factory: Any, endpoint: str, title: str, body: str
) -> None:
    c = client(tmp_path_factory.getbasetemp())
    payloads = {
        "/v1/suggest": {"title": title, "body": body},
        "/v1/entities": {"title": title, "body": body},
        "/v1/suggest/batch": {"articles": [{"title": title, "body": body}, {"body": title}]},
        "/v1/related": {"text": title + body},
        "/v1/feedback": {"article_id": title, "accepted": [body], "title": title, "body": body},
    }
    check(
        c.post(
            endpoint,
            content=json.dumps(payloads[endpoint]),  # \u-escapes surrogates
            headers={"content-type": "application/json"},
        )
    )
