"""The ``knn`` source: the tags of the most similar training articles vote."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, TypedDict

from newstag.tagging.sources.base import (
    FAR_RANK,
    Batch,
    CandidateSource,
    TrainingSet,
    register_source,
)


class KNNFeatures(TypedDict):
    knn_score: float
    """Similarity-weighted share of the neighbours carrying the tag."""
    knn_rank: float
    """log1p of the tag's rank among the votes."""
    knn_share: float
    """Its vote over the article's best vote."""
    knn_tag_count: float
    """How many tags the neighbours carry (similarity-weighted): the article's breadth."""


class KNNState:
    """One article's votes, ranked (ties by name)."""

    def __init__(self, votes: dict[str, float]) -> None:
        ranked = sorted(votes.items(), key=lambda x: (-x[1], x[0]))
        self.ranked = ranked
        self.info = {t: (v, r) for r, (t, v) in enumerate(ranked)}
        self.best = ranked[0][1] if ranked else None
        self.total = sum(votes.values())


@register_source("knn")
class KNNSource(CandidateSource):
    """:class:`~newstag.tagging.classifier.KNNTags` with ``knn_k`` neighbours; proposes the
    ``n_candidates`` tags with the most votes."""

    part = "knn"
    FEATURES = tuple(KNNFeatures.__annotations__)

    def __init__(self, knn_k: int = 20, n_candidates: int = 15) -> None:
        self.knn_k = knn_k
        self.n_candidates = n_candidates

    def fit(self, data: TrainingSet) -> KNNSource:
        from newstag.tagging.classifier import KNNTags

        self.knn_ = KNNTags(k=self.knn_k).fit(data.X, data.tags)
        return self

    def scan(self, batch: Batch) -> list[KNNState]:
        votes = self.knn_.scores(batch.X)
        labels = self.knn_.labels_
        out = []
        for i in range(len(batch.texts)):
            lo, hi = votes.indptr[i], votes.indptr[i + 1]
            out.append(
                KNNState(
                    {
                        labels[j]: float(v)
                        for j, v in zip(votes.indices[lo:hi], votes.data[lo:hi], strict=True)
                    }
                )
            )
        return out

    def propose(self, state: KNNState) -> list[str]:
        return [t for t, _ in state.ranked[: self.n_candidates]]

    def features(self, state: KNNState, tag: str, new: bool) -> KNNFeatures:
        knn = None if new else state.info.get(tag)
        return {
            "knn_score": knn[0] if knn else 0.0,
            "knn_rank": math.log1p(knn[1]) if knn else FAR_RANK,
            "knn_share": knn[0] / state.best if knn and state.best else 0.0,
            "knn_tag_count": float(state.total),
        }

    def save(self, folder: Path) -> list[Path]:
        return self.knn_.save(folder)

    def load_part(self, folder: Path | None) -> Any:
        from newstag.tagging.classifier import KNNTags

        if folder is None:
            raise ValueError("the knn part is missing")
        self.knn_ = KNNTags.load(folder)
        return self
