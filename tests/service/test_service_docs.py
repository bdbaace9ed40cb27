"""``/docs`` and ``/redoc`` work offline: a real headless Chromium loads them from a real
``newstag serve`` on loopback, with every request off the loopback interface blocked."""

from __future__ import annotations

import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from newstag.service.testing import start_server

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ENDPOINTS = (
    "/v1/suggest",
    "/v1/suggest/batch",
    "/v1/entities",
    "/v1/related",
    "/v1/feedback",
    "/healthz",
    "/readyz",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``newstag serve`` with API keys on: the docs and their files must stay open."""
    db = tmp_path_factory.mktemp("docs") / "fb.sqlite3"
    proc, url = start_server(
        ["--model", "none", "--feedback-db", str(db)], env={"NEWSTAG_API_KEYS": "docs-test-key"}
    )
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium; .ci/run does)")
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not on PATH")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def open_offline(browser: Any, url: str) -> tuple[Any, list[tuple[str, str]]]:
    """A page whose requests off 127.0.0.1 are aborted (and listed), as on a machine offline."""
    page = browser.new_page()
    blocked: list[tuple[str, str]] = []

    def only_loopback(route: Any) -> None:
        where = urlsplit(route.request.url)
        if where.scheme in ("blob", "data") or where.hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append((route.request.resource_type, route.request.url))
            route.abort()

    page.route("**/*", only_loopback)
    page.goto(url, wait_until="load", timeout=60_000)
    return page, blocked


def test_docs_page_lists_the_endpoints_offline(server: str, browser: Any) -> None:
    page, blocked = open_offline(browser, server + "/docs")
    try:
        page.wait_for_selector(".opblock-summary-path", timeout=60_000)
        paths = {
            p.strip().replace("\u200b", "")
            for p in page.locator(".opblock-summary-path").all_inner_texts()
        }
        assert set(ENDPOINTS) <= paths, paths
        assert "newstag" in page.locator(".info .title").inner_text()
    finally:
        page.close()
    assert blocked == [], f"/docs asked for files off this machine: {blocked}"


def test_redoc_page_lists_the_endpoints_offline(server: str, browser: Any) -> None:
    import json

    with urllib.request.urlopen(server + "/openapi.json", timeout=30) as resp:
        spec = json.loads(resp.read())
    summaries = {op["summary"] for methods in spec["paths"].values() for op in methods.values()}
    page, blocked = open_offline(browser, server + "/redoc")
    try:
        page.locator("h2", has_text="Related headlines").first.wait_for(timeout=60_000)
        headings = {h.strip() for h in page.locator("h2").all_inner_texts()}
        assert summaries <= headings, summaries - headings
        assert "Something went wrong" not in page.inner_text("body")
    finally:
        page.close()
    # ReDoc's "powered by" logo image is its only outside file; nothing the page needs is
    assert [kind for kind, _ in blocked if kind != "image"] == [], blocked


def test_docs_assets_are_served_without_a_key(server: str) -> None:
    with urllib.request.urlopen(server + "/docs", timeout=30) as resp:
        html = resp.read().decode()
    assert "cdn." not in html and "/docs-assets/swagger-ui-bundle.js" in html
    with urllib.request.urlopen(server + "/docs-assets/swagger-ui-bundle.js", timeout=30) as r:
        assert r.status == 200 and len(r.read()) > 100_000
