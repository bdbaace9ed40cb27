"""Bounded HTTP load on ``newstag serve`` over loopback, with the spaCy-alone floor.

    nice .venv/bin/python benchmarks/load.py [--seconds 30] [--out benchmarks/load.md]

1. Builds 600-word articles (Wikinews from ../shared/data when present, else synthetic).
2. Starts ``newstag serve --workers 1 --model-processes <cores>`` and runs closed-loop
   keep-alive clients at concurrency 1, 4 and 16 for ``--seconds`` each (default 3 x 30 s;
   capped at 2 minutes of load), counting every non-200 answer or transport failure as an
   error. Concurrency 1 runs in 4 slices alternating with in-process timing of spaCy alone
   (the NER pipeline on the same texts: the floor), and concurrency 4 alternating with the
   batch engine (``Tagger.suggest_many`` in one process, what ``newstag batch`` runs), so
   each pair of figures sees the same background load.
3. Writes a markdown table (``--out``) and prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from newstag.paths import shared_data
from newstag.service.testing import start_server

WORDS = 600
LEVELS = (1, 4, 16)


def articles(n: int) -> tuple[list[dict[str, str]], str]:
    """Up to ``n`` distinct articles of exactly 600 words each, and where they came from."""
    out: list[dict[str, str]] = []
    for part in range(6):
        path = shared_data("wikinews", f"wikinews_en_part{part:02d}.jsonl.gz")
        if path is None:
            break
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                words = rec.get("text", "").split()
                if len(words) >= WORDS:
                    out.append({"title": rec["title"], "body": " ".join(words[:WORDS])})
                if len(out) >= n:
                    break
        if len(out) >= n:
            break
    if out:
        return out, (
            f"{len(out)} Wikinews articles (../shared/data), the first 600 words of each, in turn"
        )
    base = (
        "Prime Minister Anna Lindqvist met German Chancellor Olaf Scholz in Berlin on "
        "Tuesday to discuss energy prices, the war in Ukraine and trade with China. "
    )
    while len(out) < n:
        words = (base * 40).split()[:WORDS]
        out.append({"title": f"Leaders meet in Berlin ({len(out)})", "body": " ".join(words)})
    return out, "synthetic 600-word articles (shared data absent)"


class Floor:
    """spaCy alone (the NER pipeline on the article text) and the batch engine, in-process."""

    def __init__(self, arts: list[dict[str, str]], model: str) -> None:
        from newstag.io.article import from_record
        from newstag.nlp.pipeline import load_pipeline
        from newstag.tagging.tagger import Tagger

        self.tagger = Tagger.load(model=model)
        self.nlp = load_pipeline()
        self.items = [from_record(a, "bench") for a in arts]
        self.nlp(self.items[0].text)
        self.times: list[float] = []
        self.suggest_times: list[float] = []
        self.i = self.j = self.batch_n = 0
        self.batch_s = 0.0

    def spacy(self, seconds: float) -> None:
        """Time ``nlp(text)`` (the floor) and, on every other article, the whole in-process
        ``Tagger.suggest`` (the service's work without HTTP) for ``seconds``."""
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            item = self.items[self.i % len(self.items)]
            t0 = time.perf_counter()
            self.nlp(item.text)
            self.times.append(time.perf_counter() - t0)
            if self.i % 2:
                t0 = time.perf_counter()
                self.tagger.suggest(item)
                self.suggest_times.append(time.perf_counter() - t0)
            self.i += 1

    def batch(self, seconds: float) -> None:
        """Run ``Tagger.suggest_many`` (one process, as ``newstag batch``) on chunks of 16
        articles for about ``seconds``; adds to the article count and time."""
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            chunk = [self.items[(self.j + k) % len(self.items)] for k in range(16)]
            t0 = time.perf_counter()
            self.batch_n += len(list(self.tagger.suggest_many(chunk, n_process=1)))
            self.batch_s += time.perf_counter() - t0
            self.j += 16


def run_level(
    port: int, arts: list[dict[str, str]], concurrency: int, seconds: float
) -> dict[str, Any]:
    """Closed-loop clients for ``seconds``; latencies of 200 answers and error counts."""
    bodies = [json.dumps(a).encode() for a in arts]
    lat: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        i = k
        while time.perf_counter() < stop:
            body = bodies[i % len(bodies)]
            i += concurrency
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/v1/suggest", body, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                status = str(resp.status)
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            dt = time.perf_counter() - t0
            with lock:
                if status == "200":
                    lat.append(dt)
                else:
                    errors[status] = errors.get(status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return summary(concurrency, lat, wall, errors)


def summary(
    concurrency: int, lat: list[float], wall: float, errors: dict[str, int]
) -> dict[str, Any]:
    ms = np.array(lat) * 1000 if lat else np.array([float("nan")])
    return {
        "concurrency": concurrency,
        "requests": len(lat),
        "seconds": round(wall, 2),
        "throughput": len(lat) / wall,
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "p99_ms": float(np.percentile(ms, 99)),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "lat": lat,
    }


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary of several runs at the same concurrency."""
    errors: dict[str, int] = {}
    for p in parts:
        for k, v in p["error_kinds"].items():
            errors[k] = errors.get(k, 0) + v
    return summary(
        parts[0]["concurrency"],
        [x for p in parts for x in p["lat"]],
        sum(p["seconds"] for p in parts),
        errors,
    )


def table(res: dict[str, Any], cmd: str) -> str:
    f = res["floor"]
    lv = {r["concurrency"]: r for r in res["levels"]}
    c = f"`{cmd}`"
    rows = [
        "| what | figure | baseline (same run) | ratio | goal | command |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    c1, c4 = lv.get(1), lv.get(4)
    if c1:
        rows.append(
            f"| p50 latency, concurrency 1, POST /v1/suggest (600-word articles) | "
            f"{c1['p50_ms']:.1f} ms | spaCy alone on the same articles: "
            f"{f['spacy_ms']:.1f} ms (median) | {c1['p50_ms'] / f['spacy_ms']:.2f}x | "
            f"<= 1.3x | {c} |"
        )
        rows.append(
            f"| p50 latency, concurrency 1 (as above) | {c1['p50_ms']:.1f} ms | "
            f"in-process Tagger.suggest on the same articles (the service's work "
            f"without HTTP): {f['suggest_ms']:.1f} ms (median) | "
            f"{c1['p50_ms'] / f['suggest_ms']:.2f}x | | {c} |"
        )
    if c4:
        rows.append(
            f"| throughput, concurrency 4 | {c4['throughput']:.2f} articles/s | "
            f"batch engine (suggest_many, 1 process): {f['batch_rate']:.2f} articles/s | "
            f"{c4['throughput'] / f['batch_rate']:.2f}x | >= 0.8x | {c} |"
        )
    for r in res["levels"]:
        rows.append(
            f"| concurrency {r['concurrency']}: throughput; latency p50 / p95 / p99; "
            f"errors | {r['throughput']:.2f} req/s; {r['p50_ms']:.0f} / "
            f"{r['p95_ms']:.0f} / {r['p99_ms']:.0f} ms; {r['errors']} errors in "
            f"{r['requests'] + r['errors']} requests | | | 0 errors | {c} |"
        )
    meta = (
        f"\nServer: `newstag serve --workers {res['workers']} "
        f"--model-processes {res['model_processes']}` (tagger mode: {f['tagger_mode']}), "
        f"{res['seconds']:g} s per level, keep-alive clients on loopback. Articles: "
        f"{res['source']}. Machine: {os.cpu_count()} cores shared with other jobs; load "
        f"average {res['load_before']} before the run and {res['load_after']} after. "
        "Concurrency 1 alternated with the spaCy-alone timing and concurrency 4 with the "
        "batch engine, so each ratio compares figures taken under the same background "
        "load. Latencies are percentiles over every request of the level.\n"
    )
    return "\n".join(rows) + "\n" + meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="Load time per level.")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn workers.")
    ap.add_argument(
        "--model-processes",
        type=int,
        default=os.cpu_count() or 2,
        help="Model processes per worker (0: model in the worker).",
    )
    ap.add_argument("--articles", type=int, default=120)
    ap.add_argument("--model", default="default")
    ap.add_argument(
        "--batch-requests",
        type=int,
        default=1,
        help="Server's --batch-requests (1: no request batching).",
    )
    ap.add_argument("--out", type=Path, default=None, help="Write the markdown table here.")
    args = ap.parse_args(argv)
    seconds = min(args.seconds, 120.0 / len(LEVELS))  # bounded: 2 minutes of load at most
    arts, source = articles(args.articles)
    load_before = os.getloadavg()[0]
    floor = Floor(arts, args.model)
    rounds = 4  # c=1 alternates with spaCy alone and c=4 with the batch engine, so that
    # each pair sees the same background load
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(
            [
                "--model",
                args.model,
                "--workers",
                str(args.workers),
                "--model-processes",
                str(args.model_processes),
                "--batch-requests",
                str(args.batch_requests),
                "--feedback-db",
                str(Path(tmp) / "fb.sqlite3"),
            ],
            ready="/readyz",
            timeout=300,
        )
        port = int(url.rsplit(":", 1)[1])
        try:
            run_level(port, arts[:8], 4, 3.0)  # warm every worker
            print(
                f"concurrency 1 for {seconds:g} s, alternating with spaCy alone ...",
                file=sys.stderr,
            )
            parts = []
            for _ in range(rounds):
                floor.spacy(seconds / rounds / 2)
                parts.append(run_level(port, arts, 1, seconds / rounds))
            levels = [merge(parts)]
            print(
                f"concurrency 4 for {seconds:g} s, alternating with the batch engine ...",
                file=sys.stderr,
            )
            parts = []
            for _ in range(rounds):
                floor.batch(seconds / rounds / 2)
                parts.append(run_level(port, arts, 4, seconds / rounds))
            levels.append(merge(parts))
            for c in LEVELS[2:]:
                print(f"concurrency {c} for {seconds:g} s ...", file=sys.stderr)
                levels.append(run_level(port, arts, c, seconds))
        finally:
            proc.terminate()
            proc.wait(30)
    res = {
        "floor": {
            "spacy_ms": statistics.median(floor.times) * 1000,
            "suggest_ms": statistics.median(floor.suggest_times) * 1000,
            "spacy_n": len(floor.times),
            "batch_rate": floor.batch_n / floor.batch_s,
            "batch_n": floor.batch_n,
            "tagger_mode": floor.tagger.mode,
        },
        "levels": [{k: v for k, v in lv.items() if k != "lat"} for lv in levels],
        "workers": args.workers,
        "model_processes": args.model_processes,
        "seconds": seconds,
        "source": source,
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    cmd = "nice .venv/bin/python benchmarks/load.py " + " ".join(argv or sys.argv[1:])
    if args.out:
        args.out.write_text(table(res, cmd.strip()))
    print(json.dumps(res, indent=1))
    print(table(res, cmd.strip()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
