"""Wikinews temporal split: train on articles dated before 2013, test on 2013-2015.

The baseline (TF-IDF + LinearSVC, C=1) learns the tags with >= 5 training articles;
newstag's model is trained with the default model's settings, read from
``configs/default-model.toml`` (every tag with >= 2 training articles, SVMs for the 100 most
frequent tags, 2 held-out folds); ``--max-clf-labels`` and ``--folds`` override them.
Every test tag is counted (unseen = miss).

    nice .venv/bin/python benchmarks/wikinews.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_common import baseline, ours, peak_rss_mb, report, score  # noqa: E402

from newstag.io.corpus import read_corpus  # noqa: E402
from newstag.paths import REPO_ROOT, shared_data  # noqa: E402
from newstag.tagging.config import read_config  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--config", default=str(REPO_ROOT / "configs" / "default-model.toml"),
                    help="Training config (TOML) of the model.")
    ap.add_argument("--max-clf-labels", type=int, default=None)
    ap.add_argument("--folds", type=int, default=None)
    ap.add_argument("--no-baseline", action="store_true",
                    help="Skip the TF-IDF + LinearSVC baseline (quicker runs while developing).")
    ap.add_argument("--no-tag-thresholds", action="store_true",
                    help="Global threshold only.")
    ap.add_argument("--save-model", default=None, help="Also save the trained bundle here.")
    ap.add_argument("--out", default="wikinews", help="Name of the results file.")
    args = ap.parse_args()
    folder = shared_data("wikinews")
    if folder is None:
        sys.exit("needs ../shared/data/wikinews")
    records = list(read_corpus(str(folder / "wikinews_en_part*.jsonl.gz")))
    train = [r for r in records if r.date and r.date < "2013"]
    test = [r for r in records if r.date and r.date >= "2013"]
    print(f"{len(train)} train / {len(test)} test", flush=True)
    base = None
    if not args.no_baseline:
        t0 = time.perf_counter()
        base = baseline(train, test, min_count=5, Cs=(1.0,))
        print(f"  baseline ({time.perf_counter() - t0:.0f}s)", flush=True)
    params = read_config(args.config)
    overrides = {"max_clf_labels": args.max_clf_labels, "folds": args.folds,
                 "tag_thresholds": False if args.no_tag_thresholds else None}
    params.update({k: v for k, v in overrides.items() if v is not None})
    mine = ours(train, test, n_process=args.jobs, out=args.save_model, **params)
    known = mine["model"].tag_counts_
    row = {"what": "Wikinews temporal", "ours": score(test, mine, None, known),
           "baseline": score(test, base, None, known) if base else None,
           "ours_train_s": mine["train_seconds"],
           "baseline_train_s": base["train_seconds"] if base else None,
           "rank_docs_per_s": mine["rank_docs_per_s"],
           "suggest_docs_per_s": mine["suggest_docs_per_s"], "peak_rss_mb": peak_rss_mb(),
           "tag_thresholds": not args.no_tag_thresholds, "heldout": mine["model"].heldout_,
           "load_average": list(os.getloadavg())}
    print(row, flush=True)
    report(args.out, [row], "nice .venv/bin/python benchmarks/wikinews.py")


if __name__ == "__main__":
    main()
