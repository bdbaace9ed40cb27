"""Public read-only endpoints that describe what the service knows, used by the review page
and open to any client like the rest of the API:

- ``GET /v1/model``: which model answers (name, version, vocabulary size, related index);
- ``GET /v1/tags?prefix=``: the model's tag vocabulary, for a type-ahead;
- ``GET /v1/tags/check?tag=``: how a tag an editor adds is spelled, whether the model knows it
  and whether the house rules (the service's ``rules`` setting) allow it;
- ``POST /v1/article``: the headline and body newstag reads from an article (what the
  cleaner kept and dropped), so a client can show the text that tag offsets point into;
- ``GET /v1/related/items/{id}``: one headline of the related-headlines index.

This module holds the answers' shapes and the work; :mod:`newstag.service.routers.catalog` the
endpoints.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from newstag.service import worker
from newstag.service.worker import ApiError


class TagOut(BaseModel):
    tag: str
    type: str = Field(..., description="person, place, organisation or topic.")
    count: int = Field(..., description="Training articles with this tag.")


class TagsOut(BaseModel):
    tags: list[TagOut]
    total: int = Field(..., description="Tags matching the prefix (more than returned).")
    vocabulary: int = Field(..., description="Tags the model knows.")


class TagCheckOut(BaseModel):
    tag: str = Field(
        ...,
        description="The house form: the vocabulary's spelling, after the house rules' spellings.",
    )
    type: str = Field(..., description="The tag's type in the vocabulary; `topic` for new text.")
    known: bool = Field(..., description="The model's vocabulary has this tag.")
    allowed: bool = Field(..., description="The house rules let this tag through.")
    reason: str | None = Field(None, description="Why the house rules refuse it.")


class IndexInfo(BaseModel):
    loaded: bool = Field(..., description="False while the model processes still load it.")


class ModelOut(BaseModel):
    name: str = Field(..., description="`default`, a bundle directory name, or `none`.")
    mode: str = Field(..., description="`model` (trained) or `entities` (entity tags only).")
    version: str | None = Field(
        None,
        description="First 12 hex digits of the bundle manifest's sha256 (null without a model).",
    )
    created: str | None = Field(None, description="When the model was trained (UTC).")
    vocabulary: int = Field(..., description="Tags the model knows.")
    pipeline: str | None = None
    newstag: str = Field(..., description="Version of the running service.")
    house_rules: bool = Field(False, description="House rules apply to tags.")
    index: IndexInfo | None = Field(
        None, description="Related-headlines index, when one is configured."
    )


class DroppedOut(BaseModel):
    line: int
    text: str
    reason: str


class ArticleOut(BaseModel):
    title: str
    body: str
    text: str = Field(
        ...,
        description="title + blank line + body: the text that tag and entity offsets point into.",
    )
    dropped: list[DroppedOut] = Field(
        default_factory=list, description="Lines the cleaner left out, with why."
    )
    warnings: list[str] = Field(default_factory=list)


class ItemOut(BaseModel):
    id: str
    headline: str
    lead: str = ""
    date: str | None = None
    url: str | None = None
    tags: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------------------
# The model's card and vocabulary (read from the bundle's manifest, once)
# ---------------------------------------------------------------------------


def bundle_dir(model: str | None) -> Path | None:
    """The bundle folder the setting names, or None for entities-only."""
    from newstag.paths import model_dir

    path = model_dir(model)
    return path if path is not None and (path / "manifest.json").exists() else None


def model_card(model: str | None, has_model: bool = True) -> dict[str, Any]:
    """Name, version and tag vocabulary of the model the settings name."""
    folder = bundle_dir(model) if has_model else None
    card: dict[str, Any] = {
        "name": "none",
        "mode": "entities",
        "version": None,
        "created": None,
        "pipeline": None,
        "vocab": [],
    }
    if folder is None:
        return card
    from newstag.tagging.bundle import read_manifest

    manifest = read_manifest(folder)
    digest = hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    labels = manifest.get("labels") or {}
    card.update(
        name="default" if model in (None, "default") else folder.name,
        mode="model",
        version=digest[:12],
        created=manifest.get("created"),
        pipeline=manifest.get("pipeline"),
        vocab=sorted(
            (
                (t, (v or {}).get("type") or "topic", int((v or {}).get("count", 0)))
                for t, v in labels.items()
            ),
            key=lambda x: (-x[2], x[0]),
        ),
    )
    return card


def match_tags(vocab: list[tuple[str, str, int]], prefix: str) -> list[tuple[str, str, int]]:
    """Tags starting with ``prefix`` (case-insensitive), then tags with a later word starting
    with it; most frequent first within each group. An empty prefix matches every tag."""
    p = prefix.strip().casefold()
    if not p:
        return list(vocab)
    starts, words = [], []
    for item in vocab:
        name = item[0].casefold()
        if name.startswith(p):
            starts.append(item)
        elif any(w.startswith(p) for w in name.replace("-", " ").split()[1:]):
            words.append(item)
    return starts + words


def house_rules(settings: Any) -> Any:
    """The service's house rules (``Settings.rules``, a TOML file, ``none``, else the
    model bundle's own), or None."""
    from newstag.paths import model_dir
    from newstag.tagging.bundle_rules import effective_rules

    folder = model_dir(getattr(settings, "model", None))
    return effective_rules(getattr(settings, "rules", None) or None, folder)


def house_vocab(vocab: list[tuple[str, str, int]], rules: Any) -> list[tuple[str, str, int]]:
    """The vocabulary as the house rules spell and allow it (each tag on its own: the rules'
    per-type caps limit one article's tags, not the vocabulary)."""
    if rules is None:
        return vocab
    out: list[tuple[str, str, int]] = []
    seen: set[str] = set()
    for tag, kind, count in vocab:
        kept = rules.apply([{"tag": tag, "type": kind}])
        if kept and kept[0]["tag"].casefold() not in seen:
            seen.add(kept[0]["tag"].casefold())
            out.append((kept[0]["tag"], kind, count))
    return out


def refusal(rules: Any, tag: dict[str, Any]) -> str:
    """Why the house rules drop ``tag``, in a few words."""
    names = {tag["tag"].casefold(), (tag.get("model_tag") or tag["tag"]).casefold()}
    if names & set(getattr(rules, "deny", ())):
        return "the house rules deny this tag"
    if getattr(rules, "vocabulary", None) and not names & set(rules.vocabulary):
        return "not in the house vocabulary"
    if tag.get("new") and not getattr(rules, "new_tags", True):
        return "the house rules allow no new tags"
    if tag.get("new"):
        return f"the house rules allow no new {tag['type']} tags"
    return f"the house rules do not allow {tag['type']} tags"


def check_tag(text: str, vocab: list[tuple[str, str, int]], rules: Any) -> dict[str, Any]:
    """How an added tag is spelled, whether the model knows it and the house rules allow it."""
    name = " ".join(text.split())
    known = {t.casefold(): (t, kind) for t, kind, _ in vocab}
    hit = known.get(name.casefold())
    tag = {"tag": hit[0] if hit else name, "type": hit[1] if hit else "topic", "new": not hit}
    if rules is not None:
        kept = rules.apply([tag])
        if not kept:
            return {
                "tag": tag["tag"],
                "type": tag["type"],
                "known": bool(hit),
                "allowed": False,
                "reason": refusal(rules, tag),
            }
        tag = kept[0]
    return {
        "tag": tag["tag"],
        "type": tag["type"],
        "known": bool(hit),
        "allowed": True,
        "reason": None,
    }


def card(state: Any) -> dict[str, Any]:
    """The model card of ``state``'s settings with the house vocabulary, read once per
    worker (503 when the bundle or the house rules cannot be read)."""
    if "card" not in state.catalog:
        has_model = state.tagger is None or getattr(state.tagger, "model", None) is not None
        try:
            found = model_card(state.settings.model, has_model)
            rules = house_rules(state.settings)
        except Exception as exc:  # noqa: BLE001 (a broken bundle: say so, once per call)
            raise ApiError(503, f"cannot read the model or the house rules: {exc}") from None
        state.catalog["card"] = {
            **found,
            "rules": rules,
            "model_vocab": found["vocab"],
            "vocab": house_vocab(found["vocab"], rules),
        }
    return state.catalog["card"]


# ---------------------------------------------------------------------------
# Work that needs the loaded index (in this process or in a model process)
# ---------------------------------------------------------------------------


def related_item(tagger: Any, index: Any, item_id: str) -> dict[str, Any]:
    """One row of the related index as a dict (ApiError 404 when unknown)."""
    if index is None:
        raise ApiError(
            404, "no related-headlines index is configured; start the service with --index DIR"
        )
    pos = index.id_pos_.get(item_id)
    row = index.rows_[pos] if pos is not None else None
    if row is None or not row.alive:
        raise ApiError(404, f"no item {item_id!r} in the related-headlines index")
    return {
        "id": row.id,
        "headline": row.headline,
        "lead": row.lead,
        "date": row.date,
        "url": row.url,
        "tags": list(row.tags),
    }


def read_article(record: dict[str, Any], allow: bool) -> dict[str, Any]:
    """The cleaned article as JSON-ready dict (ApiError 422 for bad input)."""
    from dataclasses import asdict

    article = worker.to_article(record, "request", allow)
    return {
        "title": article.title,
        "body": article.body,
        "text": article.text,
        "dropped": [asdict(d) for d in article.dropped],
        "warnings": list(article.warnings),
    }
