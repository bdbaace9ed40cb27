"""Peak memory and time of ``newstag suggest`` on a long article (issue 15).

    nice .venv/bin/python benchmarks/long_article.py [--mb 2.0] [--repeat 3] [--model default]
        [--unsplit-mb 0.9]

1. Builds a plain-text article of ``--mb`` million characters (a headline, then the
   paragraphs of the sample stories in ``data/sample`` repeated) in a temporary folder.
2. Runs ``newstag suggest FILE --format json`` as a subprocess ``--repeat`` times, and the
   same command on ``data/sample/kim-putin-summit.txt`` (an ordinary article: the baseline)
   just before each, reading each child's peak resident memory from ``os.wait4``.
3. With ``--unsplit-mb`` > 0, also runs an article of that size parsed in one piece (what
   newstag did before it split long texts; spaCy refuses more than 1,000,000 characters).
4. Prints a markdown table of medians and the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
BASELINE = SAMPLE / "kim-putin-summit.txt"
CHILD = (
    "import sys; import newstag.nlp.chunks as c; c.PIECE_CHARS = int(sys.argv[1]); "
    "from newstag.cli import main; sys.argv = ['newstag', *sys.argv[2:]]; main()"
)


def build_article(chars: int) -> str:
    """A headline and the sample stories' paragraphs, repeated up to ``chars`` characters."""
    from newstag.io.article import read_article

    paragraphs = [
        p
        for name in ("kim-putin-summit.txt", "gaza-aid-convoy.txt", "central-bank.txt")
        for p in read_article(SAMPLE / name).body.split("\n\n")
    ]
    parts, size, i = ["Long read: a year of summits, aid convoys and interest rates"], 0, 0
    while size < chars:
        parts.append(paragraphs[i % len(paragraphs)])
        size += len(parts[-1]) + 2
        i += 1
    return "\n\n".join(parts)[:chars]


def measure(path: Path, model: str, piece_chars: int | None = None) -> tuple[float, float]:
    """(seconds, peak resident MB) of one ``newstag suggest`` subprocess."""
    if piece_chars:
        cmd = [sys.executable, "-c", CHILD, str(piece_chars)]
    else:
        cmd = [sys.executable, "-m", "newstag"]
    cmd += ["suggest", str(path), "--format", "json", "--model", model]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err[-500:]}")
    return seconds, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=2.0, help="article size, million chars")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", default="default")
    parser.add_argument(
        "--unsplit-mb",
        type=float,
        default=0.0,
        help="also parse an article of this size in one piece (0: skip)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        long_path = Path(tmp) / "long.txt"
        long_path.write_text(build_article(int(args.mb * 1_000_000)))
        base, long = [], []
        for _ in range(args.repeat):
            base.append(measure(BASELINE, args.model))
            long.append(measure(long_path, args.model))
        unsplit = None
        if args.unsplit_mb > 0:
            one_path = Path(tmp) / "unsplit.txt"
            one_path.write_text(build_article(int(args.unsplit_mb * 1_000_000)))
            unsplit = measure(one_path, args.model, piece_chars=1_000_000)

    def med(rows: list[tuple[float, float]], i: int) -> float:
        return statistics.median(r[i] for r in rows)

    figures = {
        "article_chars": int(args.mb * 1_000_000),
        "model": args.model,
        "repeat": args.repeat,
        "long_peak_mb": round(med(long, 1)),
        "long_seconds": round(med(long, 0), 1),
        "baseline_peak_mb": round(med(base, 1)),
        "baseline_seconds": round(med(base, 0), 1),
        "load_average": round(os.getloadavg()[0], 2),
    }
    if unsplit:
        figures.update(
            unsplit_chars=int(args.unsplit_mb * 1_000_000),
            unsplit_peak_mb=round(unsplit[1]),
            unsplit_seconds=round(unsplit[0], 1),
        )
    print("| what | peak memory | time | baseline (same run) | ratio |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| `newstag suggest` {args.mb:g} MB article | {figures['long_peak_mb']} MB | "
        f"{figures['long_seconds']} s | sample article {figures['baseline_peak_mb']} MB, "
        f"{figures['baseline_seconds']} s | "
        f"{figures['long_peak_mb'] / figures['baseline_peak_mb']:.2f} |"
    )
    if unsplit:
        print(
            f"| {args.unsplit_mb:g} MB in one piece (before) | {figures['unsplit_peak_mb']} MB "
            f"| {figures['unsplit_seconds']} s | | |"
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
