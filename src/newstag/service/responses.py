"""How the service answers: encoded JSON bodies, ``{"error": ..., "detail": ...}`` errors and
the error responses the OpenAPI schema lists."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse, Response

from newstag.service.schemas import ErrorOut

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in (
        (400, "Malformed JSON"),
        (401, "Missing or wrong API key"),
        (413, "Request body over the size cap"),
        (415, "Body is not JSON"),
        (422, "Invalid request or article (the error says which field)"),
        (503, "Model still loading"),
        (504, "Request over the time limit"),
    )
}
"""The error answers of a model endpoint, for its ``responses=`` (OpenAPI)."""

ERROR_MODEL: dict[str, Any] = {"model": ErrorOut}
"""An error answer without a description (the catalogue endpoints)."""


def json_response(body: bytes, status: int = 200) -> Response:
    """An encoded JSON answer (skips FastAPI's slow ``jsonable_encoder`` pass)."""
    return Response(body, status_code=status, media_type="application/json")


def error_response(
    status: int, message: str, detail: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """``{"error": message}`` (with ``detail`` when given) and ``status``."""
    body: dict[str, Any] = {"error": message}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, headers=headers)
