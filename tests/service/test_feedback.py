"""The feedback store (SQLite, PostgreSQL) and its export to a training corpus."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from newstag.service.feedback import (
    FeedbackError,
    SQLiteStore,
    corpus_records,
    open_store,
    redact,
)

PG_URL = os.environ.get("NEWSTAG_TEST_POSTGRES_URL")


def rec(
    aid: str,
    accepted: list[str],
    added: list[str] = (),
    rejected: list[str] = (),
    title: str | None = "A headline",
    body: str | None = "Some body text.",
) -> dict[str, Any]:
    return {
        "article_id": aid,
        "suggested": accepted + list(rejected),
        "accepted": accepted,
        "rejected": list(rejected),
        "added": list(added),
        "title": title,
        "body": body,
    }


def newstag(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newstag", *args], capture_output=True, text=True, timeout=120
    )


def test_sqlite_store_round_trip_and_wal(tmp_path: Path) -> None:
    db = tmp_path / "fb.sqlite3"
    with open_store(str(db)) as store:
        assert isinstance(store, SQLiteStore)
        ids = [store.add(rec("a1", ["France"], ["Energy"])), store.add(rec("a2", ["Geneva"]))]
        assert ids == sorted(ids) and store.count() == 2
    with open_store(str(db)) as store:  # reopened: still there
        rows = list(store.rows())
    assert [r["article_id"] for r in rows] == ["a1", "a2"]
    assert rows[0]["added"] == ["Energy"] and rows[0]["received_at"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_bad_targets(tmp_path: Path) -> None:
    with pytest.raises(FeedbackError, match="not a supported"):
        open_store("mysql://x@y/z")
    with pytest.raises(FeedbackError, match="does not exist"):
        open_store(str(tmp_path / "nope" / "fb.db"))
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(FeedbackError, match="not a usable SQLite"):
        open_store(str(junk))
    assert redact("postgresql://u:secret@h:5432/db") == "postgresql://u:***@h:5432/db"


def test_corpus_records_latest_wins_and_skips_are_reported() -> None:
    rows = [
        {**rec("a1", ["France"]), "id": 1},
        {**rec("a2", ["Geneva"], title=None, body=None), "id": 2},
        {**rec("a1", ["France", "Germany"], ["Energy"], ["Trade"], title=None, body=None), "id": 3},
        {**rec("a3", [], rejected=["Trade"]), "id": 4},
    ]
    records, skipped = corpus_records(iter(rows))
    assert [r["id"] for r in records] == ["a1"]
    assert records[0]["tags"] == ["France", "Germany", "Energy"]
    assert records[0]["rejected"] == ["Trade"]
    assert records[0]["title"] == "A headline"  # text from the earlier save
    assert dict(skipped).keys() == {"a2", "a3"}


def test_export_cli_writes_a_corpus_newstag_reads(tmp_path: Path) -> None:
    from newstag.io.corpus import read_corpus

    db = tmp_path / "fb.sqlite3"
    with open_store(str(db)) as store:
        store.add(rec("a1", ["France"], ["Energy"]))
        store.add(rec("a2", ["Geneva"], title="Second", body="Another story."))
        store.add(rec("a3", ["Geneva"], title=None, body=None))
    out = tmp_path / "corpus.jsonl"
    r = newstag("feedback", "export", str(db), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "wrote 2 training records from 3 feedback records" in r.stderr
    assert "skipped article a3" in r.stderr
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["tags"] for x in lines] == [["France", "Energy"], ["Geneva"]]
    records = list(read_corpus(out))
    assert [(c.id, c.title, c.tags) for c in records] == [
        ("a1", "A headline", ["France", "Energy"]),
        ("a2", "Second", ["Geneva"]),
    ]


def test_export_cli_errors_are_one_line(tmp_path: Path) -> None:
    r = newstag("feedback", "export", str(tmp_path / "missing.sqlite3"))
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "no such feedback database" in r.stderr
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"garbage" * 200)
    r = newstag("feedback", "export", str(junk))
    assert r.returncode == 1 and "Traceback" not in r.stderr and "SQLite" in r.stderr
    empty = tmp_path / "empty.sqlite3"
    open_store(str(empty)).close()
    r = newstag("feedback", "export", str(empty), "--out", str(tmp_path / "c.jsonl"))
    assert r.returncode == 1 and "wrote 0 training records" in r.stderr


def _start_postgres(tmp: Path) -> tuple[str, list[str]]:
    """Start a throwaway PostgreSQL cluster; return its URL and the command that stops it."""
    import glob
    import shutil

    from newstag.service.testing import free_port

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [
        p for p in [shutil.which("initdb")] if p
    ]
    if not found:
        pytest.skip("no PostgreSQL server binaries and NEWSTAG_TEST_POSTGRES_URL is unset")
    bindir = Path(found[-1]).parent
    as_root = os.geteuid() == 0

    def run(*cmd: str) -> None:
        full = ["su", "postgres", "-c", " ".join(cmd)] if as_root else list(cmd)
        subprocess.run(full, check=True, capture_output=True, timeout=120)

    if as_root:
        shutil.chown(tmp, "postgres")
    port = free_port()
    data = tmp / "data"
    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust")
    opts = f"'-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off'"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(tmp / "log"), "-w", "start")
    run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "newstag_test")
    stop = [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
    if as_root:
        stop = ["su", "postgres", "-c", " ".join(stop)]
    return f"postgresql://postgres@127.0.0.1:{port}/newstag_test", stop


@pytest.fixture(scope="module")
def pg_url() -> Any:
    """``$NEWSTAG_TEST_POSTGRES_URL``, or a cluster this test starts from the local binaries."""
    import shutil
    import tempfile

    pytest.importorskip("psycopg")
    if PG_URL:
        yield PG_URL
        return
    tmp = Path(tempfile.mkdtemp(prefix="newstag-pg-"))  # reachable by the postgres user
    stop: list[str] = []
    try:
        try:
            url, stop = _start_postgres(tmp)
        except (subprocess.CalledProcessError, OSError, KeyError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            pytest.skip(
                f"could not start a PostgreSQL server for the test ({exc} "
                f"{detail.decode(errors='replace')[-200:]}); "
                "set NEWSTAG_TEST_POSTGRES_URL"
            )
        yield url
    finally:
        if stop:
            subprocess.run(stop, capture_output=True, timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.postgres
def test_postgres_store_app_and_export(tmp_path: Path, pg_url: str) -> None:
    import psycopg
    from fastapi.testclient import TestClient

    from newstag.service.app import create_app
    from newstag.service.feedback import PostgresStore
    from newstag.service.settings import Settings
    from newstag.service.testing import FakeTagger

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS feedback")
    with open_store(pg_url) as store:
        assert isinstance(store, PostgresStore)
        store.add(rec("p1", ["France"], ["Energy"]))
    # two service instances sharing one database
    apps = [
        create_app(tagger=FakeTagger(), settings=Settings(feedback_db=pg_url)) for _ in range(2)
    ]
    with TestClient(apps[0]) as c1, TestClient(apps[1]) as c2:
        for i, c in enumerate((c1, c2, c1, c2)):
            r = c.post("/v1/feedback", json=rec(f"p{i + 2}", ["Geneva"]))
            assert r.status_code == 201, r.text
    with open_store(pg_url) as store:
        assert store.count() == 5
        assert [r["article_id"] for r in store.rows()] == ["p1", "p2", "p3", "p4", "p5"]
    out = tmp_path / "pg.jsonl"
    r = newstag("feedback", "export", pg_url, "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert len(out.read_text().splitlines()) == 5
    password = urlsplit(pg_url).password
    assert not password or password not in r.stderr


def test_postgres_unreachable_is_a_clear_error() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(FeedbackError, match="cannot connect"):
        open_store("postgresql://nobody:pw@127.0.0.1:1/none")
