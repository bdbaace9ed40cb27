"""Fusion of the channels' similarities: default weights, the weights of a mode, ``fuse``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# Fusion weights, chosen on data: grid search maximising Recall@2 (ties broken by MRR) on the
# train split of neus-related (its 7,356 headlines indexed, each one a query, its two siblings
# relevant); see ``benchmarks/related.py --tune``. Only the ratios matter. The int8 MiniLM
# channel dominates (train R@2 0.437 with the other channels alone, 0.574 with it); entity overlap
# earns no weight in the fusion once it is there (the re-ranker still uses it).
DEFAULT_WEIGHTS: dict[str, float] = {"word": 1.0, "char": 1.5, "entity": 0.0, "minilm": 8.0}
DEFAULT_SEMANTIC_WEIGHTS: dict[str, float] = {
    "word": 1.0,
    "char": 1.0,
    "entity": 0.0,
    "minilm": 4.0,
    "semantic": 6.0,
}


def mode_weights(
    weights: dict[str, float] | None,
    semantic_weights: dict[str, float] | None,
    semantic: bool,
    active: Iterable[str],
    registered: Iterable[str],
) -> dict[str, float]:
    """The fusion weights of one mode: the given or default weights without the registered
    channels that are not ``active`` in that mode (names of no channel are kept)."""
    w = dict(
        (semantic_weights or DEFAULT_SEMANTIC_WEIGHTS) if semantic else (weights or DEFAULT_WEIGHTS)
    )
    on = set(active)
    for name in registered:
        if name not in on:
            w.pop(name, None)
    return w


def minilm_candidates(n: int) -> int:
    """How many of the best lexically scored items the minilm channel rescores for a query.

    On neus-related train (7,356 items) rescoring only the top 0.5% gave the same R@2 as scoring
    all of them: the dense channel reorders candidates, it rarely finds new ones.
    """
    return min(n, max(2000, n // 100))


def fuse(comps: dict[str, Any], weights: dict[str, float], minilm_vectors: Any = None) -> Any:
    """Weighted mean of the channels (queries x items).

    The minilm channel, when ``comps`` holds its query vectors (``"_minilm_query"``) instead of
    its scores, is only computed for each query's :func:`minilm_candidates` best items by the
    other channels (a dense product over every item was the slowest part of a query at 100k);
    its scores are written into ``comps["minilm"]`` (zero elsewhere).
    """
    import numpy as np

    total = sum(weights.values()) or 1.0
    fused = sum(w * comps[name] for name, w in weights.items() if name in comps) / total
    qs = comps.pop("_minilm_query", None)
    if "minilm" in weights and "minilm" not in comps and qs is not None:
        fused = np.array(fused, dtype=np.float32)
        n = fused.shape[1]
        m = minilm_candidates(n)
        scores = np.zeros_like(fused)
        for qi in range(fused.shape[0]):
            cand = np.argpartition(-fused[qi], m - 1)[:m] if m < n else np.arange(n)
            sim = np.clip(minilm_vectors[cand] @ qs[qi], 0.0, 1.0)
            scores[qi, cand] = sim
            fused[qi, cand] += weights["minilm"] / total * sim
        comps["minilm"] = scores
    return fused


def best_positions(score: Any, m: int, among: Any = None) -> Any:
    """Positions of the ``m`` highest scores, best first (ties by position).

    ``among``: positions known to hold them (a shortlist), to skip a pass over all items.
    """
    import numpy as np

    if among is not None:
        cand = np.asarray(among)
    else:
        cand = np.argpartition(-score, m - 1)[:m] if m < len(score) else np.arange(len(score))
    return cand[np.lexsort((cand, -score[cand]))][:m]
