"""Read rate of the one record reader (``newstag.io.records``) against Python's own readers.

Writes a synthetic CSV (with a BOM) and JSON-lines file of ``--n`` articles to a temporary
folder, then reads each, interleaved ``--repeat`` times: ``read_records`` (binary lines,
per-line UTF-8 check, line numbers, missing values dropped) and the baseline the commands used
before, ``csv.DictReader`` / ``json.loads`` over a text-mode file (``utf-8-sig``). Prints JSON
with the median records per second of each and their ratio.

    .venv/bin/python benchmarks/records.py --n 20000 --repeat 5
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from newstag.io.records import read_records

BODY = (
    "The central bank raised its main interest rate by a quarter point on Tuesday, "
    "saying inflation had stayed above its target for a third quarter. "
) * 6


def write_inputs(folder: Path, n: int) -> dict[str, Path]:
    """A CSV with a BOM and a JSON-lines file of ``n`` articles each."""
    rows = [
        {
            "id": f"a{i}",
            "title": f"Story number {i} about rates",
            "body": BODY,
            "date": "2024-05-01" if i % 3 else "",
        }
        for i in range(n)
    ]
    csv_path, jsonl_path = folder / "in.csv", folder / "in.jsonl"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with jsonl_path.open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    return {"csv": csv_path, "jsonl": jsonl_path}


def baseline(path: Path) -> int:
    """What the readers did before: text mode, ``utf-8-sig``, the stdlib parsers."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        if path.suffix == ".csv":
            return sum(1 for _ in csv.DictReader(fh))
        return sum(1 for line in fh if line.strip() and json.loads(line) is not None)


def newstag_reader(path: Path) -> int:
    return sum(1 for rec in read_records(path) if rec.ok)


def rate(read: Callable[[Path], int], path: Path, n: int) -> float:
    start = time.perf_counter()
    assert read(path) == n
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_inputs(Path(tmp), args.n)
        out = {}
        for fmt, path in paths.items():
            ours, base = [], []
            for _ in range(args.repeat):  # interleaved: both sides see the same load
                ours.append(rate(newstag_reader, path, args.n))
                base.append(rate(baseline, path, args.n))
            out[fmt] = {
                "records_per_s": round(statistics.median(ours)),
                "baseline_records_per_s": round(statistics.median(base)),
                "ratio": round(statistics.median(ours) / statistics.median(base), 3),
                "mb": round(path.stat().st_size / 1e6, 1),
            }
    print(json.dumps({"n": args.n, "repeat": args.repeat, **out}, indent=2))


if __name__ == "__main__":
    main()
