"""The combiner: one score per candidate tag from classifier and entity evidence.

Each candidate (article, tag) gets a feature row: the classifier's score and rank, the
entity evidence (salience, mentions, headline/lead presence, string-match quality, link
confidence and support, country roll-up), the tag's prior and whether the tag is new.
A gradient-boosted tree model, fitted on held-out folds of the training data, turns the
row into a probability; a global threshold tuned for micro-F1 decides what is suggested.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

FEATURES = ("clf_score", "clf_rank", "has_clf", "knn_score", "knn_rank", "salience", "mentions",
            "in_headline", "in_lead", "str_quality", "link_conf", "link_support", "via_country",
            "n_entities", "prior", "is_new", "is_person", "is_place", "is_org", "has_entity")
NO_SCORE = -3.0


def feature_row(clf_score: float | None, clf_rank: int | None, ev: dict[str, Any] | None,
                prior: float, is_new: bool, knn: tuple[float, int] | None = None) -> list[float]:
    """The combiner's feature vector for one candidate."""
    ev = ev or {}
    etype = ev.get("entity_type", "")
    return [
        NO_SCORE if clf_score is None else float(clf_score),
        math.log1p(clf_rank) if clf_rank is not None else math.log1p(1000),
        float(clf_score is not None),
        knn[0] if knn else 0.0,
        math.log1p(knn[1]) if knn else math.log1p(1000),
        float(ev.get("salience", 0.0)),
        math.log1p(ev.get("mentions", 0)),
        float(bool(ev.get("in_headline"))),
        float(bool(ev.get("in_lead"))),
        float(ev.get("str_quality", 0.0)),
        float(ev.get("link_conf", 0.0)),
        math.log1p(ev.get("link_support", 0)),
        float(bool(ev.get("via_country")) and bool(ev)),
        float(ev.get("n_entities", 0)),
        float(prior),
        float(is_new),
        float(etype == "person"),
        float(etype == "place"),
        float(etype == "organisation"),
        float(bool(ev)),
    ]


class Combiner:
    """Gradient-boosted trees over candidate features, with an F1-tuned threshold.

    Parameters: ``max_iter``, ``learning_rate``, ``max_leaf_nodes``, ``random_state``,
    ``n_threads`` (OpenMP threads; 1 avoids oversubscription on shared machines).
    """

    def __init__(self, max_iter: int = 200, learning_rate: float = 0.08,
                 max_leaf_nodes: int = 31, random_state: int = 0, n_threads: int = 1) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.random_state = random_state
        self.n_threads = n_threads

    def fit(self, X: np.ndarray, y: np.ndarray, doc_ids: np.ndarray,
            n_gold: int) -> Combiner:
        """Fit on candidate rows; ``n_gold`` counts all gold tags (found or not) for recall."""
        from sklearn.model_selection import GroupKFold
        from threadpoolctl import threadpool_limits

        with threadpool_limits(self.n_threads):
            return self._fit(X, y, doc_ids, n_gold, GroupKFold)

    def _fit(self, X: np.ndarray, y: np.ndarray, doc_ids: np.ndarray, n_gold: int,
             GroupKFold: Any) -> Combiner:
        y = np.asarray(y)
        oof = np.zeros(len(y))
        n_groups = len(np.unique(doc_ids))
        if n_groups >= 3 and 0 < y.sum() < len(y):
            for tr, te in GroupKFold(n_splits=3).split(X, y, doc_ids):
                if 0 < y[tr].sum() < len(tr):
                    oof[te] = self._new_model().fit(X[tr], y[tr]).predict_proba(X[te])[:, 1]
                else:
                    oof[te] = y[tr].mean()
        self.model_ = self._new_model().fit(X, y) if 0 < y.sum() < len(y) else None
        self.base_rate_ = float(y.mean()) if len(y) else 0.0
        self.threshold_, self.oof_f1_ = tune_threshold(oof, y, n_gold)
        return self

    def _new_model(self) -> Any:
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes, early_stopping="auto", validation_fraction=0.1,
            n_iter_no_change=20, random_state=self.random_state)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if len(X) == 0:
            return np.zeros(0)
        if self.model_ is None:
            return np.full(len(X), self.base_rate_)
        with _threads().limit(limits=self.n_threads):
            return self.model_.predict_proba(np.asarray(X, dtype=np.float64))[:, 1]


@lru_cache(maxsize=1)
def _threads() -> Any:
    """One threadpoolctl controller per process: building it scans the loaded libraries
    (/proc/self/maps), which cost more than scoring an article's candidates."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def tune_threshold(p: np.ndarray, y: np.ndarray, n_gold: int) -> tuple[float, float]:
    """The probability cut-off that maximises micro-F1 given ``n_gold`` gold tags."""
    if len(p) == 0 or n_gold == 0:
        return 0.5, 0.0
    order = np.argsort(-p)
    tp = np.cumsum(y[order])
    k = np.arange(1, len(p) + 1)
    f1 = 2 * tp / (k + n_gold)
    best = int(np.argmax(f1))
    return float(max(p[order][best], 0.05)), float(f1[best])
