"""The combiner's training rows: every candidate of the held-out articles, labelled."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


class HeldoutRows:
    """Candidate feature rows of held-out articles, labelled by the articles' gold tags."""

    def __init__(self) -> None:
        self.rows: list[list[float]] = []
        self.labels: list[int] = []
        self.groups: list[int] = []
        self.tags: list[str] = []
        self.gold: dict[int, list[str]] = {}
        self.n_gold = 0

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, doc: int, gold_tags: Sequence[str], cands: dict[str, dict[str, Any]]) -> None:
        """One held-out article's candidates (tag -> ``{"x": row, ...}``)."""
        gold = set(gold_tags)
        self.n_gold += len(gold)
        self.gold[doc] = sorted(gold)
        for tag, cand in cands.items():
            self.rows.append(cand["x"])
            self.labels.append(int(tag in gold))
            self.groups.append(doc)
            self.tags.append(tag)

    def fit(self, combiner: Any, names: Sequence[str]) -> None:
        """Fit ``combiner`` on the rows, whose columns are the features ``names``."""
        X = np.asarray(self.rows, dtype=np.float64).reshape(-1, len(names))
        combiner.fit(
            X,
            np.asarray(self.labels),
            np.asarray(self.groups),
            self.n_gold,
            tags=self.tags,
            gold=self.gold,
            feature_names=names,
        )

    def report(self, combiner: Any, folds: int) -> dict[str, Any]:
        """The held-out figures the manifest records (and logs them)."""
        recall_bound = sum(self.labels) / self.n_gold if self.n_gold else 0.0
        per_tag = combiner.tag_thresholds_
        log.info(
            f"combiner: held-out micro-F1 {combiner.oof_f1_:.3f} at threshold "
            f"{combiner.threshold_:.3f} (candidates cover {recall_bound:.1%} of gold tags)"
        )
        if combiner.crossfit_:
            log.info(
                "per-tag thresholds, cross-fitted on held-out rows (shrink: micro/macro/P@5): "
                + "; ".join(
                    f"{k}: {v['micro_f1']:.3f}/{v['macro_f1']:.3f}/{v['p_at_5']:.3f}"
                    for k, v in combiner.crossfit_.items()
                )
                + f" -> {len(per_tag):,} tags with their own threshold "
                f"(shrink {combiner.shrink_})"
            )
        return {
            "micro_f1": round(combiner.oof_f1_, 4),
            "candidate_recall": round(recall_bound, 4),
            "threshold": round(combiner.threshold_, 4),
            "folds": folds,
            "tag_thresholds": len(per_tag),
            "tag_threshold_shrink": combiner.shrink_,
            "crossfit": combiner.crossfit_,
        }
