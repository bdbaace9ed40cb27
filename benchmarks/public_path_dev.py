"""Dev set for the public path of own-archive models: the model alone vs what ``newstag
suggest`` prints, on data that is never a test split.

Reuters-21578 ModApte *train* only (one 80/20 split per field, topics / places / people, as
``benchmarks/reuters_cv.py`` cuts places) and Wikinews *before 2013* (train before 2011,
score 2011-2012). Each model is trained once and saved under ``--models`` (reused by later
runs), so a change to the assembly is compared on the same models.

    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/public_path_dev.py \
        --models /tmp/newstag-dev-models
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_common import ours, public_row, report, score  # noqa: E402

from newstag.io.corpus import read_corpus, reuters_tag_aliases  # noqa: E402
from newstag.paths import REPO_ROOT, shared_data  # noqa: E402
from newstag.tagging.config import read_config  # noqa: E402

SETS = ("reuters-topics", "reuters-places", "reuters-people", "wikinews")


def reuters_split(field: str) -> tuple[list, list, set[str], dict]:
    """80/20 of the ModApte training stories of ``field`` (fixed seed); labels seen in both."""
    import numpy as np

    folder = shared_data("reuters21578")
    aliases = reuters_tag_aliases(folder / "cat-descriptions_120396.txt")
    records = [
        r
        for r in read_corpus(folder, reuters_field=field, reuters_dateline=field == "places")
        if (r.meta["lewissplit"], r.meta["topics_attr"]) == ("TRAIN", "YES") and r.tags
    ]
    perm = np.random.default_rng(0).permutation(len(records))
    n_te = len(records) // 5
    test = [records[i] for i in sorted(perm[:n_te])]
    train = [records[i] for i in sorted(perm[n_te:])]
    labels = {t for r in train for t in r.tags} & {t for r in test for t in r.tags}
    return train, test, labels, {"aliases": aliases, "n_jobs": 1}


def wikinews_split() -> tuple[list, list, None, dict]:
    """Wikinews before 2011 to train, 2011-2012 to score (the test years are never read)."""
    folder = shared_data("wikinews")
    records = list(read_corpus(str(folder / "wikinews_en_part*.jsonl.gz")))
    train = [r for r in records if r.date and r.date < "2011"]
    test = [r for r in records if r.date and "2011" <= r.date < "2013"]
    return train, test, None, read_config(REPO_ROOT / "configs" / "default-model.toml")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    ap.add_argument("--models", required=True, help="Folder of the saved dev models.")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out", default="public-path-dev", help="Name of the results file.")
    args = ap.parse_args()
    rows = []
    for name in args.sets:
        if name == "wikinews":
            train, test, labels, params = wikinews_split()
        else:
            train, test, labels, params = reuters_split(name.split("-")[1])
        print(f"{name}: {len(train)} train / {len(test)} dev", flush=True)
        mine = ours(train, test, n_process=args.jobs, reuse=Path(args.models) / name, **params)
        known = mine["model"].tag_counts_
        row = {
            "what": f"dev {name}",
            "path": "model",
            "ours": score(test, mine, labels, known),
            "ours_train_s": mine["train_seconds"],
        }
        rows += [row, public_row(row, mine, score(test, mine["public"], labels, known))]
        for r in rows[-2:]:
            m = r["ours"]
            print(
                f"  {r['what']}: P@1 {m['p_at_1']:.3f} P@5 {m['p_at_5']:.3f} "
                f"R@5 {m['r_at_5']:.3f} micro P/R/F1 {m['micro_precision']:.3f}/"
                f"{m['micro_recall']:.3f}/{m['micro_f1']:.3f}",
                flush=True,
            )
    report(args.out, rows, "nice .venv/bin/python " + " ".join(["benchmarks/public_path_dev.py"]))


if __name__ == "__main__":
    main()
