"""``/healthz`` (the process is up), ``/readyz`` (the model is loaded) and ``/metrics``."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from newstag import __version__
from newstag.service.deps import State
from newstag.service.responses import ERRORS, error_response

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, Any]:
    return {"status": "ok", "version": __version__, "pid": os.getpid()}


@router.get("/readyz", summary="The model is loaded", responses={503: ERRORS[503]})
async def readyz(state: State) -> Any:
    if state.ready:
        return {"ready": True, "model": state.settings.model or "none", **state.info}
    if state.load_error:
        return error_response(503, f"model failed to load: {state.load_error}")
    return error_response(503, "model is still loading")


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(state: State) -> Response:
    return Response(state.metrics.render(), media_type=state.metrics.content_type)
