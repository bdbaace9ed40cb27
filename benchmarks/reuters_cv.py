"""Inner cross-validation on Reuters-21578 ModApte *train* only, with an error analysis.

Topics: ``--folds``-fold CV inside the training stories, people 5-fold; places: one 80/20
split of train (``--split``). The test split is never read. Prints micro/macro-F1 and, per
tag, false positives and negatives with where they came from (a false negative whose tag
was no candidate at all, or one scored under the threshold; a false positive's evidence:
string match, co-occurrence link, classifier or neighbour vote only).

    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/reuters_cv.py --fields topics \
        --param key=value ...
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from newstag.io.corpus import read_corpus, reuters_tag_aliases  # noqa: E402
from newstag.nlp.cache import extract_entities  # noqa: E402
from newstag.paths import shared_data  # noqa: E402
from newstag.tagging.evaluate import evaluate  # noqa: E402
from newstag.tagging.train import train_model  # noqa: E402


def _value(text: str) -> Any:
    """A --param value: JSON (lists become tuples, e.g. ``char_ngrams=[3,5]``) or text."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    return tuple(value) if isinstance(value, list) else value


def _source(cand: dict[str, Any]) -> str:
    ev = cand["ev"] or {}
    if ev.get("str_quality", 0) > 0:
        return "string"
    if ev:
        return "link"
    return "text"


def _totals(counts: Counter[tuple[str, str]], part: int) -> Counter[str]:
    """Sum (tag, kind) counts by tag (``part`` 0) or by kind (``part`` 1)."""
    out: Counter[str] = Counter()
    for key, n in counts.items():
        out[key[part]] += n
    return out


def _blank(names: list[str]) -> None:
    """Make the named combiner features constant (the trees then never split on them)."""
    from newstag.tagging import combiner

    original = combiner.feature_vector

    def blanked(features: dict[str, float], columns: Any) -> list[float]:
        return original({**features, **dict.fromkeys(names, 0.0)}, columns)

    combiner.feature_vector = blanked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fields", nargs="+", default=["topics", "places", "people"])
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument(
        "--cv-fields",
        nargs="*",
        default=["topics", "people"],
        help="Fields scored by k-fold CV (topics: --folds, people: 5); others by "
        "one held-out split.",
    )
    ap.add_argument("--split", type=float, default=0.2)
    ap.add_argument("--param", nargs="*", default=[], help="TagModel parameters key=value")
    ap.add_argument(
        "--zero",
        nargs="*",
        default=[],
        help="Combiner features to blank (constant 0): an ablation.",
    )
    ap.add_argument("--errors", type=int, default=15, help="Tags to list in the analysis.")
    ap.add_argument("--out", default="", help="JSON file for the figures.")
    args = ap.parse_args()
    import numpy as np
    from sklearn.model_selection import KFold

    params = {k: _value(v) for k, v in (p.split("=", 1) for p in args.param)}
    if args.zero:
        _blank(args.zero)
    folder = shared_data("reuters21578")
    aliases = reuters_tag_aliases(folder / "cat-descriptions_120396.txt")
    out: dict[str, Any] = {"params": params}
    for field in args.fields:
        records = [
            r
            for r in read_corpus(folder, reuters_field=field, reuters_dateline=field == "places")
            if (r.meta["lewissplit"], r.meta["topics_attr"]) == ("TRAIN", "YES") and r.tags
        ]
        idx = np.arange(len(records))
        if field in args.cv_fields:
            k = 5 if field == "people" else args.folds
            splits = list(KFold(k, shuffle=True, random_state=0).split(idx))
        else:
            perm = np.random.default_rng(0).permutation(idx)
            n_te = int(len(idx) * args.split)
            splits = [(np.sort(perm[n_te:]), np.sort(perm[:n_te]))]
        gold_all, pred_all, rank_all = [], [], []
        fp: Counter[tuple[str, str]] = Counter()
        fn: Counter[tuple[str, str]] = Counter()
        for tr, te in splits:
            train = [records[i] for i in tr]
            test = [records[i] for i in te]
            model = train_model(train, n_process=1, aliases=aliases, n_jobs=1, **params)
            ents = extract_entities(test, model.pipeline, n_process=1)
            ranked = model.rank_batch([r.text for r in test], ents)
            cut = model.threshold_
            for r, cands in zip(test, ranked, strict=True):
                gold = set(r.tags)
                chosen = {c["tag"]: c for c in cands if c["score"] >= cut}
                scored = {c["tag"]: c for c in cands}
                for t in set(chosen) - gold:
                    fp[(t, _source(chosen[t]))] += 1
                for t in gold - set(chosen):
                    fn[(t, "below" if t in scored else "no-candidate")] += 1
                gold_all.append(r.tags)
                pred_all.append(list(chosen))
                rank_all.append([c["tag"] for c in cands[:10]])
        m = evaluate(gold_all, pred_all, rank_all).metrics
        print(
            f"\n== {field}: {len(records)} train stories, {len(splits)} split(s), params {params}"
        )
        print(
            f"micro-F1 {m['micro_f1']:.4f}  macro-F1 {m['macro_f1']:.4f}  "
            f"P {m['micro_precision']:.4f}  R {m['micro_recall']:.4f}"
        )
        by_kind_fp, by_kind_fn = _totals(fp, 1), _totals(fn, 1)
        print(f"FP by source {dict(by_kind_fp)}; FN by kind {dict(by_kind_fn)}")
        for t, n in _totals(fp + fn, 0).most_common(args.errors):
            f1 = {k: v for (tt, k), v in fp.items() if tt == t}
            f2 = {k: v for (tt, k), v in fn.items() if tt == t}
            print(f"  {t:20s} errors {n:4d}  FP {f1}  FN {f2}")
        out[field] = {
            "zero": args.zero,
            "micro_f1": m["micro_f1"],
            "macro_f1": m["macro_f1"],
            "fp": by_kind_fp,
            "fn": by_kind_fn,
        }
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
