"""Evaluate tag suggestions against a tagged corpus: micro/macro P/R/F1, P@k, R@k, per tag.

Gold tags the model never saw count as misses (they are never skipped).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

KS = (1, 3, 5)


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


def evaluate(gold: Sequence[Iterable[str]], predicted: Sequence[Iterable[str]],
             ranked: Sequence[Sequence[str]] | None = None,
             labels: Iterable[str] | None = None, known: Iterable[str] | None = None
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
        rows.append({"tag": t, "support": support[t], "predicted": tp[t] + fp[t], "tp": tp[t],
                     "fp": fp[t], "fn": fn[t], "precision": round(p, 4), "recall": round(r, 4),
                     "f1": round(f, 4)})
    in_macro = [row for row in rows if row["tag"] in set(macro_labels)]
    m = len(in_macro) or 1
    metrics: dict[str, Any] = {
        "n_docs": n_docs, "n_tags": len(support), "n_gold": sum(support.values()),
        "n_predicted": sum(len(p) for p in preds),
        "micro_precision": round(micro_p, 4), "micro_recall": round(micro_r, 4),
        "micro_f1": round(micro_f, 4),
        "macro_precision": round(sum(r["precision"] for r in in_macro) / m, 4),
        "macro_recall": round(sum(r["recall"] for r in in_macro) / m, 4),
        "macro_f1": round(sum(r["f1"] for r in in_macro) / m, 4),
    }
    docs_with_gold = [i for i, g in enumerate(golds) if g] or [0]
    for k in KS:
        hits = [len(set(ranks[i][:k]) & golds[i]) for i in range(n_docs)]
        # P@k over articles with gold tags, dividing by k (the usual definition)
        metrics[f"p_at_{k}"] = round(sum(hits[i] / k for i in docs_with_gold if n_docs)
                                     / len(docs_with_gold), 4) if n_docs else 0.0
        metrics[f"r_at_{k}"] = round(sum(hits[i] / len(golds[i]) for i in docs_with_gold
                                         if n_docs and golds[i]) / len(docs_with_gold), 4) \
            if n_docs else 0.0
    if known is not None:
        known_set = set(known)
        unseen = sum(n for t, n in support.items() if t not in known_set)
        metrics["unseen_gold_share"] = round(unseen / max(sum(support.values()), 1), 4)
    return Evaluation(metrics, rows)


def evaluate_model(model: Any, records: Sequence[Any], entities: Sequence[Sequence[Any]],
                   labels: Iterable[str] | None = None, k_max: int = 10
                   ) -> tuple[Evaluation, list[list[dict[str, Any]]]]:
    """Run a TagModel over corpus records with their entities; return scores and rankings."""
    ranked = model.rank_batch([r.text for r in records], entities)
    cut = model.threshold_
    predicted = [[c["tag"] for c in cands if c["score"] >= cut] for cands in ranked]
    order = [[c["tag"] for c in cands[:k_max]] for cands in ranked]
    ev = evaluate([r.tags for r in records], predicted, order, labels=labels,
                  known=model.tag_counts_)
    return ev, ranked
