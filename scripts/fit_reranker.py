"""Fit newstag's related-headlines re-ranker (``src/newstag/data/reranker.json``).

For every headline of the ``train`` split of ``../shared/data/neus-related`` (never ``val``), the
query path of :class:`newstag.related.RelatedIndex` gives its best ``RERANK_DEPTH`` candidates by
fused score and their features (:meth:`RelatedIndex.rerank_candidates`, public API; the feature
names come from the index's channel list, :meth:`RelatedIndex.rerank_feature_names`, so a new
channel's features are fitted without editing this script); a candidate is positive
when it reports the same story. A logistic regression (standardised features, C = 1) is fitted
for each mode (default, semantic) with and without the entity channel. Before fitting, a 2-fold
split by story prints held-out Recall@2 and MRR of fused order and of the re-ranker (each fold's
model ranks the other fold's queries, over the whole train index).

    nice .venv/bin/python scripts/fit_reranker.py        # --modes default: without torch

Uses the train index and caches of ``benchmarks/related.py`` (built when missing). Deterministic.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import related as bench  # noqa: E402

from newstag.related import (  # noqa: E402
    RERANK_DEPTH,
    RERANKER,
    RelatedIndex,
    semantic_available,
)
from newstag.related.reranker import model_key  # noqa: E402


def candidate_data(
    index: RelatedIndex, rows: list[dict], story: np.ndarray, semantic: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels, query number and candidate rank of every (query, candidate) pair.

    The candidates and their features are those the index's query path re-ranks
    (:meth:`RelatedIndex.rerank_candidates`).
    """
    feats, labels, query, rank = [], [], [], []
    for pos, cand, x in index.rerank_candidates([r["id"] for r in rows], semantic):
        feats.append(x)
        labels.append(story[cand] == story[pos])
        query.append(np.full(len(cand), pos))
        rank.append(np.arange(len(cand)))
    return np.vstack(feats), np.concatenate(labels), np.concatenate(query), np.concatenate(rank)


def fit(x: np.ndarray, y: np.ndarray) -> dict:
    """A standardised logistic regression as plain lists."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=1.0, max_iter=5000).fit((x - mean) / scale, y)
    return {
        "mean": mean.round(6).tolist(),
        "scale": scale.round(6).tolist(),
        "coef": lr.coef_[0].round(6).tolist(),
        "intercept": round(float(lr.intercept_[0]), 6),
    }


def held_out(x, y, query, rank, story, sibs) -> dict[str, float]:
    """2-fold by story: R@2 / MRR of fused order and of the re-ranker fitted on the other fold.

    A sibling outside a query's candidates keeps its fused rank (it is beyond the re-ranked
    depth either way); one that scored 0 or was never a candidate counts as rank 1000.
    """
    from newstag.related import Reranker

    fold = story[query] % 2
    prob = np.zeros(len(y))
    for f in (0, 1):
        m = fit(x[fold != f], y[fold != f])
        model = Reranker(features=[], **m)
        prob[fold == f] = model.predict(x[fold == f])
    out = {}
    for name, s in (("fused", -rank.astype(float)), ("reranked", prob)):
        hits, rr = [], []
        bounds = np.flatnonzero(np.diff(query)) + 1
        for sc, lab, qs in zip(
            np.split(s, bounds), np.split(y, bounds), np.split(query, bounds), strict=True
        ):
            q = int(qs[0])
            ranks = [1 + (sc > v).sum() + 0.5 * ((sc == v).sum() - 1) for v in sc[lab]]
            ranks += [1000.0] * (len(sibs[q]) - len(ranks))
            ranks_arr = np.array(ranks)
            hits.append((ranks_arr <= 2).mean())
            rr.append(1.0 / ranks_arr.min())
        out[name] = (round(float(np.mean(hits)), 4), round(float(np.mean(rr)), 4))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--modes",
        default="default,semantic",
        help="modes to refit (the others' models are kept from --out)",
    )
    ap.add_argument("--out", type=Path, default=RERANKER)
    args = ap.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or set(modes) - {"default", "semantic"}:
        sys.exit("--modes: default, semantic or both")
    semantic = "semantic" in modes
    if semantic and not semantic_available():
        sys.exit("the semantic models need MiniLM's weights (or pass --modes default)")
    all_rows, all_story, split = bench.load_clusters()
    bench.ALL_ROWS[:] = all_rows
    keep = np.flatnonzero(split == "train")
    rows = [all_rows[i] for i in keep]
    story = all_story[keep]
    sibs = bench.sibling_table(story)
    index = bench.get_index(rows, "headline", semantic, "train")
    index.rerank = False  # features only; never rank with an older re-ranker
    models: dict[str, dict] = {}
    for sem in [m == "semantic" for m in modes]:
        for entities in (True, False):
            idx = index if entities else index.without("entity")
            key = model_key(sem, [ch.name for ch in idx.mode_channels(sem)])
            t0 = time.perf_counter()
            x, y, query, rank = candidate_data(idx, rows, story, sem)
            scores = held_out(x, y, query, rank, story, sibs)
            models[key] = {"features": idx.rerank_feature_names(sem), **fit(x, y)}
            print(
                f"{key}: {len(y)} pairs, {int(y.sum())} positive; 2-fold by story "
                f"R@2/MRR fused {scores['fused']} -> re-ranked {scores['reranked']} "
                f"({time.perf_counter() - t0:.0f} s)",
                file=sys.stderr,
            )
    if args.out.exists():  # keep the models of the other mode
        old = json.loads(args.out.read_text(encoding="utf-8")).get("models", {})
        models = {**{k: v for k, v in old.items() if k.split("-")[0] not in modes}, **models}
    spec = {
        "about": "newstag related-headlines re-ranker: logistic regression over "
        "RelatedIndex.rerank_features, fitted by scripts/fit_reranker.py on the "
        "train split of neus-related (headline only)",
        "depth": RERANK_DEPTH,
        "models": models,
    }
    args.out.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
