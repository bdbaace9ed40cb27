"""The service's endpoints, one router per area; ``create_app`` includes them in this order
(which is also the order of ``/openapi.json``'s paths)."""

from __future__ import annotations

from fastapi import APIRouter

from newstag.service.routers import catalog, feedback, health, page, related, tags

ROUTERS: tuple[APIRouter, ...] = (
    health.router,  # /healthz, /readyz, /metrics
    tags.router,  # /v1/suggest, /v1/suggest/batch, /v1/entities
    related.router,  # /v1/related
    feedback.router,  # /v1/feedback
    catalog.router,  # /v1/model, /v1/tags, /v1/tags/check, /v1/article, /v1/related/items/{id}
    page.router,  # the review page at / (not in the schema)
)
