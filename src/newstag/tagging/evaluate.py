"""Evaluate tag suggestions against a tagged corpus: micro/macro P/R/F1, P@k, R@k, per tag.

Gold tags the model never saw count as misses (they are never skipped). A model's bundle
records a fingerprint of every training article (:func:`pack_fingerprints`), so an evaluation
can say how much of the test corpus the model was trained on (:func:`training_overlap`).
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

KS = (1, 3, 5)
PLOT_TAGS = 30
"""Most tags the per-tag F1 chart shows."""
_DIGEST = 8  # bytes kept of each article's sha256: no chance collisions at corpus sizes
_SPACE = re.compile(r"\s+")


@dataclass
class Evaluation:
    """Scores of a set of predictions; ``per_tag`` rows hold tag, support, tp, fp, fn, P, R, F1."""

    metrics: dict[str, Any]
    per_tag: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.metrics)


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def evaluate(
    gold: Sequence[Iterable[str]],
    predicted: Sequence[Iterable[str]],
    ranked: Sequence[Sequence[str]] | None = None,
    labels: Iterable[str] | None = None,
    known: Iterable[str] | None = None,
) -> Evaluation:
    """Score ``predicted`` tag sets against ``gold``.

    ``ranked`` (best first, beyond the threshold) gives P@k and R@k; without it the
    predicted lists are used. ``labels`` restricts scoring to a label set (e.g. the 90
    Reuters categories); macro averages run over the labels with gold support (or all of
    ``labels`` when given). ``known`` (the model's labels) adds the share of unseen gold tags.
    """
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted have different lengths")
    keep = set(labels) if labels is not None else None
    golds = [set(g) & keep if keep is not None else set(g) for g in gold]
    preds = [set(p) & keep if keep is not None else set(p) for p in predicted]
    ranks = [list(r) for r in (ranked if ranked is not None else predicted)]
    if keep is not None:
        ranks = [[t for t in r if t in keep] for r in ranks]
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for g, p in zip(golds, preds, strict=True):
        for t in p & g:
            tp[t] += 1
        for t in p - g:
            fp[t] += 1
        for t in g - p:
            fn[t] += 1
    n_docs = len(golds)
    micro_p, micro_r, micro_f = _prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    support = Counter(t for g in golds for t in g)
    macro_labels = sorted(keep) if keep is not None else sorted(support)
    rows = []
    for t in sorted(set(macro_labels) | set(fp)):
        p, r, f = _prf(tp[t], fp[t], fn[t])
        rows.append(
            {
                "tag": t,
                "support": support[t],
                "predicted": tp[t] + fp[t],
                "tp": tp[t],
                "fp": fp[t],
                "fn": fn[t],
                "precision": round(p, 4),
                "recall": round(r, 4),
                "f1": round(f, 4),
            }
        )
    in_macro = [row for row in rows if row["tag"] in set(macro_labels)]
    m = len(in_macro) or 1
    metrics: dict[str, Any] = {
        "n_docs": n_docs,
        "n_tags": len(support),
        "n_gold": sum(support.values()),
        "n_predicted": sum(len(p) for p in preds),
        "micro_precision": round(micro_p, 4),
        "micro_recall": round(micro_r, 4),
        "micro_f1": round(micro_f, 4),
        "macro_precision": round(sum(r["precision"] for r in in_macro) / m, 4),
        "macro_recall": round(sum(r["recall"] for r in in_macro) / m, 4),
        "macro_f1": round(sum(r["f1"] for r in in_macro) / m, 4),
    }
    docs_with_gold = [i for i, g in enumerate(golds) if g] or [0]
    for k in KS:
        hits = [len(set(ranks[i][:k]) & golds[i]) for i in range(n_docs)]
        # P@k over articles with gold tags, dividing by k (the usual definition)
        metrics[f"p_at_{k}"] = (
            round(sum(hits[i] / k for i in docs_with_gold if n_docs) / len(docs_with_gold), 4)
            if n_docs
            else 0.0
        )
        metrics[f"r_at_{k}"] = (
            round(
                sum(hits[i] / len(golds[i]) for i in docs_with_gold if n_docs and golds[i])
                / len(docs_with_gold),
                4,
            )
            if n_docs
            else 0.0
        )
    if known is not None:
        known_set = set(known)
        unseen = sum(n for t, n in support.items() if t not in known_set)
        metrics["unseen_gold_share"] = round(unseen / max(sum(support.values()), 1), 4)
    return Evaluation(metrics, rows)


def evaluate_model(
    model: Any,
    records: Sequence[Any],
    entities: Sequence[Sequence[Any]],
    labels: Iterable[str] | None = None,
    k_max: int = 10,
) -> tuple[Evaluation, list[list[dict[str, Any]]]]:
    """Run a TagModel over corpus records with their entities; return scores and rankings."""
    ranked = model.rank_batch([r.text for r in records], entities)
    cut = model.threshold_
    predicted = [[c["tag"] for c in cands if c["score"] >= cut] for cands in ranked]
    order = [[c["tag"] for c in cands[:k_max]] for cands in ranked]
    ev = evaluate(
        [r.tags for r in records], predicted, order, labels=labels, known=model.tag_counts_
    )
    return ev, ranked


def suggested_tags(
    model: Any,
    records: Sequence[Any],
    entities: Sequence[Sequence[Any]],
    top_k: int = 10,
    rules: Any = None,
    batch_size: int = 64,
) -> list[list[dict[str, Any]]]:
    """The tag dicts ``newstag suggest`` returns for each record (the model's tags and the
    story's own entities assembled, house rules last), from the records' entities.

    ``rules``: house rules as :func:`newstag.tagging.bundle_rules.effective_rules` takes
    them (``None``: the bundle's own, if any)."""
    from newstag.io.article import Article
    from newstag.tagging.assemble import assemble_batch
    from newstag.tagging.bundle_rules import effective_rules

    house = effective_rules(rules, getattr(model, "path_", None), getattr(model, "manifest_", None))
    pairs = [
        (
            Article(title=r.title, body=r.body, date=getattr(r, "date", None)),
            [_entity(e) for e in ents],
        )
        for r, ents in zip(records, entities, strict=True)
    ]
    out: list[list[dict[str, Any]]] = []
    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start : start + batch_size]
        out += assemble_batch(model, chunk, top_k=top_k, rules=house)
    return out


def evaluate_suggestions(
    model: Any,
    records: Sequence[Any],
    entities: Sequence[Sequence[Any]],
    labels: Iterable[str] | None = None,
    top_k: int = 10,
    rules: Any = None,
) -> tuple[Evaluation, list[list[dict[str, Any]]]]:
    """Score what ``newstag suggest`` returns (:func:`suggested_tags`): every tag shown is
    a prediction, in the order shown (P@k, R@k)."""
    ranked = suggested_tags(model, records, entities, top_k=top_k, rules=rules)
    tags = [[c["tag"] for c in cands] for cands in ranked]
    known = model.tag_counts_ if model is not None else None
    ev = evaluate([r.tags for r in records], tags, tags, labels=labels, known=known)
    return ev, ranked


def evaluate_entities(
    records: Sequence[Any],
    entities: Sequence[Sequence[Any]],
    labels: Iterable[str] | None = None,
    top_k: int = 10,
) -> tuple[Evaluation, list[list[dict[str, Any]]]]:
    """Score entity-only suggestions (``--model none``): the ``top_k`` tags that
    ``newstag suggest --model none`` gives are the predictions."""
    from newstag.tagging.tagger import entity_suggestions

    ranked = [entity_suggestions([_entity(e) for e in ents], top_k=top_k) for ents in entities]
    tags = [[c["tag"] for c in cands] for cands in ranked]
    ev = evaluate([r.tags for r in records], tags, tags, labels=labels)
    return ev, ranked


def _entity(info: Any) -> Any:
    """An :class:`newstag.nlp.entities.Entity` from an entity or its cached info dict."""
    from newstag.nlp.entities import Entity, Mention

    if not isinstance(info, dict):
        return info
    mentions = [
        Mention(*m) if isinstance(m, list) else Mention(m["text"], m["start"], m["end"])
        for m in info.get("mentions") or []
    ]
    return Entity(
        name=info["name"],
        type=info.get("type", ""),
        label=info.get("label", ""),
        mentions=mentions,
        salience=float(info.get("salience", 0.0)),
        in_headline=bool(info.get("in_headline")),
        in_lead=bool(info.get("in_lead")),
        country=info.get("country"),
        aliases=set(info.get("aliases") or []),
    )


# -- training-corpus fingerprints -------------------------------------------------------


def article_fingerprint(title: str, body: str) -> bytes:
    """A short digest of an article's normalised headline and body (Unicode NFKC, case-folded,
    whitespace collapsed), so a copy with other ids, tags or spacing is still recognised."""
    text = f"{title}\n{body}"
    norm = _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
    return hashlib.sha256(norm.encode("utf-8")).digest()[:_DIGEST]


def pack_fingerprints(records: Iterable[Any]) -> str:
    """The fingerprints of ``records`` (with ``title`` and ``body``), sorted, as one base64
    string for a bundle's manifest (8 bytes an article)."""
    digests = sorted({article_fingerprint(r.title, r.body) for r in records})
    return base64.b64encode(b"".join(digests)).decode("ascii")


def unpack_fingerprints(packed: str) -> set[bytes]:
    """The fingerprints that :func:`pack_fingerprints` stored."""
    raw = base64.b64decode(packed.encode("ascii"))
    return {raw[i : i + _DIGEST] for i in range(0, len(raw), _DIGEST)}


def training_overlap(records: Sequence[Any], manifest: dict[str, Any]) -> float | None:
    """Share of ``records`` that were in the bundle's training corpus (by fingerprint).

    Bundles without fingerprints (older newstag) only tell whether the whole corpus is the
    training corpus (same checksum): 1.0 then, else None (unknown).
    """
    corpus = manifest.get("corpus") or {}
    packed = corpus.get("article_fingerprints")
    if isinstance(packed, str):
        seen = unpack_fingerprints(packed)
        hits = sum(article_fingerprint(r.title, r.body) in seen for r in records)
        return hits / len(records) if records else 0.0
    if corpus.get("sha256"):
        from newstag.tagging.train import corpus_checksum

        if corpus_checksum(records)["sha256"] == corpus["sha256"]:
            return 1.0
    return None


# -- the plot ---------------------------------------------------------------------------


def per_tag_title(shown: int, total: int) -> str:
    """What the per-tag chart shows, with the real counts."""
    if shown >= total:
        return f"Per-tag F1 of all {total} gold tags"
    return f"Per-tag F1 of the {shown} most frequent of {total} gold tags"


def plot_evaluation(
    ev: Evaluation,
    ranked: Sequence[Sequence[dict[str, Any]]],
    gold: Sequence[Iterable[str]],
    title: str = "",
) -> Any:
    """A matplotlib figure: per-tag F1 of the most frequent gold tags, and the
    precision-recall curve over the score cut-off. ``title`` names the model and corpus."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    with_gold = [r for r in ev.per_tag if r["support"]]
    rows = sorted(with_gold, key=lambda r: (-r["support"], r["tag"]))[:PLOT_TAGS]
    golds = [set(g) for g in gold]
    scores = [c["score"] for cands in ranked for c in cands]
    hits = [c["tag"] in g for cands, g in zip(ranked, golds, strict=True) for c in cands]
    order = np.argsort(-np.asarray(scores), kind="stable")
    tp = np.cumsum(np.asarray(hits, dtype=float)[order])
    precision = tp / np.arange(1, len(tp) + 1)
    recall = tp / max(sum(map(len, golds)), 1)
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 6))
    a.barh([r["tag"][:30] for r in rows][::-1], [r["f1"] for r in rows][::-1])
    a.set_xlabel("F1")
    a.set_title(per_tag_title(len(rows), len(with_gold)))
    b.plot(recall, precision)
    b.set_xlabel("recall")
    b.set_ylabel("precision")
    b.set_title("Precision-recall over the score cut-off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
