"""Screenshot of the review page with the summit sample: ``make screenshot``.

Starts ``newstag serve`` (the shipped model) on a free loopback port with a throw-away
feedback store, drives the page in Debian's Chromium and writes docs/img/review-page.png.
"""

from __future__ import annotations

import argparse
import signal
import tempfile
from pathlib import Path

from newstag.service.pagetest import launch, paste_and_suggest, review
from newstag.service.testing import start_server

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "kim-putin-summit.txt"


def shoot(out: Path, width: int = 1280, height: int = 1100) -> None:
    """Run the service, review the sample on the page and save a screenshot to ``out``."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(
            ["--model", "default", "--feedback-db", str(Path(tmp) / "fb.sqlite3")], ready="/readyz"
        )
        try:
            with sync_playwright() as pw:
                browser = launch(pw)
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(url + "/")
                paste_and_suggest(page, SAMPLE.read_text(encoding="utf-8"))
                review(
                    page, accept=["Russia", "Vladimir Putin"], reject=["Asia"], add=["Diplomacy"]
                )
                page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
                page.locator('.chip[data-tag="North Korea"] .chip-main').hover()
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out))
                browser.close()
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(30)
    print(f"wrote {out} ({out.stat().st_size // 1024} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "review-page.png")
    shoot(parser.parse_args().out)


if __name__ == "__main__":
    main()
