"""Entity extraction for corpora, cached on disk by text hash and :func:`cache_key`.

The key of cached entities is a hash of everything that decides them: the NER's files
(:func:`newstag.nlp.pipeline.pipeline_fingerprint`), the normalisation rules (the source
of each rule in :data:`newstag.nlp.normalise.MENTION_RULES` and ``RESOLVERS``, and of the
extraction modules) and the tables (gazetteer sources, salience weights, grouping tables).
Change any of them and the entities are extracted again; retraining with other settings
reuses them instead of rerunning spaCy.

The cache is a SQLite file in ``$NEWSTAG_CACHE_DIR`` (default ``~/.cache/newstag``);
set ``NEWSTAG_CACHE_DIR=off`` to disable it.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from newstag.paths import cache_dir

CACHE_VERSION = "1"
"""Bump when the stored entity format changes."""
EXTRACTION_MODULES = (
    "newstag.nlp.entities",
    "newstag.nlp.mentions",
    "newstag.nlp.normalise",
    "newstag.nlp.grouping",
    "newstag.nlp.salience",
    "newstag.nlp.chunks",
    "newstag.nlp.gazetteer",
)
"""The modules whose code turns NER spans into entities: their source is part of the key."""


def cache_key(pipeline: str | None = None) -> str:
    """``pipeline@files+rules|vN``: entities cached under one key were found by exactly this
    NER, these rules and these tables, in this storage format."""
    from newstag.nlp.pipeline import pipeline_fingerprint

    return f"{pipeline_fingerprint(pipeline)}+{rules_fingerprint()}|v{CACHE_VERSION}"


def rules_fingerprint() -> str:
    """A short hash of the normalisation rules and the tables (see the module docstring)."""
    digest = hashlib.sha256()
    for part in (*_rule_sources(), *_table_sources()):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _source(obj: Any) -> str:
    """The source code of a function or module (its compiled code if there is no source)."""
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        code = getattr(obj, "__code__", None)
        return repr((code.co_code, code.co_consts)) if code else repr(obj)


def _rule_sources() -> Iterator[str]:
    """The rules in order, each by name and source, then the extraction modules' source."""
    from newstag.nlp import normalise

    for rule in (*normalise.MENTION_RULES, *normalise.RESOLVERS):
        yield f"{rule.__module__}.{rule.__qualname__}"
        yield _source(rule)
    for name in EXTRACTION_MODULES:
        yield _source(importlib.import_module(name))


def _table_sources() -> Iterator[str]:
    """The tables the rules read, as text: gazetteer sources, salience weights, grouping and
    normalisation tables, and the spaCy version (its stop words split headlines)."""
    from newstag.nlp import gazetteer, grouping, normalise, salience

    yield gazetteer.tables_fingerprint()
    yield repr(sorted(salience.salience_weights().as_dict().items()))
    yield repr((sorted(grouping.REGIONS), sorted(grouping.AFFILIATIONS), grouping.SPLIT_LABELS))
    yield repr((sorted(normalise.LABELS.items()), normalise.MIN_PLACE_POPULATION))
    try:
        yield f"spacy-{metadata.version('spacy')}"
    except metadata.PackageNotFoundError:
        yield "spacy-none"


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def entity_info(entity: Any) -> dict[str, Any]:
    """A compact dict of what the model uses from an :class:`newstag.nlp.entities.Entity`."""
    if isinstance(entity, dict):
        mentions = entity.get("mentions") or []
        return {
            "name": entity["name"],
            "type": entity.get("type", ""),
            "salience": float(entity.get("salience", 0.0)),
            "count": int(entity.get("count", len(mentions)) or len(mentions)),
            "in_headline": bool(entity.get("in_headline")),
            "in_lead": bool(entity.get("in_lead")),
            "country": entity.get("country"),
            "aliases": sorted(entity.get("aliases") or []),
            "mentions": [
                [m["text"], m["start"], m["end"]] if isinstance(m, dict) else list(m)
                for m in mentions
            ],
        }
    return {
        "name": entity.name,
        "type": entity.type,
        "salience": float(entity.salience),
        "count": int(entity.count),
        "in_headline": bool(entity.in_headline),
        "in_lead": bool(entity.in_lead),
        "country": entity.country,
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
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS ents (pipeline TEXT, key TEXT, "
                    "value TEXT, PRIMARY KEY (pipeline, key))"
                )
            except (OSError, sqlite3.Error):
                self._db = None

    def get_many(self, pipeline: str, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        if self._db is None:
            return {}
        found: dict[str, list[dict[str, Any]]] = {}
        keys = list(dict.fromkeys(keys))
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, value FROM ents WHERE pipeline=? AND key IN ({marks})",
                [pipeline, *chunk],
            )
            found.update((k, json.loads(v)) for k, v in rows)
        return found

    def put_many(self, pipeline: str, items: dict[str, list[dict[str, Any]]]) -> None:
        if self._db is None or not items:
            return
        try:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO ents VALUES (?, ?, ?)",
                    [(pipeline, k, json.dumps(v, separators=(",", ":"))) for k, v in items.items()],
                )
        except sqlite3.Error:
            pass

    def close(self) -> None:
        if self._db is not None:
            self._db.close()


def extract_entities(
    articles: Sequence[Any],
    pipeline: str | None = None,
    n_process: int = 1,
    batch_size: int = 64,
    use_cache: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> list[list[dict[str, Any]]]:
    """Entity infos for each article (objects with ``title``/``body``/``text``), in order."""
    from newstag.nlp.entities import EntityExtractor

    extractor = EntityExtractor(pipeline)
    tag = cache_key(extractor.pipeline_name)
    folder = cache_dir() if use_cache else None
    cache = EntityCache(folder / "entities.sqlite3" if folder else None)
    keys = [text_key(a.text) for a in articles]
    found = cache.get_many(tag, keys)
    todo = [i for i, k in enumerate(keys) if k not in found]
    if todo:
        from newstag.io.article import Article

        chunk = 2000
        for start in range(0, len(todo), chunk):
            idx = todo[start : start + chunk]
            batch = [Article(title=articles[i].title, body=articles[i].body) for i in idx]
            fresh: dict[str, list[dict[str, Any]]] = {}
            n_proc = n_process if len(batch) >= 200 else 1
            for i, ents in zip(
                idx,
                extractor.extract_many(batch, batch_size=batch_size, n_process=n_proc),
                strict=True,
            ):
                fresh[keys[i]] = [entity_info(e) for e in ents]
            cache.put_many(tag, fresh)
            found.update(fresh)
            if progress:
                progress(min(start + chunk, len(todo)), len(todo))
    cache.close()
    return [found[k] for k in keys]
