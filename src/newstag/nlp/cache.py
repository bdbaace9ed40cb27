"""Entity extraction for corpora, cached on disk by text hash and pipeline fingerprint
(a hash of the NER's files and the grouping rules' version).

Retraining with other settings reuses the cached entities instead of rerunning spaCy.
The cache is a SQLite file in ``$NEWSTAG_CACHE_DIR`` (default ``~/.cache/newstag``);
set ``NEWSTAG_CACHE_DIR=off`` to disable it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from newstag.paths import cache_dir

CACHE_VERSION = "1"
"""Bump when the stored entity format changes."""


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def entity_info(entity: Any) -> dict[str, Any]:
    """A compact dict of what the model uses from an :class:`newstag.nlp.entities.Entity`."""
    if isinstance(entity, dict):
        mentions = entity.get("mentions") or []
        return {
            "name": entity["name"], "type": entity.get("type", ""),
            "salience": float(entity.get("salience", 0.0)),
            "count": int(entity.get("count", len(mentions)) or len(mentions)),
            "in_headline": bool(entity.get("in_headline")), "in_lead": bool(entity.get("in_lead")),
            "country": entity.get("country"), "aliases": sorted(entity.get("aliases") or []),
            "mentions": [[m["text"], m["start"], m["end"]] if isinstance(m, dict) else list(m)
                         for m in mentions],
        }
    return {
        "name": entity.name, "type": entity.type, "salience": float(entity.salience),
        "count": int(entity.count), "in_headline": bool(entity.in_headline),
        "in_lead": bool(entity.in_lead), "country": entity.country,
        "aliases": sorted(entity.aliases),
        "mentions": [[m.text, m.start, m.end] for m in entity.mentions],
    }


class EntityCache:
    """A key-value store ``(pipeline, text hash) -> entity infos`` in SQLite."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(str(path), timeout=60)
                self._db.execute("CREATE TABLE IF NOT EXISTS ents (pipeline TEXT, key TEXT, "
                                 "value TEXT, PRIMARY KEY (pipeline, key))")
            except (OSError, sqlite3.Error):
                self._db = None

    def get_many(self, pipeline: str, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        if self._db is None:
            return {}
        found: dict[str, list[dict[str, Any]]] = {}
        keys = list(dict.fromkeys(keys))
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, value FROM ents WHERE pipeline=? AND key IN ({marks})",
                [pipeline, *chunk])
            found.update((k, json.loads(v)) for k, v in rows)
        return found

    def put_many(self, pipeline: str, items: dict[str, list[dict[str, Any]]]) -> None:
        if self._db is None or not items:
            return
        try:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO ents VALUES (?, ?, ?)",
                    [(pipeline, k, json.dumps(v, separators=(",", ":"))) for k, v in
                     items.items()])
        except sqlite3.Error:
            pass

    def close(self) -> None:
        if self._db is not None:
            self._db.close()


def extract_entities(articles: Sequence[Any], pipeline: str | None = None, n_process: int = 1,
                     batch_size: int = 64, use_cache: bool = True,
                     progress: Callable[[int, int], None] | None = None
                     ) -> list[list[dict[str, Any]]]:
    """Entity infos for each article (objects with ``title``/``body``/``text``), in order."""
    from newstag.nlp.entities import EntityExtractor, pipeline_fingerprint

    extractor = EntityExtractor(pipeline)
    tag = f"{pipeline_fingerprint(extractor.pipeline_name)}|v{CACHE_VERSION}"
    folder = cache_dir() if use_cache else None
    cache = EntityCache(folder / "entities.sqlite3" if folder else None)
    keys = [text_key(a.text) for a in articles]
    found = cache.get_many(tag, keys)
    todo = [i for i, k in enumerate(keys) if k not in found]
    if todo:
        from newstag.io.article import Article

        chunk = 2000
        for start in range(0, len(todo), chunk):
            idx = todo[start:start + chunk]
            batch = [Article(title=articles[i].title, body=articles[i].body) for i in idx]
            fresh: dict[str, list[dict[str, Any]]] = {}
            n_proc = n_process if len(batch) >= 200 else 1
            for i, ents in zip(idx, extractor.extract_many(batch, batch_size=batch_size,
                                                           n_process=n_proc), strict=True):
                fresh[keys[i]] = [entity_info(e) for e in ents]
            cache.put_many(tag, fresh)
            found.update(fresh)
            if progress:
                progress(min(start + chunk, len(todo)), len(todo))
    cache.close()
    return [found[k] for k in keys]
