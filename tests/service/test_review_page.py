"""The editor's review page in a real browser: Debian's Chromium, headless, driven by
Playwright against ``newstag serve`` on loopback (the shipped model and the sample index)."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest

from newstag.service.feedback import open_store
from newstag.service.pagetest import CHROMIUM, launch, paste_and_suggest, review
from newstag.service.testing import start_server
from tests.conftest import SAMPLE, run_cli
from tests.service.test_service_catalog import build_index

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} not installed (apt-get install chromium; .ci/run does)",
    ),
]
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
)

SUMMIT = (SAMPLE / "kim-putin-summit.txt").read_text(encoding="utf-8")
GERMAN = (
    "Die Bundesregierung hat am Montag neue Regeln beschlossen\n\nDie Minister der "
    "Regierung haben sich nach langen Gesprächen auf einen Kompromiss geeinigt, der "
    "für alle Bürger gelten soll und nächste Woche in Kraft tritt."
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """(base URL, feedback store path) of a service with the shipped model and an index."""
    tmp = tmp_path_factory.mktemp("page")
    index = build_index(tmp / "index")
    db = tmp / "feedback.sqlite3"
    proc, url = start_server(
        ["--model", "default", "--index", str(index), "--feedback-db", str(db)], ready="/readyz"
    )
    yield url, db
    proc.send_signal(signal.SIGINT)
    proc.wait(30)


@pytest.fixture(scope="module")
def browser() -> Any:
    with sync_api.sync_playwright() as pw:
        chromium = launch(pw)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, served: tuple[str, Path]) -> Any:
    """A fresh browser session whose requests are all logged in ``page.requested``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.requested = []
    tab.on("request", lambda request: tab.requested.append(request.url))
    yield tab
    context.close()


def status_line(page: Any) -> str:
    line = page.locator("#status")
    line.wait_for(state="visible")
    return line.inner_text()


def chip_names(page: Any) -> list[str]:
    return page.locator(".chip").evaluate_all("els => els.map(e => e.dataset.tag)")


def test_review_and_save_stores_exactly_the_decision(
    page: Any, served: tuple[str, Path], tmp_path: Path
) -> None:
    url, db = served
    page.goto(url + "/")
    page.get_by_text("Model default · version").wait_for()
    paste_and_suggest(page, SUMMIT)
    suggested = chip_names(page)
    assert {"Russia", "Vladimir Putin", "Ukraine"} <= set(suggested)
    # people, places and organisations are marked in the text, one class per type
    assert page.locator("#text mark.t-person", has_text="Vladimir Putin").count() >= 1
    assert page.locator("#text mark.t-place", has_text="Vladivostok").count() >= 1
    assert page.locator("#text mark.t-organisation", has_text="Security Council").count() >= 1
    # evidence: focusing a tag marks its mentions and lists the words behind it
    page.locator('.chip[data-tag="Russia"] .chip-main').focus()
    assert page.locator("#text .hit").count() >= 1
    assert "Words" in page.locator("#why").inner_text()
    # type-ahead over the model's vocabulary
    page.get_by_label("Add a tag").fill("Kor")
    page.locator("#vocab option").first.wait_for(state="attached")
    assert "North Korea" in page.locator("#vocab option").evaluate_all("os => os.map(o => o.value)")
    page.get_by_label("Add a tag").fill("")

    review(page, accept=["Russia"], reject=["Ukraine"], add=["Summit diplomacy"])
    page.locator('.chip[data-tag="Vladimir Putin"] .chip-main').focus()
    page.keyboard.press("Enter")  # the keyboard accepts too
    assert page.locator(".added-tag", has_text="Summit diplomacy").inner_text().count("new")
    page.get_by_role("button", name="Save decision").click()
    page.locator("#status.ok", has_text="Saved feedback #").wait_for()

    with open_store(str(db)) as store:
        rows = list(store.rows())
    assert len(rows) == 1
    row = rows[0]
    assert row["suggested"] == suggested
    assert row["accepted"] == [t for t in suggested if t in ("Russia", "Vladimir Putin")]
    assert row["rejected"] == ["Ukraine"]
    assert row["added"] == ["Summit diplomacy"]
    assert row["title"] == SUMMIT.splitlines()[0] and "Click here" not in row["title"]
    assert "Share on Facebook" not in row["body"] and "Vladivostok" in row["body"]
    assert row["model"].startswith("default@")
    # ... and `newstag feedback export` trains on it: accepted + added
    out = tmp_path / "corpus.jsonl"
    proc = run_cli("feedback", "export", str(db), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(record["tags"]) == sorted(["Russia", "Vladimir Putin", "Summit diplomacy"])


def test_service_error_is_shown_as_one_line(page: Any, served: tuple[str, Path]) -> None:
    page.goto(served[0] + "/")
    page.get_by_label("Text", exact=True).fill(GERMAN)
    page.get_by_role("button", name="Suggest tags").click()
    page.locator("#status.error").wait_for()
    line = status_line(page)
    assert line.startswith("Error: POST /v1/article answered 422")
    assert "does not look like English" in line and "\n" not in line
    assert page.locator("#status").get_attribute("role") == "alert"
    assert page.locator(".chip").count() == 0


def test_page_requests_nothing_outside_the_service(browser: Any, served: tuple[str, Path]) -> None:
    url = served[0]
    context = browser.new_context(bypass_csp=True)  # the page's CSP would hide such requests
    outside: list[str] = []
    inside: list[str] = []

    def guard(route: Any) -> None:
        if route.request.url.startswith(url + "/"):
            inside.append(route.request.url)
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.goto(f"{url}/?id=flood-1")  # open from the index: suggest and related run too
    page.locator("#related li").first.wait_for(timeout=120_000)
    page.locator("#file").set_input_files(str(SAMPLE / "eu-energy-summit.html"))
    sync_api.expect(page.get_by_label("Headline", exact=True)).not_to_have_value("")
    page.get_by_role("button", name="Suggest tags").click()
    page.wait_for_load_state("networkidle")
    context.close()
    assert outside == []
    paths = {u.removeprefix(url).split("?")[0] for u in inside}
    assert {
        "/",
        "/ui/review.js",
        "/ui/review.css",
        "/v1/model",
        "/v1/suggest",
        "/v1/related",
        "/v1/related/items/flood-1",
        "/v1/article",
    } <= paths


def test_open_by_id_shows_related_headlines(page: Any, served: tuple[str, Path]) -> None:
    page.goto(served[0] + "/?id=flood-1")
    page.locator("#related li").first.wait_for(timeout=120_000)
    headline = page.get_by_label("Headline", exact=True).input_value()
    assert headline.startswith("Floods force thousands")
    assert page.get_by_label("Article id").input_value() == "flood-1"
    first = page.locator("#related li").first.inner_text()
    assert "flood" in first.lower() or "Emilia-Romagna" in first
    scores = page.locator("#related .score").all_inner_texts()
    assert scores and all(0 < float(s) <= 1 for s in scores)


def test_every_control_is_reachable_by_keyboard_and_named(
    page: Any, served: tuple[str, Path]
) -> None:
    page.goto(served[0] + "/")
    paste_and_suggest(page, SUMMIT)
    review(page, accept=[], reject=[], add=["Arms trade", "japan"])
    # a tag the model knows takes the vocabulary's spelling and type; other text is new
    assert page.locator(".added-tag").all_inner_texts() == ["Arms trade\nnew\n×", "Japan\nplace\n×"]
    page.locator("#input-box summary").click()  # open the article form again
    controls = page.evaluate("""() => {
        const sel = 'button, input, textarea, summary, a[href], [tabindex="0"]';
        const shown = [...document.querySelectorAll(sel)].filter(
            (el) => el.offsetParent !== null && !el.disabled);
        shown.forEach((el, i) => el.dataset.probe = i);
        return shown.length;
    }""")
    assert controls > 20
    reached: set[str] = set()
    page.locator("body").focus()
    for _ in range(controls + 10):
        page.keyboard.press("Tab")
        probe = page.evaluate("document.activeElement.dataset.probe")
        if probe is not None:
            reached.add(probe)
    assert reached == {str(i) for i in range(controls)}
    # each control has an accessible name (Chromium's own accessibility tree)
    session = page.context.new_cdp_session(page)
    nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    roles = {"button", "textbox", "combobox", "link", "DisclosureTriangle"}
    unnamed = [
        n
        for n in nodes
        if not n.get("ignored")
        and n.get("role", {}).get("value") in roles
        and not (n.get("name", {}).get("value") or "").strip()
    ]
    assert unnamed == []
    assert page.get_by_role("button", name="Reject Russia", exact=True).count() == 1
    assert page.get_by_role("button", name="Remove added tag Arms trade").count() == 1
    # keyboard decisions: Enter accepts, Delete rejects
    chips = page.locator(".chip-main")
    chips.nth(0).focus()
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Delete")
    assert chips.nth(0).get_attribute("aria-pressed") == "true"
    assert page.locator(".chip").nth(1).get_attribute("data-state") == "rejected"


def test_narrow_window_does_not_scroll_sideways(browser: Any, served: tuple[str, Path]) -> None:
    context = browser.new_context(viewport={"width": 400, "height": 800})
    page = context.new_page()
    page.goto(served[0] + "/")
    paste_and_suggest(page, SUMMIT)
    review(page, accept=["Russia"], reject=[], add=["Very long added tag name for a narrow window"])
    page.locator("#input-box summary").click()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    context.close()
    assert overflow <= 0


def test_api_key_is_asked_for_and_kept_for_the_session_only(browser: Any, tmp_path: Path) -> None:
    proc, url = start_server(
        ["--model", "none", "--feedback-db", str(tmp_path / "fb.sqlite3")],
        env={"NEWSTAG_API_KEYS": "page-key-1"},
        ready="/readyz",
    )
    try:
        context = browser.new_context()
        page = context.new_page()
        page.goto(url + "/")
        key = page.get_by_label("API key")
        key.wait_for()
        page.locator("#status.error", has_text="401").wait_for()
        key.fill("wrong-key")
        key.press("Enter")
        page.locator("#status", has_text="invalid API key").wait_for()
        key.fill("page-key-1")
        key.press("Enter")
        page.get_by_text("Model none").wait_for()
        assert page.evaluate("sessionStorage.getItem('newstag.apiKey')") == "page-key-1"
        assert page.evaluate("localStorage.length") == 0 and context.cookies() == []
        paste_and_suggest(page, SUMMIT)  # the key goes with every call
        page.reload()  # same tab: still known
        page.get_by_text("Model none").wait_for()
        context.close()
        fresh = browser.new_context()  # a new browser session: asked again
        again = fresh.new_page()
        again.goto(url + "/")
        again.get_by_label("API key").wait_for()
        fresh.close()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
