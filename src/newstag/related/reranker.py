"""The re-ranker: a logistic regression over features of each query's best candidates.

Features (:func:`feature_names`) come from the channel list: nine of the fused score and the
candidates' neighbourhood, four per channel (:meth:`Channel.feature_names`), then each
channel's extras (word: terms and numbers; semantic: token matches). The shipped models
(``data/reranker.json``, fitted by ``scripts/fit_reranker.py``, ``make reranker``) are keyed by
mode (``default``/``semantic``, ``-no-entities`` without the entity channel); a model whose
features are not those of the index's channels raises a :class:`RelatedError` naming the file,
the missing and unexpected features and the refit command, instead of quietly ranking without.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newstag.paths import PACKAGE_DATA
from newstag.related.errors import RelatedError

if TYPE_CHECKING:
    from newstag.related.channels import Channel
    from newstag.related.index import RelatedIndex

RERANKER = PACKAGE_DATA / "reranker.json"
# The re-ranker reorders each query's best RERANK_DEPTH items by fused score (train: 84% of the
# siblings are among the best 50).
RERANK_DEPTH = 50
_TIE = 1e-4  # similarities closer than this count as equal in the re-ranker's rank features
# Rows whose MiniLM token vectors a semantic index keeps in memory for the re-ranker
TOKEN_CACHE = 20_000
BASE_FEATURES = [
    "fused",
    "rank",
    "gap",
    "ratio",
    "recip",
    "pair_mean",
    "pair_max",
    "hop1",
    "hop_max3",
]
REFIT = "make reranker"


@dataclass
class Reranker:
    """Logistic regression over :func:`rerank_features` (standardised columns)."""

    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float

    def predict(self, x: Any) -> Any:
        """Probability that each candidate reports the query's story."""
        import numpy as np

        z = ((x - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.coef)
        return 1.0 / (1.0 + np.exp(-(z + self.intercept)))


def feature_names(channels: Sequence[Channel]) -> list[str]:
    """Names of the re-ranker features of a mode's channels, in column order."""
    names = list(BASE_FEATURES)
    for ch in channels:
        names += ch.feature_names()
    for ch in channels:
        names += list(ch.extra_features)
    return names


def model_key(semantic: bool, names: Sequence[str]) -> str:
    """The key of a mode's model in ``reranker.json``."""
    return ("semantic" if semantic else "default") + ("" if "entity" in names else "-no-entities")


_RERANKERS: dict[str, dict[str, Reranker]] = {}


def load_reranker(path: str | Path | None = None) -> dict[str, Reranker]:
    """The shipped re-rankers by mode and channels (empty when the file is missing)."""
    src = Path(path) if path else RERANKER
    key = str(src)
    if key not in _RERANKERS:
        models: dict[str, Reranker] = {}
        if src.exists():
            spec = json.loads(src.read_text(encoding="utf-8"))
            for name, m in spec.get("models", {}).items():
                models[name] = Reranker(
                    **{f: m[f] for f in ("features", "mean", "scale", "coef", "intercept")}
                )
        _RERANKERS[key] = models
    return _RERANKERS[key]


def check_features(
    model: Reranker, expected: list[str], key: str, path: Path | None = None
) -> Reranker:
    """``model`` when its features are ``expected``, else a loud :class:`RelatedError`."""
    if model.features == expected:
        return model
    missing = [f for f in expected if f not in model.features]
    extra = [f for f in model.features if f not in expected]
    what = []
    if missing:
        what.append("missing " + ", ".join(missing))
    if extra:
        what.append("unexpected " + ", ".join(extra))
    if not what:
        what.append("the same features in another order")
    raise RelatedError(
        f"{path or RERANKER}: re-ranker model {key!r} does not match this "
        f"index's channels ({'; '.join(what)}); refit it with `{REFIT}`"
    )


def rerank_features(
    index: RelatedIndex,
    cand: Any,
    score: Any,
    comps: dict[str, Any],
    q: dict[str, Any],
    semantic: bool,
) -> Any:
    """Re-ranker features (candidates x :func:`feature_names`) of one query.

    ``cand``: positions of the candidates, best fused score first; ``score``: the query's
    fused scores; ``comps``: its channel scores (one row each); ``q``: the query (``_text``,
    ``_pos`` for an indexed item, ``_minilm``: its minilm vector, used when the mode's fusion
    did not score the minilm channel). Each candidate is compared with the query and with
    the best ``RERANK_DEPTH`` candidates (the reference): fused score and gap to the best,
    how many reference items are closer to the candidate than the query is (reciprocal
    rank), its mean and largest similarity to the reference, two-hop scores through the best
    candidates; per channel its score, rank among the reference, reciprocal rank and gap to
    the reference's best; then each channel's extras.
    """
    import numpy as np

    cand = np.asarray(cand)
    ref = cand[:RERANK_DEPTH]
    other = (cand[:, None] != ref[None, :]).astype(np.float32)  # not the candidate itself
    weights = index.fusion_weights(semantic)
    total = sum(weights.values()) or 1.0
    f = score[cand].astype(np.float32)
    pair = np.zeros((len(cand), len(ref)), dtype=np.float32)
    per_channel: list[Any] = []
    channels = index.mode_channels(semantic)
    for ch in channels:
        v = ch.candidate_scores(cand, comps, q, weights)
        block = ch.block(cand, len(ref), index)
        if ch.name in weights:
            pair += weights[ch.name] / total * block
        per_channel += _channel_columns(v.astype(np.float32), block, len(ref), other)
    pair *= other
    hop = f[: len(ref)][None, :] * pair
    n_other = np.maximum(other.sum(axis=1), 1.0)
    cols = [
        f,
        np.log1p(np.arange(len(cand))),
        f - f[0],
        f / max(float(f[0]), 1e-6),
        np.log1p(((pair > f[:, None] + _TIE) * other).sum(axis=1)),
        pair.sum(axis=1) / n_other,
        pair.max(axis=1),
        hop[:, 0],
        hop[:, :3].max(axis=1),
    ]
    extras = [col for ch in channels for col in ch.extras(cand, q, index)]
    return np.stack(cols + per_channel + extras, axis=1).astype(np.float64)


def _channel_columns(v: Any, block: Any, n_ref: int, other: Any) -> list[Any]:
    """A channel's score, rank among the reference, reciprocal rank and gap to the best."""
    import numpy as np

    vref = v[:n_ref]
    above = v[:, None] + _TIE  # equal within rounding is not closer
    return [
        v,
        np.log1p((vref[None, :] > above).sum(axis=1)),
        np.log1p(((block > above) * other).sum(axis=1)),
        v - vref.max(),
    ]


def candidates(
    index: RelatedIndex, ids: list[str], semantic: bool, batch_size: int = 250
) -> Iterator[tuple[int, Any, Any]]:
    """For each indexed id, as its query ranks: ``(position, candidates, features)``: its
    best ``RERANK_DEPTH`` candidates by fused score (positions, best first) and their
    re-ranker features (what ``scripts/fit_reranker.py`` fits on)."""
    import numpy as np

    from newstag.related import query
    from newstag.related.fusion import best_positions, fuse

    weights = index.fusion_weights(semantic)
    depth = RERANK_DEPTH
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        comps = index.components(ids=chunk, semantic=semantic, minilm_all=False)
        minilm_q = comps.get("_minilm_query")
        fused = fuse(comps, weights, index.minilm_)
        for qi, rid in enumerate(chunk):
            pos = index.store.pos(rid)
            q = {
                "_pos": pos,
                "_text": index.store.rows[pos].headline,
                "_minilm": minilm_q[qi] if minilm_q is not None else None,
            }
            row = {n: c[qi] for n, c in comps.items()}
            score, short = query.masked(index, fused[qi], row, q, depth, None, True)
            cand = best_positions(score, min(depth, int(np.isfinite(score).sum())), short)
            yield pos, cand, rerank_features(index, cand, score, row, q, semantic)
