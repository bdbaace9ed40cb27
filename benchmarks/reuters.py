"""Reuters-21578 ModApte: newstag's model vs TF-IDF + LinearSVC (C by 3-fold CV on train).

Topics are scored on the 90 categories with a train and a test story (7,769 / 3,019);
places and people the same way (labels with a train and a test story; stories with one).

newstag is given the collection's own category descriptions as tag aliases
(``cat-descriptions_120396.txt``: "President Raul Alfonsin (ALFONSIN)" -> alfonsin: "Raul
Alfonsin"), converted to a tag alias file by :func:`newstag.io.corpus.reuters_tag_aliases` and
read back as ``newstag train --tag-aliases`` would (``--tag-aliases none`` turns this off).
For places, stories start with their dateline ("LONDON, March 3 - "), as on the wire
(``--dateline-fields``; chosen by held-out micro-F1 on train); the baseline reads the same
texts.

Each field gets two rows: the model alone, and the public path (the top 10 tags ``newstag
suggest`` prints, scored on the same labels).

    nice .venv/bin/python benchmarks/reuters.py [--fields topics places people]
    nice .venv/bin/python benchmarks/reuters.py --fold-split date \
        --sources classifier,knn,linker,labels,period --out reuters-period
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
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

from newstag.io.corpus import (  # noqa: E402
    read_corpus,
    read_tag_aliases,
    reuters_tag_aliases,
    write_tag_aliases,
)
from newstag.paths import shared_data  # noqa: E402

RESULTS_TMP = Path(tempfile.gettempdir()) / "newstag-bench"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fields", nargs="+", default=["topics", "places", "people"])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--no-baseline",
        action="store_true",
        help="Skip the TF-IDF + LinearSVC baseline (quicker runs while developing).",
    )
    ap.add_argument("--out", default="reuters", help="Name of the results file.")
    ap.add_argument(
        "--tag-aliases",
        default="auto",
        help="'auto' (from the collection's cat-descriptions file), 'none', or an alias file.",
    )
    ap.add_argument("--no-tag-thresholds", action="store_true", help="Global threshold only.")
    ap.add_argument(
        "--dateline-fields",
        nargs="*",
        default=["places"],
        help="Fields whose stories start with their dateline ('LONDON, March 3 - "
        "'); chosen by held-out micro-F1 on train (places 0.924 with it vs "
        "0.901 without; topics 0.889 vs 0.891; people 0.898 vs 0.905).",
    )
    ap.add_argument(
        "--no-entity-cache",
        action="store_true",
        help="Extract the training articles' entities afresh (times the whole "
        "training, entity extraction included).",
    )
    add_reuse_arg(ap)
    add_time_args(ap)
    args = ap.parse_args()
    folder = shared_data("reuters21578")
    if folder is None:
        sys.exit("needs ../shared/data/reuters21578")
    aliases = None
    if args.tag_aliases == "auto":
        alias_file = RESULTS_TMP / "reuters-tag-aliases.tsv"
        alias_file.parent.mkdir(parents=True, exist_ok=True)
        write_tag_aliases(reuters_tag_aliases(folder / "cat-descriptions_120396.txt"), alias_file)
        aliases = read_tag_aliases(alias_file)
    elif args.tag_aliases != "none":
        aliases = read_tag_aliases(args.tag_aliases)
    if aliases:
        print(
            f"tag aliases: {sum(map(len, aliases.values()))} aliases of {len(aliases)} tags",
            flush=True,
        )
    rows = []
    for field in args.fields:
        dateline = field in args.dateline_fields
        records = list(read_corpus(folder, reuters_field=field, reuters_dateline=dateline))
        split = {r.id: (r.meta["lewissplit"], r.meta["topics_attr"]) for r in records}
        train_all = [r for r in records if split[r.id] == ("TRAIN", "YES")]
        test_all = [r for r in records if split[r.id] == ("TEST", "YES")]
        cats = {t for r in train_all for t in r.tags} & {t for r in test_all for t in r.tags}
        train = [r for r in train_all if set(r.tags) & cats]
        test = [r for r in test_all if set(r.tags) & cats]
        labels = cats
        print(f"{field}: {len(train)} train / {len(test)} test, {len(labels)} labels", flush=True)
        base = None
        if not args.no_baseline:
            t0 = time.perf_counter()
            base = baseline(train, test, Cs=(0.1, 0.5, 1.0))
            print(f"  baseline C={base['C']} ({time.perf_counter() - t0:.0f}s)", flush=True)
        mine = ours(
            train,
            test,
            n_process=args.jobs,
            reuse=f"{args.reuse_model}/{field}" if args.reuse_model else None,
            n_jobs=1,
            aliases=aliases,
            tag_thresholds=not args.no_tag_thresholds,
            use_cache=not args.no_entity_cache,
            **time_params(args),
        )
        known = mine["model"].tag_counts_
        rows.append(
            {
                "what": f"Reuters {field}",
                "path": "model",
                "ours": score(test, mine, labels, known),
                "baseline": score(test, base, labels, known) if base else None,
                "ours_train_s": mine["train_seconds"],
                "baseline_train_s": base["train_seconds"] if base else None,
                "baseline_C": base["C"] if base else None,
                "rank_docs_per_s": mine["rank_docs_per_s"],
                "suggest_docs_per_s": mine["suggest_docs_per_s"],
                "peak_rss_mb": peak_rss_mb(),
                "tag_aliases": args.tag_aliases,
                "tag_thresholds": not args.no_tag_thresholds,
                "entity_cache": not args.no_entity_cache,
                "dateline": dateline,
                "entity_seconds": mine.get("entity_seconds"),
                "heldout": mine["model"].heldout_,
                "load_average": list(os.getloadavg()),
                **time_params(args),
            }
        )
        print(rows[-1], flush=True)
        rows.append(public_row(rows[-1], mine, score(test, mine["public"], labels, known)))
        print(rows[-1]["what"], rows[-1]["ours"], flush=True)
    report(
        args.out,
        rows,
        "nice .venv/bin/python benchmarks/" + " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    )


if __name__ == "__main__":
    main()
