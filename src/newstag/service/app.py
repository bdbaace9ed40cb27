"""The FastAPI app: ``create_app(tagger=None, index=None, settings=...)``.

The model and the spaCy pipeline load once per worker at start-up (``/readyz`` answers 503
until they are in); model work runs off the event loop under the per-request time limit
(:mod:`newstag.service.state`). The endpoints live in :mod:`newstag.service.routers`, one
router per area, and get the worker's state through dependencies
(:mod:`newstag.service.deps`). Every error is a JSON ``{"error": ..., "detail": ...}`` body;
bad input is always a 4xx (:mod:`newstag.service.handlers`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from newstag import __version__
from newstag.service import handlers
from newstag.service.feedback import FeedbackStore
from newstag.service.guard import DOCS_ASSETS, OPEN_PATHS, GuardMiddleware
from newstag.service.metrics import MetricsMiddleware
from newstag.service.responses import ERRORS, error_response, json_response
from newstag.service.routers import ROUTERS
from newstag.service.settings import Settings
from newstag.service.state import ServiceState

__all__ = [
    "ERRORS",
    "OPEN_PATHS",
    "ServiceState",
    "app_from_env",
    "create_app",
    "error_response",
    "json_response",
]

DESCRIPTION = (
    "Send an article when an editor saves it; get tag suggestions back. "
    "Report which suggestions the editor kept to `/v1/feedback`. "
    'Errors are `{"error": ..., "detail": ...}` JSON bodies.'
)


def create_app(
    tagger: Any = None,
    index: Any = None,
    settings: Settings | None = None,
    store: FeedbackStore | None = None,
    background_load: bool = True,
) -> FastAPI:
    """Build the service. ``tagger``/``index``/``store`` override what ``settings`` name.

    Without a ``tagger`` the model named by ``settings`` loads at start-up: in the background
    (``/readyz`` says 503 meanwhile), or before the server accepts connections when
    ``background_load`` is false (what each worker of a multi-worker server does).
    """
    from fastapi_offline import FastAPIOffline

    state = ServiceState(settings or Settings(), tagger=tagger, index=index, store=store)
    app = FastAPIOffline(  # /docs and /redoc with their files served locally, not from a CDN
        static_url=DOCS_ASSETS,
        title="newstag",
        version=__version__,
        summary="Tag suggestions, entities and related headlines for news articles.",
        description=DESCRIPTION,
        lifespan=lifespan(state, background_load),
    )
    app.state.newstag = state
    add_middleware(app, state)
    handlers.install(app)
    for router in ROUTERS:
        app.include_router(router)
    state.metrics.paths = route_paths(app)
    return app


def lifespan(state: ServiceState, background_load: bool) -> Callable[[FastAPI], Any]:
    """Load the model at start-up (in the background, or before serving); close at the end."""

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        loader = None
        if not state.ready and background_load:
            loader = asyncio.create_task(asyncio.to_thread(state.load))
        elif not state.ready:
            await asyncio.to_thread(state.load)
        yield
        if loader is not None and not loader.done():
            loader.cancel()
        state.close()

    return run


def add_middleware(app: FastAPI, state: ServiceState) -> None:
    """The last added runs first: metrics -> CORS (so 401/413 answers carry CORS headers
    too) -> API key and body cap -> the app."""
    settings = state.settings
    app.add_middleware(GuardMiddleware, settings=settings)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Content-Type", "X-API-Key", "Authorization"],
        )
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)


def route_paths(app: FastAPI) -> set[str]:
    """Every route path of ``app`` (to label requests answered before routing, 401/413)."""
    paths = {getattr(r, "path", "") for r in app.routes}
    paths |= {getattr(r, "path", "") for router in ROUTERS for r in router.routes}
    return paths - {""}


def app_from_env() -> FastAPI:
    """App factory for ``uvicorn --factory`` and multi-worker serving: settings from env."""
    logging.basicConfig(level=logging.INFO)
    return create_app(settings=Settings.from_env(), background_load=False)
