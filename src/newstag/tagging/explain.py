"""Explanations, apart from scoring: why a ranked candidate tag was suggested.

Two kinds of evidence: the classifier's strongest terms for the tag in the article (its
weights times the article's TF-IDF values) and the mentions of the entities that point to
the tag (string matches first, the strongest links next).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from newstag.tagging.tagmodel import TagModel

TYPE_OF_ENTITY = {"person": "person", "place": "place", "organisation": "organisation"}
Row = tuple[np.ndarray, np.ndarray]
"""An article's feature columns and values."""


def classifier_terms(model: TagModel, tag: str, x: Row, n: int = 5) -> list[dict[str, Any]]:
    """The classifier's strongest positive terms for ``tag`` in this article.

    The products with the tag's weights are taken in increasing column order, as the sparse
    product gives them.
    """
    clf = model.clf_
    j = clf.label_index().get(tag) if clf is not None else None
    if j is None:
        return []
    coef = clf.coef_
    lo, hi = coef.indptr[j], coef.indptr[j + 1]
    x_cols, x_vals = x
    cols, in_x, in_w = np.intersect1d(
        x_cols, coef.indices[lo:hi], assume_unique=True, return_indices=True
    )
    data = x_vals[in_x] * coef.data[lo:hi][in_w]
    nonzero = data != 0
    data, cols = data[nonzero], cols[nonzero]
    if not len(data):
        return []
    order = np.argsort(-data)[:n]
    names = model.term_names()
    return [
        {"kind": "term", "text": str(names[cols[o]]), "weight": round(float(data[o]), 4)}
        for o in order
        if data[o] > 0
    ]


def entity_mentions(
    ev: dict[str, Any], by_name: dict[str, dict[str, Any]], tag: str
) -> list[dict[str, Any]]:
    """Mentions of the (up to 3) strongest entities that point to the tag."""
    strength = ev.get("strength") or {}
    names = sorted(ev["entities"], key=lambda n: -strength.get(n, 1.0))
    shown = [n for n in names if strength.get(n, 1.0) >= 0.5][:3] or names[:1]
    out: list[dict[str, Any]] = []
    for name in shown:
        info = by_name.get(name)
        if info is None:
            continue
        for text, start, end in info["mentions"][:3]:
            item: dict[str, Any] = {"kind": "mention", "text": text, "start": start, "end": end}
            if name != tag:
                item["via"] = name
            out.append(item)
    return out


def candidate_evidence(
    model: TagModel, cand: dict[str, Any], by_name: dict[str, dict[str, Any]], x: Row | None
) -> tuple[list[dict[str, Any]], bool]:
    """A candidate's evidence, and whether the classifier's terms are part of it."""
    evidence: list[dict[str, Any]] = []
    has_terms = False
    if x is not None and model.clf_ is not None and not cand["new"]:
        terms = classifier_terms(model, cand["tag"], x)
        has_terms = bool(terms)
        evidence += terms
    if cand["ev"]:
        evidence += entity_mentions(cand["ev"], by_name, cand["tag"])
    return evidence, has_terms


def tag_dict(
    model: TagModel, cand: dict[str, Any], by_name: dict[str, dict[str, Any]], x: Row | None
) -> dict[str, Any]:
    """The public tag dict of a chosen candidate (``x``: the article's feature row, when
    the classifier's terms explain it)."""
    tag, ev, new = cand["tag"], cand["ev"], cand["new"]
    evidence, has_terms = candidate_evidence(model, cand, by_name, x)
    if new or (ev and not has_terms):
        source = "entity"
    elif ev:
        source = "classifier+entity"
    else:
        source = "classifier"
    etype = ev.get("entity_type") if new and ev else model.tag_types_.get(tag, "topic")
    out = {
        "tag": tag,
        "type": TYPE_OF_ENTITY.get(etype or "", "topic"),
        "score": round(float(cand["score"]), 4),
        "source": source,
        "evidence": evidence,
    }
    if new:
        out["new"] = True
    return out
