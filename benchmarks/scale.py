"""Articles per second for one process, the multiprocessing path and a 2-worker Dask cluster.

All three tag the same Wikinews articles (title + body, from the shared data) with the
same tagger; each figure is the wall time of the whole job, model loading included
(cluster start-up excluded). Usage:

    nice .venv/bin/python benchmarks/scale.py [--n 5000] [--workers 2] [--repeat 1]
        [--model default] [--out benchmarks/scale.md]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from newstag.paths import shared_data


def wikinews(n: int) -> list[dict[str, str]]:
    folder = shared_data("wikinews")
    if folder is None:
        sys.exit("needs the shared data (../shared/data/wikinews or $NEWSTAG_SHARED_DATA)")
    out: list[dict[str, str]] = []
    for path in sorted(folder.glob("wikinews_en_part*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                if rec.get("title") and rec.get("text"):
                    out.append({"id": rec["id"], "title": rec["title"], "body": rec["text"]})
                if len(out) >= n:
                    return out
    return out


def run_local(src: Path, tmp: Path, model: str, n_process: int, tag: str) -> float:
    from newstag.jobs.batch import run_batch

    out = tmp / f"{tag}.parquet"
    start = time.perf_counter()
    summary = run_batch(
        src, out, model=model, n_process=n_process, chunk_size=500, progress=False, overwrite=True
    )
    seconds = time.perf_counter() - start
    assert summary.total > 0
    return summary.total / seconds


def run_dask(src: Path, tmp: Path, model: str, workers: int, tag: str) -> float:
    from dask.distributed import Client, LocalCluster

    from newstag.jobs.dask import loaded_taggers, run_batch

    with LocalCluster(
        n_workers=workers,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        silence_logs=40,
    ) as cluster:
        out = tmp / f"{tag}-dask"
        start = time.perf_counter()
        summary = run_batch(src, out, cluster.scheduler_address, model=model, overwrite=True)
        seconds = time.perf_counter() - start
        with Client(cluster.scheduler_address) as client:
            loads = client.run(loaded_taggers)
    assert all(v == 1 for v in loads.values()), loads
    return summary.total / seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--model", default="default")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    import newstag.jobs.batch
    import newstag.jobs.dask  # noqa: F401  (import all code now, not mid-run)

    records = wikinews(args.n)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        src = tmp / "articles.jsonl"
        src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        from newstag import load

        mode = load(model=args.model).mode
        runs: dict[str, list[float]] = {"one": [], "mp": [], "dask": []}
        for i in range(args.repeat):
            runs["one"].append(run_local(src, tmp, args.model, 1, f"one{i}"))
            print(f"1 process: {runs['one'][-1]:.1f} articles/s", file=sys.stderr)
            runs["mp"].append(run_local(src, tmp, args.model, args.workers, f"mp{i}"))
            print(f"{args.workers} processes: {runs['mp'][-1]:.1f} articles/s", file=sys.stderr)
            runs["dask"].append(run_dask(src, tmp, args.model, args.workers, f"dask{i}"))
            print(f"dask x{args.workers}: {runs['dask'][-1]:.1f} articles/s", file=sys.stderr)
    med = {k: statistics.median(v) for k, v in runs.items()}
    cmd = (
        f"nice .venv/bin/python benchmarks/scale.py --n {args.n} --workers {args.workers} "
        f"--repeat {args.repeat} --model {args.model}"
    )
    w = args.workers
    rows = [
        ("1 process (`newstag batch`)", med["one"]),
        (f"multiprocessing, {w} processes (`--n-process {w}`)", med["mp"]),
        (f"Dask LocalCluster, {w} worker processes (`--dask`)", med["dask"]),
    ]
    lines = [
        "# Scale-out: articles per second",
        "",
        f"{len(records):,} Wikinews articles (title + body), tagger mode `{mode}` "
        f"(model `{args.model}`), {os.cpu_count()} CPU cores shared with other jobs, "
        f"median of {args.repeat} run(s); wall time of the whole job incl. model loading.",
        "",
        "| what | articles/s | baseline: 1 process, articles/s | ratio | command |",
        "| --- | --- | --- | --- | --- |",
    ]
    for what, value in rows:
        lines.append(
            f"| {what} | {value:.1f} | {med['one']:.1f} | {value / med['one']:.2f}x | `{cmd}` |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
