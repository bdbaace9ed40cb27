"""The editor's review page at ``/``: static HTML, CSS and JavaScript shipped in the package
(``newstag/static``), served without an API key. The page talks only to the public API."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

STATIC = Path(__file__).resolve().parent.parent / "static"

ASSETS = {
    "/": ("review.html", "text/html; charset=utf-8"),
    "/ui/review.js": ("review.js", "text/javascript; charset=utf-8"),
    "/ui/review.css": ("review.css", "text/css; charset=utf-8"),
    "/ui/favicon.svg": ("favicon.svg", "image/svg+xml"),
}
"""URL path -> (file in ``newstag/static``, media type)."""

POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
"""Content-Security-Policy of the page: the browser may load nothing from outside the
service."""


def asset_response(name: str, media_type: str) -> Response:
    """One static file with no-cache and the page's security headers."""
    return Response(
        (STATIC / name).read_bytes(),
        media_type=media_type,
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def router() -> APIRouter:
    """Routes for the page and its assets (left out of the OpenAPI schema)."""
    pages = APIRouter(include_in_schema=False)
    for path, (name, media_type) in ASSETS.items():

        def serve(name: str = name, media_type: str = media_type) -> Response:
            return asset_response(name, media_type)

        pages.add_api_route(path, serve, methods=["GET"], name=f"page:{name}")
    return pages
