"""Driving the review page in Debian's Chromium (Playwright with the system browser), for the
browser tests and ``scripts/review_screenshot.py``. Nothing here downloads a browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def launch(playwright: Any) -> Any:
    """Headless Chromium from Debian's package (``apt-get install chromium``)."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


def paste_and_suggest(page: Any, text: str) -> None:
    """Paste ``text`` (first line = headline) into the page and wait for the tag chips."""
    page.get_by_label("Text", exact=True).fill(text)
    page.get_by_role("button", name="Suggest tags").click()
    page.locator(".chip").first.wait_for(timeout=120_000)


def review(page: Any, accept: list[str], reject: list[str], add: list[str]) -> None:
    """Accept, reject and add tags the way an editor does (click, keyboard, type-ahead)."""
    for tag in accept:
        page.locator(f'.chip[data-tag="{tag}"] .chip-main').click()
    for tag in reject:
        page.get_by_role("button", name=f"Reject {tag}", exact=True).click()
    for tag in add:
        box = page.get_by_label("Add a tag")
        box.fill(tag)
        box.press("Enter")
        page.locator(".added-tag", has_text=tag).wait_for()
