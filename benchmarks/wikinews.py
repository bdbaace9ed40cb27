"""Wikinews temporal split: train on articles dated before 2013, test on 2013-2015.

The baseline (TF-IDF + LinearSVC, C=1) learns the tags with >= 5 training articles;
newstag's model is trained with the default model's settings, read from
``configs/default-model.toml`` (every tag with >= 2 training articles, SVMs for the 100 most
frequent tags, 2 held-out folds); ``--max-clf-labels`` and ``--folds`` override them.
Every test tag is counted (unseen = miss). Each model gets two rows: the model alone (its
ranking and threshold) and the public path (the top 10 tags ``newstag suggest`` prints, the
story's entities assembled with the model's tags), both scored the same way.
``--fold-split random,date`` trains once per way of cutting the combiner's held-out folds
(random, or contiguous date blocks) in the same run; ``--train-limit N`` keeps the latest N
training articles (quicker runs); ``--sources`` overrides the config's candidate sources
(``...,labels,period`` adds the tags' periods of use).

    nice .venv/bin/python benchmarks/wikinews.py
    nice .venv/bin/python benchmarks/wikinews.py --no-baseline --fold-split random,date \
        --train-limit 4000 --out wikinews-fold-split
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_common import add_reuse_arg, baseline, ours, peak_rss_mb, public_row, report, score  # noqa: E402

from newstag.io.corpus import read_corpus  # noqa: E402
from newstag.paths import REPO_ROOT, shared_data  # noqa: E402
from newstag.tagging.config import read_config  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--config",
        default=str(REPO_ROOT / "configs" / "default-model.toml"),
        help="Training config (TOML) of the model.",
    )
    ap.add_argument("--max-clf-labels", type=int, default=None)
    ap.add_argument("--folds", type=int, default=None)
    ap.add_argument(
        "--no-baseline",
        action="store_true",
        help="Skip the TF-IDF + LinearSVC baseline (quicker runs while developing).",
    )
    ap.add_argument("--no-tag-thresholds", action="store_true", help="Global threshold only.")
    ap.add_argument("--save-model", default=None, help="Also save the trained bundle here.")
    ap.add_argument(
        "--fold-split",
        default=None,
        help="Comma-separated fold splits to compare (random, date); default: the config's.",
    )
    ap.add_argument(
        "--train-limit", type=int, default=None, help="Keep only the latest N training articles."
    )
    ap.add_argument(
        "--sources",
        default=None,
        help="Comma-separated candidate sources (e.g. add 'period'); default: the config's.",
    )
    ap.add_argument("--out", default="wikinews", help="Name of the results file.")
    add_reuse_arg(ap)
    args = ap.parse_args()
    folder = shared_data("wikinews")
    if folder is None:
        sys.exit("needs ../shared/data/wikinews")
    records = list(read_corpus(str(folder / "wikinews_en_part*.jsonl.gz")))
    train = [r for r in records if r.date and r.date < "2013"]
    test = [r for r in records if r.date and r.date >= "2013"]
    if args.train_limit:
        train = sorted(train, key=lambda r: r.date or "")[-args.train_limit :]
    print(f"{len(train)} train / {len(test)} test", flush=True)
    base = None
    if not args.no_baseline:
        t0 = time.perf_counter()
        base = baseline(train, test, min_count=5, Cs=(1.0,))
        print(f"  baseline ({time.perf_counter() - t0:.0f}s)", flush=True)
    params = read_config(args.config)
    overrides = {
        "max_clf_labels": args.max_clf_labels,
        "folds": args.folds,
        "tag_thresholds": False if args.no_tag_thresholds else None,
        "sources": tuple(args.sources.split(",")) if args.sources else None,
    }
    params.update({k: v for k, v in overrides.items() if v is not None})
    splits = args.fold_split.split(",") if args.fold_split else [params.get("fold_split")]
    rows = []
    for split in splits:
        if split:
            params["fold_split"] = split
        reuse = f"{args.reuse_model}-{split}" if args.reuse_model and split else args.reuse_model
        mine = ours(train, test, n_process=args.jobs, out=args.save_model, reuse=reuse, **params)
        known = mine["model"].tag_counts_
        row = {
            "what": f"Wikinews temporal ({split or 'random'} folds)",
            "ours": score(test, mine, None, known),
            "baseline": score(test, base, None, known) if base else None,
            "path": "model",
            "fold_split": split or "random",
            "sources": list(params.get("sources") or []),
            "n_train": len(train),
            "n_test": len(test),
            "ours_train_s": mine["train_seconds"],
            "baseline_train_s": base["train_seconds"] if base else None,
            "rank_docs_per_s": mine["rank_docs_per_s"],
            "suggest_docs_per_s": mine["suggest_docs_per_s"],
            "peak_rss_mb": peak_rss_mb(),
            "tag_thresholds": not args.no_tag_thresholds,
            "heldout": mine["model"].heldout_,
            "load_average": list(os.getloadavg()),
        }
        print(row, flush=True)
        rows.append(row)
        rows.append(public_row(row, mine, score(test, mine["public"], None, known)))
        print(rows[-1]["what"], rows[-1]["ours"], flush=True)
    report(
        args.out,
        rows,
        "nice .venv/bin/python benchmarks/" + " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    )


if __name__ == "__main__":
    main()
