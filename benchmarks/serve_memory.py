"""Resident memory per worker of ``newstag serve --workers 2``, shipped model vs entity mode.

    nice .venv/bin/python benchmarks/serve_memory.py [--requests 20] [--model default]

Starts the service on loopback with ``--workers 2`` (the shipped model, then ``--model none``
as the baseline), sends ``--requests`` suggestions so both workers have scored articles, and
reads each worker process's ``/proc/PID/smaps_rollup``: RSS, PSS (RSS with shared pages split
between the processes that map them) and the shared part. The model's large arrays are
memory-mapped files, so the workers share one copy of them in the page cache.
"""

from __future__ import annotations

import argparse
import json
import urllib.request
from pathlib import Path
from typing import Any

from newstag.service.testing import start_server

ROOT = Path(__file__).resolve().parents[1]
STORY = {
    "title": "Kim Jong Un Will Meet Putin in Vladivostok",
    "body": (ROOT / "data" / "sample" / "kim-putin-summit.txt").read_text(encoding="utf-8"),
}


def rollup(pid: int) -> dict[str, int]:
    """Memory figures (kB) of one process from ``/proc/PID/smaps_rollup``."""
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":", 1)
        out[key] = int(value.split()[0])
    return out


def workers(pid: int) -> list[int]:
    """Processes below the server that run the app (the leaves of its process tree)."""
    import psutil

    children = psutil.Process(pid).children(recursive=True)
    return [
        c.pid
        for c in children
        if not c.children() and not any("resource_tracker" in part for part in c.cmdline())
    ]


def measure(model: str, requests: int) -> dict[str, Any]:
    proc, url = start_server(["--model", model, "--workers", "2"], ready="/readyz", timeout=600)
    try:
        for _ in range(requests):
            req = urllib.request.Request(
                url + "/v1/suggest",
                data=json.dumps(STORY).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(req, timeout=120) as resp:
                resp.read()
        pids = workers(proc.pid)
        figures = [rollup(p) for p in pids]
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    mb = 1024.0
    return {
        "model": model,
        "workers": len(pids),
        "rss_mb": [round(f["Rss"] / mb, 1) for f in figures],
        "pss_mb": [round(f["Pss"] / mb, 1) for f in figures],
        "shared_mb": [round((f["Shared_Clean"] + f["Shared_Dirty"]) / mb, 1) for f in figures],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--model", default="default", help="bundle to measure")
    args = parser.parse_args()
    rows = [measure(args.model, args.requests), measure("none", args.requests)]
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
