"""Stale tags on recent news: does a model still need the hand-made period prior?

On ../shared/data/nyt-2018-04 (1,324 NYT articles of April 2018, headline + snippet; a DEV
set), every given model bundle ranks the articles with their dates (``rank_batch``), and its
suggestions (score >= the model's threshold) are counted two ways: as the model scores them,
and after the hand-made prior of :func:`newstag.tagging.periods.period_prior` (what
assembly applies to bundles without the ``period`` source). A suggestion is *stale* when the
shipped model's ``tag_info.json`` (Wikinews 2004-2015) says it went out of use (at its own
rate it would have been used again: :func:`newstag.tagging.periods.out_of_use`) at least
``--years`` years before the article, and is not a place. Reported: stale suggestions per
article, suggestions per article, and the share of articles with a stale suggestion.

    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/stale_tags.py \
        --model models/default --model /tmp/wn-period
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def is_stale(row: dict[str, Any] | None, year: int, info: dict[str, Any], years: int) -> bool:
    """Out of use (by the corpus's own rate) ``years`` or more before ``year``; not a place."""
    from newstag.tagging.periods import out_of_use

    if not row or row.get("type") == "place" or "last" not in row:
        return False
    return year - row["last"] >= years and out_of_use(row, info["per_year"])


def count(
    ranked: list[list[dict[str, Any]]],
    years: list[int],
    threshold: float,
    info: dict[str, Any],
    prior: bool,
    min_gap: int,
) -> dict[str, float]:
    """Suggestions and stale suggestions per article, with or without the hand-made prior."""
    from newstag.tagging.periods import period_prior

    rows = info["tags"]
    shown = stale = with_stale = 0
    for cands, year in zip(ranked, years, strict=True):
        kept = [
            c["tag"]
            for c in cands
            if not c["new"]
            and c["score"] * (period_prior(rows.get(c["tag"]), year, info) if prior else 1.0)
            >= threshold
        ][:10]
        n_stale = sum(is_stale(rows.get(t), year, info, min_gap) for t in kept)
        shown += len(kept)
        stale += n_stale
        with_stale += n_stale > 0
    n = max(len(ranked), 1)
    return {
        "suggestions_per_article": round(shown / n, 3),
        "stale_per_article": round(stale / n, 4),
        "articles_with_stale": round(with_stale / n, 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", action="append", required=True, help="A model bundle (repeat).")
    ap.add_argument("--years", type=int, default=5, help="Gap that makes a tag stale.")
    ap.add_argument("--out", default="stale_tags", help="Name of the results file.")
    args = ap.parse_args()
    from newstag.nlp.cache import extract_entities
    from newstag.paths import shared_data
    from newstag.tagging import load_model

    folder = shared_data("nyt-2018-04")
    if folder is None:
        sys.exit("needs ../shared/data/nyt-2018-04")
    from newstag.io.corpus import read_corpus

    records = list(read_corpus(folder / "articles.jsonl"))
    info = json.loads((ROOT / "models" / "default" / "tag_info.json").read_text())
    years = [int((r.date or "2018")[:4]) for r in records]
    rows = []
    for path in args.model:
        model = load_model(path)
        ents = extract_entities(records, model.pipeline)
        ranked = model.rank_batch([r.text for r in records], ents, [r.date for r in records])
        for prior in (False, True):
            row = {
                "model": path,
                "learned_periods": "period" in model.sources_,
                "hand_made_prior": prior,
                **count(ranked, years, model.threshold_, info, prior, args.years),
            }
            rows.append(row)
            print(row, flush=True)
    out = ROOT / "benchmarks" / "results" / f"{args.out}.json"
    out.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"\n{len(records)} NYT 2018 articles (dev set); stale: out of use >= {args.years} years")
    print(
        "| model | learned periods | hand-made prior | suggestions / article | stale / article "
        "| articles with a stale tag |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['model']} | {r['learned_periods']} | {r['hand_made_prior']} | "
            f"{r['suggestions_per_article']} | {r['stale_per_article']} | "
            f"{r['articles_with_stale']} |"
        )


if __name__ == "__main__":
    main()
