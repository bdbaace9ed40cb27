"""The ``classifier`` source: one linear SVM per frequent tag over the article's TF-IDF."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import TypedDict

import numpy as np

from newstag.tagging.sources.base import (
    FAR_RANK,
    NO_SCORE,
    Batch,
    CandidateSource,
    TrainingSet,
    register_source,
)


class ClassifierFeatures(TypedDict):
    clf_score: float
    """The tag's SVM score (``NO_SCORE`` when it has no classifier)."""
    clf_rank: float
    """log1p of its rank among the article's scores."""
    has_clf: float
    clf_margin: float
    """Its score minus the article's best score."""
    clf_positives: float
    """log1p of how many tags score above zero (the article looks multi-tag)."""


class ClassifierState:
    """One article's scores: the top ``n_candidates`` tags with (score, rank)."""

    def __init__(
        self, scores: np.ndarray | None, labels: list[str], index: dict[str, int], n_candidates: int
    ) -> None:
        self.scores = scores
        self.index = index
        self.top: dict[str, tuple[float, int]] = {}
        self.best: float | None = None
        self.positives = 0
        if scores is None or not len(scores):
            return
        m = min(n_candidates, len(scores))
        top = np.argpartition(-scores, m - 1)[:m] if m < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top])]
        for rank, j in enumerate(top):
            self.top[labels[j]] = (float(scores[j]), rank)
        self.best = float(scores.max())
        self.positives = int((scores > 0).sum())

    def score_rank(self, tag: str) -> tuple[float | None, int | None]:
        if tag in self.top:
            return self.top[tag]
        j = self.index.get(tag)
        if j is None or self.scores is None:
            return None, None
        score = float(self.scores[j])
        return score, int((self.scores > score).sum())


@register_source("classifier")
class ClassifierSource(CandidateSource):
    """Tags of the ``max_clf_labels`` most frequent (with ``min_clf_count`` articles or more)
    scored by a :class:`~newstag.tagging.classifier.LinearOvR`; proposes the article's
    ``n_candidates`` best."""

    part = "classifier"
    FEATURES = tuple(ClassifierFeatures.__annotations__)

    def __init__(
        self,
        C: float = 1.0,
        max_clf_labels: int = 300,
        min_clf_count: int = 1,
        prune: int = 2000,
        n_jobs: int = 1,
        n_candidates: int = 15,
    ) -> None:
        self.C = C
        self.max_clf_labels = max_clf_labels
        self.min_clf_count = min_clf_count
        self.prune = prune
        self.n_jobs = n_jobs
        self.n_candidates = n_candidates

    def fit(self, data: TrainingSet) -> ClassifierSource:
        import scipy.sparse as sp

        from newstag.tagging.classifier import LinearOvR

        counts = Counter(t for ts in data.tags for t in ts)
        labels = sorted(
            t for t, c in counts.most_common(self.max_clf_labels) if c >= self.min_clf_count
        )
        self.clf_ = None
        if labels:
            index = {t: j for j, t in enumerate(labels)}
            pairs = [(i, index[t]) for i, ts in enumerate(data.tags) for t in ts if t in index]
            Y = sp.csc_matrix(
                (
                    np.ones(len(pairs), dtype=np.int8),
                    ([i for i, _ in pairs], [j for _, j in pairs]),
                ),
                shape=(data.X.shape[0], len(labels)),
            )
            self.clf_ = LinearOvR(C=self.C, prune=self.prune, n_jobs=self.n_jobs).fit(
                data.X, Y, labels
            )
        return self

    def scan(self, batch: Batch) -> list[ClassifierState]:
        clf = self.clf_
        if clf is None:
            return [ClassifierState(None, [], {}, self.n_candidates) for _ in batch.texts]
        scores = clf.decision_function(batch.X)
        index = clf.label_index()
        return [ClassifierState(row, clf.labels_, index, self.n_candidates) for row in scores]

    def propose(self, state: ClassifierState) -> list[str]:
        return list(state.top)

    def features(self, state: ClassifierState, tag: str, new: bool) -> ClassifierFeatures:
        score, rank = (None, None) if new else state.score_rank(tag)
        return {
            "clf_score": NO_SCORE if score is None else score,
            "clf_rank": math.log1p(rank) if rank is not None else FAR_RANK,
            "has_clf": float(score is not None),
            "clf_margin": score - state.best
            if score is not None and state.best is not None
            else 2 * NO_SCORE,
            "clf_positives": math.log1p(state.positives),
        }

    def save(self, folder: Path) -> list[Path]:
        return self.clf_.save(folder) if self.clf_ is not None else []

    def load_part(self, folder: Path | None) -> ClassifierSource:
        from newstag.tagging.classifier import LinearOvR

        self.clf_ = LinearOvR.load(folder) if folder is not None else None
        return self
