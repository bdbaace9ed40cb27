"""Check that a change leaves related-headline rankings as they were: this checkout against a
git revision.

Indexes the neus-related ``val`` headlines with this checkout's code and with the code of
``--base`` (``git archive`` into a temporary folder), each in its own process, with the same
entities (extracted once here, passed as ``known_entities``), and compares exactly: the
results of ``--n`` text and id queries (ids, order, scores, per-channel scores, shared terms and
entities; also with ``since``), ``info()`` and the re-ranker's candidates; the re-ranker's
features within ``--tol`` (float32 entity scores vary by ~2e-7 between two runs of the same
code) — with and without the entity channel, after add/remove, after save/load, with custom
weights, and with ``--semantic`` in the semantic mode too. Exits with status 1 on any
difference.

    nice .venv/bin/python benchmarks/related_same.py [--base main] [--n 300] [--semantic]

Needs ../shared/data/neus-related (or $NEWSTAG_SHARED_DATA).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def val_rows() -> list[dict[str, Any]]:
    """The val headlines of neus-related, with made-up dates (for ``since``)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from related import neus_stories

    rows = []
    for n, rec in neus_stories():
        if rec["split"] == "val":
            rows += [
                {
                    "id": f"{n}-{j}",
                    "headline": art["title"],
                    "lead": art.get("lead") or "",
                    "date": f"20{10 + n % 10}-01-0{1 + j % 9}",
                }
                for j, art in enumerate(rec["articles"])
            ]
    return rows


def features(index: Any, ids: list[str], semantic: bool) -> list[tuple[int, Any, Any]]:
    """``(position, candidates, features)`` of id queries, through the public API when there is
    one, else through the private methods ``scripts/fit_reranker.py`` used before it."""
    import numpy as np

    if hasattr(index, "rerank_candidates"):
        return list(index.rerank_candidates(ids, semantic))
    from newstag.related import RERANK_DEPTH, best_positions, fuse

    comps = index.components(ids=ids, semantic=semantic, minilm_all=False)
    minilm_q = comps.get("_minilm_query")
    fused = fuse(comps, index._weights(semantic), index.minilm_)
    cache, out = index._prepared(), []
    for qi, rid in enumerate(ids):
        pos = index.id_pos_[rid]
        q = {
            "_pos": pos,
            "_text": index.rows_[pos].headline,
            "_minilm": minilm_q[qi] if minilm_q is not None else None,
        }
        row = {n: c[qi] for n, c in comps.items()}
        score, short = index._masked(fused[qi], row, q, RERANK_DEPTH, None, True, cache)
        cand = best_positions(score, min(RERANK_DEPTH, int(np.isfinite(score).sum())), short)
        out.append((pos, cand, index.rerank_features(cand, score, row, q, semantic)))
    return out


def answers(
    index: Any,
    rows: list[dict],
    n: int,
    semantic: bool,
    reranked: bool,
    arrays: dict[str, Any],
    name: str,
) -> dict[str, Any]:
    """Query results, info and (when ``reranked``) re-ranker candidates of one index and mode;
    its re-ranker features go to ``arrays[name]``."""
    import numpy as np

    texts = [{"text": r["headline"] + " update"} for r in rows[:n]]
    ids = [r["id"] for r in rows[:n]]
    out: dict[str, Any] = {
        "text": list(index.query_many(texts, k=10, semantic=semantic)),
        "id": list(index.query_many([{"id": i} for i in ids], k=10, semantic=semantic)),
        "since": list(index.query_many(texts[:50], k=5, semantic=semantic, since="2015")),
        "info": {k: v for k, v in index.info().items() if k != "created"},
    }
    if reranked:
        found = features(index, ids, semantic)
        out["candidates"] = [(int(p), np.asarray(c).tolist()) for p, c, _ in found]
        arrays[name] = np.vstack([x for _, _, x in found])
    return out


def emit(data_path: Path, n: int, semantic: bool, out_path: Path) -> None:
    """Build, query, save and load indexes of the rows in ``data_path``; write JSON (and the
    re-ranker features next to it, ``.npz``)."""
    import numpy as np

    from newstag.related import RelatedIndex

    data = json.loads(data_path.read_text(encoding="utf-8"))
    rows, ents = data["rows"], data["entities"]
    modes = [False, True] if semantic else [False]
    out: dict[str, Any] = {}
    arrays: dict[str, Any] = {}
    for entities in (True, False):
        index = RelatedIndex(entities=entities, semantic=semantic)
        index.known_entities = ents
        index.fit(rows[:-100])
        index.add(rows[-100:])
        index.remove([rows[-1]["id"], rows[-50]["id"]])
        with tempfile.TemporaryDirectory() as tmp:
            index.save(tmp)
            loaded = RelatedIndex.load(tmp)
            for sem in modes:
                for how, ix in (("built", index), ("loaded", loaded)):
                    name = f"entities={entities} semantic={sem} {how}"
                    out[name] = answers(ix, rows, n, sem, True, arrays, name)
        custom = RelatedIndex(
            entities=entities,
            rerank=False,
            weights={"word": 1.0, "char": 0.5, "entity": 1.0, "minilm": 2.0},
        )
        custom.known_entities = ents
        name = f"entities={entities} custom weights"
        out[name] = answers(custom.fit(rows), rows, n, False, False, arrays, name)
    out_path.write_text(json.dumps(out, default=str), encoding="utf-8")
    np.savez(out_path.with_suffix(".npz"), **arrays)


def differences(a: Any, b: Any, where: str = "") -> list[str]:
    """Where two JSON values differ (exactly)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return [f"{where}: keys {list(a)} != {list(b)}"]
        return [d for k in a for d in differences(a[k], b[k], f"{where}/{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} != {len(b)} items"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in differences(x, y, f"{where}[{i}]")
        ]
    return [] if a == b else [f"{where}: {a!r} != {b!r}"]


def feature_differences(a: Path, b: Path, tol: float) -> tuple[list[str], float]:
    """Variants whose re-ranker features differ by more than ``tol``, and the largest gap."""
    import numpy as np

    found, gap = [], 0.0
    with np.load(a) as xa, np.load(b) as xb:
        if sorted(xa.files) != sorted(xb.files):
            return [f"features of {sorted(xa.files)} != {sorted(xb.files)}"], float("inf")
        for name in xa.files:
            if xa[name].shape != xb[name].shape:
                found.append(f"/{name}/features: shape {xa[name].shape} != {xb[name].shape}")
                continue
            d = float(np.abs(xa[name] - xb[name]).max(initial=0.0))
            gap = max(gap, d)
            if d > tol:
                found.append(f"/{name}/features: differ by up to {d:.3g}")
    return found, gap


def run(src: Path, data_path: Path, n: int, semantic: bool, out: Path) -> Any:
    """Run :func:`emit` with the code in ``src`` in a fresh process; its JSON."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--emit",
        str(data_path),
        "--n",
        str(n),
        "--out",
        str(out),
    ] + (["--semantic"] if semantic else [])
    subprocess.run(cmd, check=True, env=env, cwd=ROOT)
    return json.loads(out.read_text(encoding="utf-8"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", default="main", help="git revision to compare with")
    ap.add_argument("--n", type=int, default=300, help="text and id queries per index")
    ap.add_argument("--semantic", action="store_true", help="also the semantic mode (torch)")
    ap.add_argument("--tol", type=float, default=1e-6, help="re-ranker features tolerance")
    ap.add_argument("--emit", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.emit:
        emit(args.emit, args.n, args.semantic, args.out)
        return
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from related import known_entities

    rows = val_rows()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data_path = work / "rows.json"
        data_path.write_text(
            json.dumps({"rows": rows, "entities": known_entities(rows, "headline")})
        )
        base_dir = work / "base"
        base_dir.mkdir()
        archive = subprocess.run(
            ["git", "archive", args.base, "src"], check=True, cwd=ROOT, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(base_dir)], input=archive, check=True)
        base = run(base_dir / "src", data_path, args.n, args.semantic, work / "base.json")
        ours = run(ROOT / "src", data_path, args.n, args.semantic, work / "ours.json")
        found, gap = feature_differences(work / "base.npz", work / "ours.npz", args.tol)
    found = differences(base, ours) + found
    n_results = sum(len(v["text"]) + len(v["id"]) for v in ours.values())
    print(
        f"{len(rows)} headlines, {len(ours)} index/mode variants, {n_results} queries: "
        f"{len(found)} differences against {args.base} (re-ranker features: largest gap "
        f"{gap:.3g}, tolerance {args.tol:g})"
    )
    for d in found[:20]:
        print("  " + d)
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
