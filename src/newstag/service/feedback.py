"""The feedback store: what editors kept, rejected and added, stored durably.

``open_store(target)`` takes a file path (embedded SQLite in WAL mode, ``synchronous=FULL``)
or a ``postgresql://`` URL (psycopg 3, for several service instances sharing one store).
A record is committed before :meth:`FeedbackStore.add` returns, so feedback answered with
a 2xx survives a crash of the process right after.

:func:`export_corpus` turns the feedback into a JSON-lines training corpus for ``newstag train``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from newstag import settings
from newstag.errors import NewstagError

DEFAULT_DB = "newstag-feedback.sqlite3"
LIST_FIELDS = ("suggested", "accepted", "rejected", "added")
TEXT_FIELDS = ("article_id", "title", "body", "date", "model", "editor")
COLUMNS = ("id", "received_at", *TEXT_FIELDS, *LIST_FIELDS)


class FeedbackError(NewstagError, RuntimeError):
    """The store cannot be opened, read or written. The message names the store."""

    status = 503  # the service cannot store feedback now; retrying later may work


def default_target() -> str:
    """``$NEWSTAG_FEEDBACK_DB`` or ``newstag-feedback.sqlite3`` in the working directory."""
    return settings.current().feedback_db or DEFAULT_DB


def is_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def redact(target: str) -> str:
    """The target with any password removed, for messages and logs."""
    if not is_url(target) or "@" not in target:
        return target
    scheme, rest = target.split("://", 1)
    cred, host = rest.rsplit("@", 1)
    return f"{scheme}://{cred.split(':', 1)[0]}:***@{host}"


class FeedbackStore:
    """Common interface of the SQLite and PostgreSQL stores."""

    target: str

    def add(self, record: dict[str, Any]) -> int:
        """Store one record durably; return its row id."""
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError

    def rows(self) -> Iterator[dict[str, Any]]:
        """All records, oldest first, with list fields decoded."""
        raise NotImplementedError

    def ping(self) -> None:
        """Raise :class:`FeedbackError` when the store is unreachable."""
        self.count()

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _values(record: dict[str, Any]) -> tuple[Any, ...]:
        received = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        texts = [record.get(k) for k in TEXT_FIELDS]
        lists = [json.dumps(list(record.get(k) or []), ensure_ascii=False) for k in LIST_FIELDS]
        return (received, *texts, *lists)

    @staticmethod
    def _decode(row: tuple[Any, ...]) -> dict[str, Any]:
        out = dict(zip(COLUMNS, row, strict=True))
        for key in LIST_FIELDS:
            out[key] = json.loads(out[key] or "[]")
        out["received_at"] = str(out["received_at"])
        return out


_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    article_id TEXT NOT NULL,
    title TEXT, body TEXT, date TEXT, model TEXT, editor TEXT,
    suggested TEXT NOT NULL, accepted TEXT NOT NULL, rejected TEXT NOT NULL, added TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_article ON feedback (article_id);
"""

_INSERT = (
    f"INSERT INTO feedback ({', '.join(COLUMNS[1:])}) "
    f"VALUES ({', '.join(['{p}'] * (len(COLUMNS) - 1))})"
)


class SQLiteStore(FeedbackStore):
    """Embedded SQLite, WAL journal, ``synchronous=FULL``: one file, safe across crashes."""

    def __init__(self, path: str | Path) -> None:
        self.target = str(path)
        p = Path(path)
        if p.is_dir():
            raise FeedbackError(f"{path}: is a directory, not a database file")
        if not p.parent.exists():
            raise FeedbackError(f"{path}: folder {p.parent} does not exist")
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(
                str(p), check_same_thread=False, timeout=30, isolation_level=None
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(_SQLITE_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise FeedbackError(f"{path}: not a usable SQLite database ({exc})") from exc

    def add(self, record: dict[str, Any]) -> int:
        sql = _INSERT.replace("{p}", "?")
        try:
            with self._lock:
                cur = self._conn.execute(sql, self._values(record))  # autocommit
                return int(cur.lastrowid or 0)
        except sqlite3.Error as exc:
            raise FeedbackError(f"{self.target}: cannot store feedback ({exc})") from exc

    def count(self) -> int:
        try:
            with self._lock:
                return int(self._conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])
        except sqlite3.Error as exc:
            raise FeedbackError(f"{self.target}: cannot read feedback ({exc})") from exc

    def rows(self) -> Iterator[dict[str, Any]]:
        try:
            with self._lock:
                cur = self._conn.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id")
                rows = cur.fetchall()
        except sqlite3.Error as exc:
            raise FeedbackError(f"{self.target}: cannot read feedback ({exc})") from exc
        for row in rows:
            yield self._decode(row)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


_PG_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id BIGSERIAL PRIMARY KEY,
    received_at TIMESTAMPTZ NOT NULL,
    article_id TEXT NOT NULL,
    title TEXT, body TEXT, date TEXT, model TEXT, editor TEXT,
    suggested TEXT NOT NULL, accepted TEXT NOT NULL, rejected TEXT NOT NULL, added TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_article ON feedback (article_id);
"""


class PostgresStore(FeedbackStore):
    """A PostgreSQL table shared by several service instances (psycopg 3).

    Each insert is its own committed transaction; a dropped connection is reopened once.
    """

    def __init__(self, url: str) -> None:
        self.target = url
        try:
            import psycopg
        except ImportError as exc:
            raise FeedbackError(
                "a PostgreSQL feedback store needs psycopg 3: pip install 'newstag[postgres]'"
            ) from exc
        self._psycopg = psycopg
        self._lock = threading.Lock()
        self._conn = self._connect()
        try:
            with self._lock, self._conn.transaction():
                # one instance at a time creates the table
                self._conn.execute("SELECT pg_advisory_xact_lock(4242005)")
                self._conn.execute(_PG_SCHEMA)
        except psycopg.Error as exc:
            raise FeedbackError(f"{redact(url)}: cannot create the feedback table ({exc})") from exc

    def _connect(self) -> Any:
        try:
            return self._psycopg.connect(self.target, autocommit=True, connect_timeout=10)
        except self._psycopg.Error as exc:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FeedbackError(f"{redact(self.target)}: cannot connect ({msg})") from exc

    def _run(self, sql: str, params: tuple[Any, ...] = (), fetch: str = "one") -> Any:
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._conn.closed:
                        self._conn = self._connect()
                    cur = self._conn.execute(sql, params)
                    return cur.fetchone() if fetch == "one" else cur.fetchall()
                except self._psycopg.OperationalError as exc:
                    if attempt == 2 or not self._conn.closed:
                        raise FeedbackError(f"{redact(self.target)}: {exc}") from exc
                except self._psycopg.Error as exc:
                    raise FeedbackError(f"{redact(self.target)}: {exc}") from exc
        raise AssertionError("unreachable")

    def add(self, record: dict[str, Any]) -> int:
        sql = _INSERT.replace("{p}", "%s") + " RETURNING id"
        return int(self._run(sql, self._values(record))[0])

    def count(self) -> int:
        return int(self._run("SELECT COUNT(*) FROM feedback")[0])

    def rows(self) -> Iterator[dict[str, Any]]:
        rows = self._run(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id", fetch="all")
        for row in rows:
            yield self._decode(row)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def open_store(target: str | Path | None = None) -> FeedbackStore:
    """Open (creating if needed) the store at a file path or ``postgresql://`` URL."""
    target = str(target) if target else default_target()
    if is_url(target):
        return PostgresStore(target)
    if "://" in target:
        raise FeedbackError(
            f"{target.split('://', 1)[0]}:// is not a supported feedback store; "
            "use a file path or a postgresql:// URL"
        )
    return SQLiteStore(target)


# ---------------------------------------------------------------------------
# Export to a training corpus
# ---------------------------------------------------------------------------


def corpus_records(
    rows: Iterator[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Fold feedback rows into one training record per article.

    The latest feedback for an article wins (an editor may save a story several times);
    its tags are the ones the editor kept plus the ones they added. Returns the records
    (``id``, ``title``, ``body``, ``date``, ``tags``, ``rejected``: what ``newstag train``
    reads) and ``(article_id, reason)`` for each article left out.
    """
    latest: dict[str, dict[str, Any]] = {}
    text: dict[str, tuple[str, str, str | None]] = {}
    for row in rows:
        aid = row["article_id"]
        latest.pop(aid, None)  # keep the order of each article's latest record
        latest[aid] = row
        if (row.get("title") or "").strip() or (row.get("body") or "").strip():
            text[aid] = (row.get("title") or "", row.get("body") or "", row.get("date"))
    records: list[dict[str, Any]] = []
    skipped: list[tuple[str, str]] = []
    for aid, row in latest.items():
        tags = list(dict.fromkeys(t for t in row["accepted"] + row["added"] if t.strip()))
        if aid not in text:
            skipped.append((aid, "no article text (send title and body with the feedback)"))
            continue
        if not tags:
            skipped.append((aid, "the editor kept and added no tags"))
            continue
        title, body, date = text[aid]
        rejected = [t for t in dict.fromkeys(row["rejected"]) if t not in tags]
        records.append(
            {
                "id": aid,
                "title": title,
                "body": body,
                "date": row.get("date") or date,
                "tags": tags,
                "rejected": rejected,
            }
        )
    return records, skipped


def export_corpus(store: FeedbackStore, out: TextIO) -> tuple[int, list[tuple[str, str]]]:
    """Write the training corpus as JSON lines; return (records written, skipped articles)."""
    records, skipped = corpus_records(store.rows())
    for rec in records:
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return len(records), skipped
