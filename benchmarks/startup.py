"""Cold start of ``newstag suggest``: the shipped model against entity mode, in one run.

    nice .venv/bin/python benchmarks/startup.py [--repeat 7] [--out benchmarks/startup.md]

Each measurement is a fresh process (``python -m newstag ...``: wall time until it exits,
and its CPU time, user + system, which other jobs on a shared machine disturb less; files
are in the page cache after the first run, which is discarded). The two modes alternate
(model, none, model, none, ...) so both see the same background load; the figures are
medians. Also times ``newstag --help``, and reports which heavy modules the
model path imports (scikit-learn and SciPy should not be among them).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = "data/sample/kim-putin-summit.txt"
SUGGEST = ["suggest", ARTICLE]


def run(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one ``newstag ARGS`` process (it must succeed)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "newstag", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"newstag {' '.join(args)} failed: {proc.stderr.strip()}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return seconds, cpu


def heavy_imports() -> list[str]:
    """Heavy top-level packages loaded by suggesting with the shipped model."""
    code = (
        "import sys\nfrom newstag.tagging.tagger import Tagger\n"
        f"Tagger.load('default').suggest(open({ARTICLE!r}).read())\n"
        "heavy = {'sklearn', 'scipy', 'joblib', 'torch', 'pandas', 'onnxruntime'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().replace("'", '"'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7, help="runs of each mode (>= 5)")
    parser.add_argument("--out", type=Path, help="write the markdown table here")
    args = parser.parse_args()
    run(SUGGEST)  # warm the page cache; not counted
    run([*SUGGEST, "--model", "none"])
    model, entity, helps = [], [], []
    for _ in range(max(args.repeat, 1)):
        model.append(run(SUGGEST))
        entity.append(run([*SUGGEST, "--model", "none"]))
        helps.append(run(["--help"]))
    load = os.getloadavg()[0]

    def median(runs: list[tuple[float, float]], i: int) -> float:
        return statistics.median(r[i] for r in runs)

    figures = {
        "suggest_model_s": median(model, 0),
        "suggest_none_s": median(entity, 0),
        "suggest_model_cpu_s": median(model, 1),
        "suggest_none_cpu_s": median(entity, 1),
        "help_s": median(helps, 0),
        "help_cpu_s": median(helps, 1),
        "repeat": len(model),
        "load_average": round(load, 2),
        "heavy_imports": heavy_imports(),
        "runs_model": [round(x, 3) for x, _ in model],
        "runs_none": [round(x, 3) for x, _ in entity],
    }
    figures["ratio"] = figures["suggest_model_s"] / figures["suggest_none_s"]
    figures["cpu_ratio"] = figures["suggest_model_cpu_s"] / figures["suggest_none_cpu_s"]
    print(json.dumps(figures, indent=1))
    if args.out:
        args.out.write_text(table(figures), encoding="utf-8")


def table(f: dict) -> str:
    cmd = f"`.venv/bin/python benchmarks/startup.py --repeat {f['repeat']}`"
    return "\n".join(
        [
            "| what | seconds (median) | baseline (same run) | ratio | goal | command |",
            "| --- | --- | --- | --- | --- | --- |",
            f"| cold `newstag suggest {ARTICLE}` (shipped model) | {f['suggest_model_s']:.2f} | "
            f"`--model none`: {f['suggest_none_s']:.2f} | **{f['ratio']:.2f}** | <= 1.35 | {cmd} |",
            f"| the same, CPU time (user + system) | {f['suggest_model_cpu_s']:.2f} | "
            f"`--model none`: {f['suggest_none_cpu_s']:.2f} | {f['cpu_ratio']:.2f} | | same run |",
            f"| cold `newstag --help` | {f['help_s']:.2f} (CPU {f['help_cpu_s']:.2f}) | | | "
            "< 0.3 s | same run |",
            "",
            f"Load average {f['load_average']}; heavy modules imported with the model: "
            f"{', '.join(f['heavy_imports']) or 'none of scikit-learn, SciPy, joblib'}.",
            "",
        ]
    )


if __name__ == "__main__":
    main()
