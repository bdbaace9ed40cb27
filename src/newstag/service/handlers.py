"""The service's exception handlers: every error is a JSON ``{"error": ..., "detail": ...}``
body, bad input is always a 4xx.

- :class:`~newstag.errors.NewstagError` (including :class:`~newstag.service.worker.ApiError`)
  answers with its ``status`` (422 for input errors) and one-line message;
- request validation errors answer 400 (malformed JSON), 415 (not JSON) or 422 (the field);
- Starlette's HTTP errors (404 unknown path, 405 ...) keep their status in the same shape;
- anything else is a bug: 500, logged with its traceback.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from newstag.errors import NewstagError
from newstag.service.responses import error_response
from newstag.service.worker import summarise, validation_detail

log = logging.getLogger(__name__)


async def newstag_error(request: Request, exc: NewstagError) -> JSONResponse:
    """A :class:`NewstagError`: its status and message (and ``detail`` when it has one)."""
    return error_response(exc.status, str(exc), getattr(exc, "detail", None))


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """A body or parameter pydantic refused: 400, 415 or 422 naming the field."""
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        ctx = errors[0].get("ctx") or {}
        reason = ctx.get("error", "") if isinstance(ctx, dict) else ""
        return error_response(400, f"malformed JSON body{': ' + str(reason) if reason else ''}")
    detail = validation_detail(errors)
    if len(detail) == 1 and not detail[0]["loc"] and detail[0]["type"] != "value_error":
        return whole_body_error(request, detail)
    return error_response(422, summarise(detail), detail)


def whole_body_error(request: Request, detail: list[dict]) -> JSONResponse:
    """The body as a whole is wrong: not JSON (415), empty or not an object (422)."""
    ctype = request.headers.get("content-type", "")
    if ctype and "json" not in ctype.lower():
        return error_response(
            415,
            f"Content-Type is {ctype.split(';')[0]!r}; send "
            "a JSON object with Content-Type: application/json",
        )
    if detail[0]["type"] == "missing":
        return error_response(422, "request body is empty; expected a JSON object")
    return error_response(422, "request body must be a JSON object", detail)


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Starlette's own errors (unknown path, wrong method, unparsable body) as JSON."""
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    if exc.status_code == 400 and "parsing the body" in message:
        message = "malformed request body: expected a JSON object"
    return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))


async def crash(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover
    """A bug: 500 without internals, the traceback in the server log."""
    log.exception("internal error on %s", request.url.path)
    return error_response(500, f"internal error ({type(exc).__name__})")


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(NewstagError, newstag_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, crash)
