"""Reuters-21578 ModApte: newstag's model vs TF-IDF + LinearSVC (C by 3-fold CV on train).

Topics are scored on the 90 categories with a train and a test story (7,769 / 3,019);
places and people the same way (labels with a train and a test story; stories with one).

    nice .venv/bin/python benchmarks/reuters.py [--fields topics places people]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_common import baseline, ours, peak_rss_mb, report, score  # noqa: E402

from newstag.corpus import read_corpus  # noqa: E402
from newstag.paths import shared_data  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fields", nargs="+", default=["topics", "places", "people"])
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    folder = shared_data("reuters21578")
    if folder is None:
        sys.exit("needs ../shared/data/reuters21578")
    rows = []
    for field in args.fields:
        records = list(read_corpus(folder, reuters_field=field))
        split = {r.id: (r.meta["lewissplit"], r.meta["topics_attr"]) for r in records}
        train_all = [r for r in records if split[r.id] == ("TRAIN", "YES")]
        test_all = [r for r in records if split[r.id] == ("TEST", "YES")]
        cats = {t for r in train_all for t in r.tags} & {t for r in test_all for t in r.tags}
        train = [r for r in train_all if set(r.tags) & cats]
        test = [r for r in test_all if set(r.tags) & cats]
        labels = cats
        print(f"{field}: {len(train)} train / {len(test)} test, {len(labels)} labels",
              flush=True)
        t0 = time.perf_counter()
        base = baseline(train, test, Cs=(0.1, 0.5, 1.0))
        print(f"  baseline C={base['C']} ({time.perf_counter() - t0:.0f}s)", flush=True)
        mine = ours(train, test, n_process=args.jobs, n_jobs=1)
        known = mine["model"].tag_counts_
        rows.append({"what": f"Reuters {field}", "ours": score(test, mine, labels, known),
                     "baseline": score(test, base, labels, known),
                     "ours_train_s": mine["train_seconds"],
                     "baseline_train_s": base["train_seconds"], "baseline_C": base["C"],
                     "rank_docs_per_s": mine["rank_docs_per_s"],
                     "suggest_docs_per_s": mine["suggest_docs_per_s"],
                     "peak_rss_mb": peak_rss_mb()})
        print(rows[-1], flush=True)
    report("reuters", rows, "nice .venv/bin/python benchmarks/reuters.py")


if __name__ == "__main__":
    main()
