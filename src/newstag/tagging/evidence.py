"""Evidence a person reads: the mentions that name a tag and the words that drove it, never
internal feature names."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from newstag.tagging.linker import norm

if TYPE_CHECKING:  # pragma: no cover
    from newstag.tagging import TagModel

_FEATURE = re.compile(r"^[a-z_]+:")
"""An internal feature name ("entity:Italy"), not a word of the article."""


def mention_evidence(info: dict[str, Any], tag: str, limit: int = 3) -> list[dict[str, Any]]:
    out = []
    for text, start, end in info.get("mentions", [])[:limit]:
        item: dict[str, Any] = {"kind": "mention", "text": text, "start": start, "end": end}
        if info["name"] != tag:
            item["via"] = info["name"]
        out.append(item)
    return out


def human_evidence(evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop internal feature names ("entity:Italy"): the mentions say it in words."""
    return [ev for ev in evidence if ev["kind"] != "term" or not _FEATURE.match(ev["text"])]


def identity_first(mentions: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """Mentions that carry the full name first ("Kim Jong Un" before "Kim")."""
    full = len(name.split())
    return sorted(mentions, key=lambda m: len(m["text"].split()) < full)


def label_words(tag: str, text: str, limit: int = 3) -> list[dict[str, Any]]:
    """The tag's own words where the article writes them (a classifier tag with no terms)."""
    low = text.lower()
    out: list[dict[str, Any]] = []
    for word in dict.fromkeys(w for w in norm(tag).split() if len(w) > 3):
        stem = word[: max(4, len(word) - 2)]
        pos = low.find(stem)
        if pos >= 0:
            end = pos + len(stem)
            while end < len(text) and text[end].isalnum():
                end += 1
            out.append({"kind": "term", "text": text[pos:end], "start": pos, "end": end})
        if len(out) >= limit:
            break
    return out


def top_words(model: TagModel, x: tuple[Any, Any] | None, n: int = 3) -> list[dict[str, Any]]:
    """The article's most distinctive words (what its neighbours were found by)."""
    if x is None:
        return []
    import numpy as np

    cols, vals = x
    names = model.term_names()
    order = np.argsort(-vals)
    words = [str(names[cols[o]]) for o in order if ":" not in str(names[cols[o]])]
    return [{"kind": "term", "text": w, "via": "similar articles"} for w in words[:n]]
