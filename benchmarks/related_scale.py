"""Related-headlines index at scale: build time, disk size, memory and query latency.

Headlines: the 18,146 Wikinews titles of ../shared/data/wikinews plus synthetic variants (a
title with 1-3 of its words replaced by words drawn from all titles) up to N. Variants reuse
their source title's entities, so entity extraction runs on the real titles only; its
throughput is reported so the cost for N fresh headlines can be computed.

    nice .venv/bin/python benchmarks/related_scale.py --sizes 10000,100000
    nice .venv/bin/python benchmarks/related_scale.py --sizes 10000 --semantic
    nice .venv/bin/python benchmarks/related_scale.py --sizes 100000 --semantic --fake-embeddings \
        --reuse   # latency of --semantic queries over 100k stored embeddings

Query latency is measured in a fresh process that loads the saved index: 300 text queries (held-out
real titles, entity extraction included, one at a time) and 300 ``--id`` queries; p50/p95 in ms.
The baseline in the same run is brute-force word TF-IDF cosine (sklearn) on the same headlines;
the text queries are also timed without the re-ranker (``text_no_rerank_*``) and without the
int8 MiniLM channel (``text_no_minilm_*``, which also turns the re-ranker off).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from newstag.paths import shared_data
from newstag.related import RelatedIndex, disk_size
from newstag.related.channels.entity import extractor

WORK = Path(os.environ.get("NEWSTAG_BENCH_SCALE_CACHE", "/tmp/newstag-bench-related-scale"))


def titles() -> list[str]:
    folder = shared_data("wikinews")
    if folder is None:
        sys.exit("wikinews not found: set NEWSTAG_SHARED_DATA")
    out, seen = [], set()
    for path in sorted(folder.glob("wikinews_en_*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                title = json.loads(line).get("title") or ""
                title = title.replace("_", " ").strip()
                if title and title.lower() not in seen:
                    seen.add(title.lower())
                    out.append(title)
    return out


def headlines(n: int, real: list[str], seed: int = 0) -> list[tuple[str, int]]:
    """``n`` headlines as (text, index of the real title it comes from)."""
    rng = random.Random(seed)
    words = [w for t in real for w in t.split()]
    out = [(t, i) for i, t in enumerate(real[:n])]
    while len(out) < n:
        i = rng.randrange(len(real))
        toks = real[i].split()
        for _ in range(rng.randint(1, 3)):
            toks[rng.randrange(len(toks))] = rng.choice(words)
        out.append((" ".join(toks), i))
    return out


def rss_mb() -> tuple[float, float]:
    status = Path("/proc/self/status").read_text()
    get = {
        k: float(v.split()[0]) / 1024
        for k, v in (line.split(":", 1) for line in status.splitlines() if line.startswith("Vm"))
    }
    return get.get("VmRSS", 0.0), get.get("VmHWM", 0.0)


def build(n: int, semantic: bool, held_out: int) -> dict:
    real = titles()
    queries, real = real[-held_out:], real[:-held_out]
    rows = headlines(n, real)
    # entities of the real titles (cached); variants reuse their source title's entities
    cache = WORK / "entities.json"
    if cache.exists():
        ents = json.loads(cache.read_text())
        rate = ents.pop("_rate")
    else:
        index = RelatedIndex(n_process=2)
        t0 = time.perf_counter()
        found = index.extract_entities(real, [""] * len(real))
        rate = len(real) / (time.perf_counter() - t0)
        ents = {str(i): e for i, e in enumerate(found)}
        WORK.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({**ents, "_rate": rate}))
    data = [
        {"id": f"h{j}", "headline": text, "date": f"20{10 + j % 10}-01-01"}
        for j, (text, _) in enumerate(rows)
    ]
    index = RelatedIndex(semantic=semantic)
    index.known_entities = {f"h{j}": ents[str(i)] for j, (_, i) in enumerate(rows)}
    t0 = time.perf_counter()
    index.fit(data)
    seconds = time.perf_counter() - t0
    out = WORK / f"idx_{n}{'_sem' if semantic else ''}"
    if out.exists():
        shutil.rmtree(out)
    t1 = time.perf_counter()
    index.save(out)
    save_s = time.perf_counter() - t1
    (WORK / "queries.json").write_text(json.dumps(queries))
    return {
        "n": n,
        "semantic": semantic,
        "build_s": round(seconds, 1),
        "build_parts_s": {k: round(v, 1) for k, v in index.timings_.items()},
        "entity_rate_per_s": round(rate, 1),
        "build_s_with_fresh_entities": round(seconds + n / rate, 1),
        "save_s": round(save_s, 1),
        "disk_mb": round(disk_size(out) / 1e6, 1),
        "build_peak_rss_mb": round(rss_mb()[1]),
    }


def measure(n: int, semantic: bool, n_queries: int, fake: bool = False) -> dict:
    """Run in a fresh process: load the index, time queries.

    ``fake``: load the lexical index and attach random unit embeddings (to time semantic
    queries at sizes where encoding every headline would take too long here).
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    out = WORK / f"idx_{n}{'_sem' if semantic and not fake else ''}"
    queries = json.loads((WORK / "queries.json").read_text())[:n_queries]
    base_rss = rss_mb()[0]
    t0 = time.perf_counter()
    index = RelatedIndex.load(out)
    if fake:
        emb = np.random.default_rng(0).standard_normal((len(index.rows_), 384)).astype("float32")
        index.use_vectors("semantic", emb / np.linalg.norm(emb, axis=1, keepdims=True))
    load_s = time.perf_counter() - t0
    extractor(None).extract  # noqa: B018
    index.query(text=queries[0], k=10)  # warm up: loads spaCy (and MiniLM)
    index.query(id="h1", k=10)
    rss_loaded = rss_mb()[0]

    cpu: dict[str, list[float]] = {}

    def timed(calls: list, name: str = "") -> list[float]:
        times, cpus = [], []
        for call in calls:
            t, c = time.perf_counter(), time.process_time()
            call()
            times.append((time.perf_counter() - t) * 1000)
            cpus.append((time.process_time() - c) * 1000)
        cpu[name] = cpus
        return times

    text_ms = timed([lambda q=q: index.query(text=q, k=10) for q in queries], "text")
    index.rerank = False  # the same queries in fused order (no re-ranker)
    fused_ms = timed([lambda q=q: index.query(text=q, k=10) for q in queries], "fused")
    index.rerank = True
    dense = index.minilm_
    if dense is not None:  # the same queries without the int8 MiniLM channel
        plain = index.without("minilm")
        plain_ms = timed([lambda q=q: plain.query(text=q, k=10) for q in queries], "plain")
    ids = [f"h{(i * 7919) % n}" for i in range(n_queries)]
    id_ms = timed([lambda i=i: index.query(id=i, k=10) for i in ids], "id")
    texts = [r.headline for r in index.rows_]
    vec = TfidfVectorizer(dtype="float32")
    x = vec.fit_transform(texts).T.tocsr()
    base_ms = timed(
        [lambda q=q: (vec.transform([q]) @ x).toarray().argsort()[0, -10:] for q in queries]
    )

    def pct(values: list[float], p: float) -> float:
        return round(statistics.quantiles(values, n=100)[int(p) - 1], 1)

    return {
        "n": n,
        "semantic": semantic,
        "load_s": round(load_s, 1),
        "rss_mb": round(rss_loaded),
        "rss_index_and_models_mb": round(rss_loaded - base_rss),
        "text_p50_ms": pct(text_ms, 50),
        "text_p95_ms": pct(text_ms, 95),
        "text_no_rerank_p50_ms": pct(fused_ms, 50),
        "text_no_rerank_p95_ms": pct(fused_ms, 95),
        "text_no_rerank_cpu_p50_ms": pct(cpu["fused"], 50),
        "text_no_rerank_cpu_p95_ms": pct(cpu["fused"], 95),
        "id_p50_ms": pct(id_ms, 50),
        "id_p95_ms": pct(id_ms, 95),
        "baseline_tfidf_p50_ms": pct(base_ms, 50),
        "baseline_tfidf_p95_ms": pct(base_ms, 95),
        "text_cpu_p50_ms": pct(cpu["text"], 50),
        "text_cpu_p95_ms": pct(cpu["text"], 95),
        "id_cpu_p50_ms": pct(cpu["id"], 50),
        "id_cpu_p95_ms": pct(cpu["id"], 95),
        "baseline_cpu_p50_ms": pct(cpu[""], 50),
        "baseline_cpu_p95_ms": pct(cpu[""], 95),
        **(
            {
                "text_no_minilm_p50_ms": pct(plain_ms, 50),
                "text_no_minilm_p95_ms": pct(plain_ms, 95),
                "text_no_minilm_cpu_p50_ms": pct(cpu["plain"], 50),
                "text_no_minilm_cpu_p95_ms": pct(cpu["plain"], 95),
            }
            if dense is not None
            else {}
        ),
        "queries": len(queries),
        "fake_embeddings": fake,
        "loadavg": Path("/proc/loadavg").read_text().split()[0],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--semantic", action="store_true")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--reuse", action="store_true", help="reuse indexes built by an earlier run")
    ap.add_argument(
        "--fake-embeddings",
        action="store_true",
        help="time --semantic queries with random embeddings on the lexical index",
    )
    ap.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.semantic, args.queries, args.fake_embeddings)))
        return
    for n in (int(s) for s in args.sizes.split(",")):
        out = WORK / f"idx_{n}{'_sem' if args.semantic and not args.fake_embeddings else ''}"
        if not (args.reuse and (out / "manifest.json").exists()):
            built = build(n, args.semantic and not args.fake_embeddings, held_out=args.queries)
            print(json.dumps(built), flush=True)
        cmd = [sys.executable, __file__, "--measure", str(n), "--queries", str(args.queries)]
        if args.semantic:
            cmd.append("--semantic")
        if args.fake_embeddings:
            cmd.append("--fake-embeddings")
        print(
            subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip(),
            flush=True,
        )


if __name__ == "__main__":
    main()
