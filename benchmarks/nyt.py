"""NYT April 2018 (headline + snippet): first 80% by date to train, last 20% to test.

The baseline (TF-IDF + LinearSVC, C=1) learns the tags with >= 2 training articles;
newstag's model learns every training tag. Every test tag is counted (unseen = miss).
Two rows: the model alone, and the public path (the top 10 tags ``newstag suggest`` prints).

    nice .venv/bin/python benchmarks/nyt.py
    nice .venv/bin/python benchmarks/nyt.py --fold-split date \
        --sources classifier,knn,linker,labels,period --out nyt-period
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_common import (  # noqa: E402
    add_reuse_arg,
    add_time_args,
    baseline,
    ours,
    peak_rss_mb,
    public_row,
    report,
    score,
    time_params,
)

from newstag.io.corpus import read_corpus, split_by_date  # noqa: E402
from newstag.paths import shared_data  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default="nyt", help="Name of the results file.")
    add_reuse_arg(ap)
    add_time_args(ap)
    args = ap.parse_args()
    folder = shared_data("nyt-2018-04")
    if folder is None:
        sys.exit("needs ../shared/data/nyt-2018-04")
    records = list(read_corpus(folder / "articles.jsonl"))
    train, test = split_by_date(records, 0.8)
    print(f"{len(train)} train / {len(test)} test", flush=True)
    t0 = time.perf_counter()
    base = baseline(train, test, min_count=2, Cs=(1.0,))
    print(f"  baseline ({time.perf_counter() - t0:.0f}s)", flush=True)
    mine = ours(
        train, test, n_process=args.jobs, reuse=args.reuse_model, n_jobs=1, **time_params(args)
    )
    known = mine["model"].tag_counts_
    row = {
        "what": "NYT 2018-04",
        "path": "model",
        "ours": score(test, mine, None, known),
        "baseline": score(test, base, None, known),
        "ours_train_s": mine["train_seconds"],
        "baseline_train_s": base["train_seconds"],
        "rank_docs_per_s": mine["rank_docs_per_s"],
        "suggest_docs_per_s": mine["suggest_docs_per_s"],
        "peak_rss_mb": peak_rss_mb(),
        **time_params(args),
    }
    print(row, flush=True)
    public = public_row(row, mine, score(test, mine["public"], None, known))
    print(public["what"], public["ours"], flush=True)
    report(
        args.out,
        [row, public],
        "nice .venv/bin/python benchmarks/" + " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    )


if __name__ == "__main__":
    main()
