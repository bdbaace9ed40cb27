"""The app composed from per-area routers keeps the HTTP contract of the single-file app:
the same paths, operation ids and schemas in ``/openapi.json``, and every route reachable."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from newstag.service.app import create_app
from newstag.service.routers import ROUTERS
from newstag.service.settings import Settings
from newstag.service.testing import FakeTagger

OPERATIONS = [  # (path, method, operationId) in schema order, as before the split
    ("/healthz", "get", "healthz_healthz_get"),
    ("/readyz", "get", "readyz_readyz_get"),
    ("/metrics", "get", "metrics_metrics_get"),
    ("/v1/suggest", "post", "suggest_v1_suggest_post"),
    ("/v1/suggest/batch", "post", "suggest_batch_v1_suggest_batch_post"),
    ("/v1/entities", "post", "entities_v1_entities_post"),
    ("/v1/related", "post", "related_v1_related_post"),
    ("/v1/feedback", "post", "feedback_v1_feedback_post"),
    ("/v1/model", "get", "model_info_v1_model_get"),
    ("/v1/tags", "get", "tags_v1_tags_get"),
    ("/v1/tags/check", "get", "tag_check_v1_tags_check_get"),
    ("/v1/article", "post", "article_v1_article_post"),
    ("/v1/related/items/{item_id}", "get", "related_item_route_v1_related_items__item_id__get"),
]
SCHEMAS = {
    "ArticleIn",
    "ArticleOut",
    "BatchIn",
    "BatchOut",
    "DroppedOut",
    "EntitiesIn",
    "ErrorOut",
    "FeedbackIn",
    "FeedbackOut",
    "HTTPValidationError",
    "IndexInfo",
    "ItemOut",
    "ModelOut",
    "RelatedIn",
    "SuggestIn",
    "TagCheckOut",
    "TagOut",
    "TagsOut",
    "ValidationError",
}


def make_app(tmp_path: Path, **kwargs: object):  # noqa: ANN201
    return create_app(
        tagger=FakeTagger(),
        settings=Settings(model="none", feedback_db=str(tmp_path / "fb.sqlite3"), **kwargs),
    )


def test_openapi_operations_and_schemas_are_unchanged(tmp_path: Path) -> None:
    spec = make_app(tmp_path).openapi()
    found = [(p, m, op["operationId"]) for p, ops in spec["paths"].items() for m, op in ops.items()]
    assert found == OPERATIONS
    assert set(spec["components"]["schemas"]) == SCHEMAS
    # dependencies (state, limits, feedback store) add no parameters to the schema
    assert "parameters" not in spec["paths"]["/v1/suggest"]["post"]
    params = [p["name"] for p in spec["paths"]["/v1/tags"]["get"]["parameters"]]
    assert params == ["prefix", "limit"]


def test_every_router_route_is_served(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        for router in ROUTERS:
            for route in router.routes:
                method = sorted(route.methods)[0]
                path = route.path.replace("{item_id}", "x")
                r = client.request(method, path, json={} if method == "POST" else None)
                assert r.status_code != 405 and r.status_code < 500, (path, r.text)
                assert not (r.status_code == 404 and "Not Found" in r.text), path


def test_refusals_before_routing_are_labelled_with_the_path(tmp_path: Path) -> None:
    app = make_app(tmp_path, api_keys=frozenset({"k"}))
    with TestClient(app) as client:
        assert client.get("/v1/model").status_code == 401
        text = client.get("/metrics").text
    assert 'endpoint="/v1/model",method="GET",status="401"' in text
