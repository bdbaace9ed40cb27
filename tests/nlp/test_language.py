"""Language identification: refuse only text that is confidently another language, and
decide the same way in the CLI, batch jobs and the service."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from newstag.io.article import from_record, looks_english
from newstag.nlp.language import OTHER_LANGUAGE_MIN_SCORE, identify, other_language
from newstag.service.testing import call_json
from tests.conftest import run_cli, shared_or_skip

PUTIN = {
    "title": "Breaking news",
    "body": "Russian President Vladimir Putin met Kim Jong Un in Vladivostok on Wednesday, "
    "officials said.",
}
FRENCH = {
    "title": "Le président a parlé",
    "body": "Le président de la République a annoncé lundi une nouvelle réforme des "
    "retraites pour les travailleurs du secteur public, selon le gouvernement.",
}
GERMAN = {
    "title": "Bundestag stimmt ab",
    "body": "Die Bundesregierung hat am Montag ein neues Gesetz beschlossen, das die "
    "Renten erhöhen soll. Die Opposition kritisierte den Plan als zu teuer.",
}


def text_of(record: dict[str, str]) -> str:
    return f"{record['title']}\n\n{record['body']}"


@pytest.mark.parametrize(
    "text",
    [
        text_of(PUTIN),  # name-heavy news: few English stop words
        "Olaf Scholz, Emmanuel Macron, Giorgia Meloni, Pedro Sánchez",
        "Hapoel Ironi Rishon Lezion 3 Hapoel Taibe 1 in Tel Aviv on Sunday",
        "Breaking news",
        "Kim Jong Un Will Meet Putin in Vladivostok as Arms Talks Loom",
    ],
)
def test_english_and_doubtful_texts_are_accepted(text: str) -> None:
    assert looks_english(text)
    assert other_language(text) is None


@pytest.mark.parametrize("record,lang", [(FRENCH, "fr"), (GERMAN, "de")])
def test_other_languages_are_recognised_with_confidence(record: dict[str, str], lang: str) -> None:
    guess = other_language(text_of(record))
    assert guess is not None and guess.lang == lang
    assert guess.score >= OTHER_LANGUAGE_MIN_SCORE
    assert not looks_english(text_of(record))


def test_other_language_article_carries_a_warning_naming_the_language() -> None:
    article = from_record(FRENCH, "story.json")
    assert any("'fr'" in w and "English" in w for w in article.warnings)
    assert from_record(PUTIN, "story.json").warnings == []


def test_the_identifier_loads_with_no_network() -> None:
    """The model ships inside the package: a process that cannot open a socket still
    identifies languages (a lazy download would fail here)."""
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network used')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from newstag.nlp.language import identify\n"
        "print(identify('Le président de la République a annoncé lundi une réforme.').lang)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "fr"


def test_too_little_text_is_not_identified() -> None:
    assert identify("Oui.") is None
    assert identify("   \n ") is None


@pytest.mark.slow
def test_no_wikinews_article_is_refused() -> None:
    path = shared_or_skip("wikinews", "wikinews_en_part00.jsonl.gz")
    refused = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= 500:
                break
            record = json.loads(line)
            text = f"{record['title']}\n\n{record.get('text') or ''}"
            if not looks_english(text):
                refused.append(record["title"])
    assert not refused


# ---------------------------------------------------------------------------
# The same decision in the CLI, a batch and the service (real HTTP on loopback)
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_batch_and_service_decide_the_same_way(tmp_path: Path) -> None:
    from newstag.service.testing import start_server

    records = {"putin": PUTIN, "french": FRENCH}
    # service: the short English news is answered, the French story refused
    proc, url = start_server(
        ["--model", "none", "--feedback-db", str(tmp_path / "fb.db")], ready="/readyz"
    )
    try:
        status, out = call_json(url, "/v1/suggest", PUTIN)[:2]
        assert status == 200, out
        assert "Vladimir Putin" in {t["tag"] for t in out["tags"]}
        status, out = call_json(url, "/v1/suggest", FRENCH)[:2]
        assert status == 422 and "English" in out["error"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    # CLI: a warning for the French story only
    for name, record in records.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(record))
        r = run_cli("suggest", str(path), "--model", "none", "--format", "json")
        assert r.returncode == 0, r.stderr
        assert ("English" in r.stderr) == (name == "french"), r.stderr
    # batch: the same warnings, row by row
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": k, **v}) + "\n" for k, v in records.items()))
    out_path = tmp_path / "out.jsonl"
    r = run_cli("batch", str(src), "--out", str(out_path), "--model", "none", "--no-progress")
    assert r.returncode == 0, r.stderr
    rows = {row["id"]: row for row in map(json.loads, out_path.read_text().splitlines())}
    warned = {rid: any("English" in w for w in row["warnings"]) for rid, row in rows.items()}
    assert warned == {"putin": False, "french": True}
