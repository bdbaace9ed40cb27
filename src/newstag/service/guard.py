"""The API key check and the request body cap: pure ASGI middleware that answers before the
body is read (a router dependency would run only after FastAPI has read and parsed it)."""

from __future__ import annotations

import hmac
from typing import Any

from newstag.service.page import ASSETS as PAGE_ASSETS
from newstag.service.responses import error_response
from newstag.service.settings import Settings

DOCS_ASSETS = "/docs-assets"
"""Where Swagger UI's and ReDoc's files are served from (package ``fastapi-offline``, no CDN)."""
OPEN_PATHS = frozenset(
    {"/healthz", "/readyz", "/metrics", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
    | {
        f"{DOCS_ASSETS}/{name}"
        for name in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
    }
)
"""Paths served without an API key."""

OPEN_PATHS |= frozenset(PAGE_ASSETS)  # the review page loads without a key, then asks for one


def given_key(headers: dict[str, str]) -> str:
    """The API key a request sends: ``X-API-Key``, else an ``Authorization: Bearer`` token."""
    given = headers.get("x-api-key", "")
    auth = headers.get("authorization", "")
    if not given and auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    return given


def key_accepted(given: str, keys: frozenset[str]) -> bool:
    """``given`` is one of ``keys`` (compared in constant time)."""
    return any(hmac.compare_digest(given.encode(), k.encode()) for k in keys)


class GuardMiddleware:
    """Checks the API key (when keys are set) and caps the request body (413 above it).

    A refusal is sent only after the rest of the request body has been read, with
    ``Connection: close``: answering while the client is still sending and then closing the
    socket makes the client's TCP stack see a reset, and the client never reads the answer.
    """

    drain_bytes = 64_000_000
    """Most of a refused request's body read (and dropped) before the answer; past it, a
    client still sending may see a reset (a flood, not a CMS)."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        if self.needs_key(scope):
            given = given_key(headers)
            if not key_accepted(given, self.settings.api_keys):
                msg = "invalid API key" if given else "missing API key (send X-API-Key)"
                await self._refuse(scope, receive, send, 401, msg, {"WWW-Authenticate": "Bearer"})
                return
        cap = self.settings.max_body_bytes
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > cap:
            await self._refuse(
                scope,
                receive,
                send,
                413,
                f"request body is {int(length):,} bytes, over the {cap:,}-byte cap",
            )
            return
        body = await self._read_capped(scope, receive, send)
        if body is not None:
            await self.app(scope, replay(body, receive), send)

    def needs_key(self, scope: dict) -> bool:
        """API keys are set and the path is not open (CORS preflights never need one)."""
        return (
            bool(self.settings.api_keys)
            and scope["path"] not in OPEN_PATHS
            and scope.get("method") != "OPTIONS"
        )

    async def _read_capped(self, scope: dict, receive: Any, send: Any) -> bytes | None:
        """The whole body, or None when it went over the cap (answered 413) or the client
        left."""
        cap = self.settings.max_body_bytes
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > cap:
                await self._refuse(
                    scope,
                    receive,
                    send,
                    413,
                    f"request body is over the {cap:,}-byte cap",
                    drain=more,
                )
                return None
            if not more:
                return bytes(body)

    async def _refuse(
        self,
        scope: dict,
        receive: Any,
        send: Any,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        drain: bool = True,
    ) -> None:
        """Answer ``status`` with ``Connection: close`` once the body is read (``drain``)."""
        if drain and not await self._drain(receive):
            return  # the client has gone: nobody reads an answer
        await error_response(status, message, headers={**(headers or {}), "Connection": "close"})(
            scope, receive, send
        )

    async def _drain(self, receive: Any) -> bool:
        """Read and drop the rest of the body (up to ``drain_bytes``); False if the client left."""
        read = 0
        while read <= self.drain_bytes:
            message = await receive()
            if message["type"] == "http.disconnect":
                return False
            read += len(message.get("body", b""))
            if not message.get("more_body", False):
                break
        return True


def replay(body: bytes, receive: Any) -> Any:
    """An ASGI ``receive`` that gives the already read ``body`` once, then defers to
    ``receive`` (for the disconnect)."""
    sent = False

    async def receive_again() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_again
