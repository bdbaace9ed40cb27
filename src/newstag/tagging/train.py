"""Train a TagModel from corpus records: extract (cached) entities, fit, save a bundle."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from newstag.io.corpus import CorpusRecord

log = logging.getLogger(__name__)


def corpus_checksum(records: Sequence[CorpusRecord]) -> dict[str, Any]:
    """sha256 over ids, texts and tags, with the corpus size."""
    h = hashlib.sha256()
    n_bytes = 0
    for r in records:
        chunk = "\x1e".join([r.id, r.text, "\x1f".join(r.tags)]).encode("utf-8")
        n_bytes += len(chunk)
        h.update(chunk + b"\x1d")
    return {"sha256": h.hexdigest(), "articles": len(records), "bytes": n_bytes}


def train_model(
    records: Sequence[CorpusRecord],
    out: str | Path | None = None,
    pipeline: str | None = None,
    n_process: int = 1,
    use_cache: bool = True,
    corpus_name: str = "",
    aliases: dict[str, Sequence[str]] | None = None,
    aliases_source: str = "",
    training_config: dict[str, Any] | None = None,
    rules: str | Path | None = None,
    **params: Any,
) -> Any:
    """Fit a :class:`TagModel` on ``records``; save it to ``out`` when given.

    ``aliases`` (tag -> other names, see :func:`newstag.io.corpus.read_tag_aliases`) feed the
    linker's string matching; they are stored in the bundle with the linker. Progress lines
    go to this module's logger. ``training_config``
    (:func:`newstag.tagging.config.config_record`) goes into the manifest. ``rules`` (a
    house rules file) is checked first and copied into the bundle
    (:mod:`newstag.tagging.bundle_rules`). The records' dates place the combiner's
    held-out folds when ``fold_split="date"``.
    """
    from newstag.nlp.cache import extract_entities
    from newstag.nlp.pipeline import resolve_pipeline_name
    from newstag.tagging.tagmodel import TagModel

    if rules is not None:  # a bad rules file fails before the long part
        from newstag.tagging.house_rules import load_rules

        load_rules(rules)
    t0 = time.perf_counter()
    pipeline_name = resolve_pipeline_name(pipeline)
    ents = extract_entities(
        records,
        pipeline_name,
        n_process=n_process,
        use_cache=use_cache,
        progress=lambda a, b: log.info(
            f"entities: {a:,}/{b:,} new articles ({time.perf_counter() - t0:.0f}s)"
        ),
    )
    t_ents = time.perf_counter() - t0
    log.info(f"entities ready ({t_ents:.1f}s)")
    model = TagModel(**params).fit(
        [r.text for r in records],
        ents,
        [r.tags for r in records],
        pipeline=pipeline_name,
        aliases=aliases,
        dates=[r.date for r in records],
    )
    used = model.linker_.aliases_
    n_used = sum(map(len, used.values()))
    if aliases:
        log.info(
            f"tag aliases: {n_used:,} aliases of {len(used):,} known tags "
            f"used ({len(aliases):,} tags in the alias list)"
        )
    model.train_seconds_ = round(time.perf_counter() - t0, 2)
    if out is not None:
        from newstag.tagging.bundle import save_model
        from newstag.tagging.evaluate import pack_fingerprints

        corpus = {
            "name": corpus_name,
            **corpus_checksum(records),
            "article_fingerprints": pack_fingerprints(records),
        }  # for eval's overlap check
        extra: dict[str, Any] = {
            "train_seconds": model.train_seconds_,
            "entity_seconds": round(t_ents, 2),
        }
        if training_config:
            extra["training_config"] = training_config
        if aliases:
            extra["tag_aliases"] = {"source": aliases_source, "tags": len(used), "aliases": n_used}
        manifest = save_model(model, out, corpus=corpus, extra=extra)
        if rules is not None:
            from newstag.tagging.bundle import read_manifest
            from newstag.tagging.bundle_rules import write_rules

            write_rules(Path(out), read_manifest(manifest.parent), rules)
    return model
