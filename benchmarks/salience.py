"""Salience on Wikinews: are the people and places an editor tagged in newstag's top 3?

Every ``--every``-th Wikinews article (by date) is read; newstag's entities (embedded NER) are
extracted once (cached). A person or place entity is *salient* when its name or one of its
mention forms is one of the article's editorial tags; the others mentioned are not. Articles
with at least one salient person/place are kept and split by date: the earliest
``1 - --test`` to fit, the latest ``--test`` to test.

On the fit part, a pairwise logistic regression on differences of
:func:`newstag.nlp.salience.salience_features` (a salient entity against a non-salient one of
the same article) gives the weights (negative ones set to 0, then scaled to sum to 1, so scores
stay in [0, 1]). On the test part, person/place entities are ranked by each scorer and two
figures are reported: *hit@3*, the share of articles whose top 3 holds a salient entity, and
*recall@3*, the share of an article's salient entities (at most 3) that are in its top 3.
Baselines from the same run: first mention, mention count (ties: first mention), the hand-set
weights.

    nice python benchmarks/salience.py [--every 10] [--test 0.25] [--write]

``--prior country=0.15,person_headline=0.15`` fixes those weights (a bounded country prior and
a bonus for a person named in the headline) and scales the fitted rest to sum to the remainder.
Their values are chosen by ``--grid``: fit on the earliest 80 % of the fit part, score on its
latest 20 % (the *validation* part, earlier than every test date), never on the test part.
``--write`` stores the fitted weights in ``src/newstag/data/salience.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("person", "place")


def load_sample(every: int) -> list[Any]:
    """Every ``every``-th dated Wikinews article with tags, oldest first."""
    from newstag.io.corpus import read_corpus
    from newstag.paths import shared_data

    folder = shared_data("wikinews")
    if folder is None:
        sys.exit("benchmarks/salience.py: ../shared/data/wikinews is missing")
    records = []
    for path in sorted(folder.glob("wikinews_en_part*.jsonl.gz")):
        records += [r for r in read_corpus(path) if r.date and r.tags and r.body]
    records.sort(key=lambda r: r.date)
    return records[::every]


def candidates(record: Any, ents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Person/place entities of one article with their features and salient label."""
    from newstag.io.article import Article
    from newstag.nlp.salience import salience_features

    article = Article(title=record.title, body=record.body)
    tags = {t.lower() for t in record.tags}
    firsts = sorted(min(m[1] for m in ent["mentions"]) for ent in ents)
    out = []
    for ent in ents:
        if ent["type"] not in KINDS:
            continue
        starts = [m[1] for m in ent["mentions"]]
        forms = {ent["name"].lower(), *(a.lower() for a in ent["aliases"])}
        features = salience_features(
            starts,
            article,
            ent["type"],
            firsts.index(min(starts)),
            ent["type"] == "place" and ent["country"] == ent["name"],
        )
        out.append(
            {
                "features": features,
                "first": min(starts),
                "count": len(starts),
                "salient": bool(forms & tags),
            }
        )
    return out


def rank_quality(articles: list[list[dict[str, Any]]], key: Any) -> dict[str, float]:
    """hit@3 and recall@3 of a ranking (``key``: candidate -> sort key, best first)."""
    hits, recall = 0, 0.0
    for cands in articles:
        top = sorted(cands, key=key)[:3]
        n_salient = sum(c["salient"] for c in cands)
        found = sum(c["salient"] for c in top)
        hits += found > 0
        recall += found / min(3, n_salient)
    n = max(len(articles), 1)
    return {"hit@3": round(hits / n, 4), "recall@3": round(recall / n, 4)}


def fit_weights(articles: list[list[dict[str, Any]]], exclude: set[str]) -> dict[str, float]:
    """Pairwise logistic regression (a salient entity against a non-salient one of the same
    article, on feature differences), negative weights dropped, scaled to sum to 1."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from newstag.nlp.salience import FEATURES

    names = [n for n in FEATURES if n not in exclude]
    diffs = []
    for cands in articles:
        vecs = [(np.array([getattr(c["features"], n) for n in names]), c["salient"]) for c in cands]
        diffs += [a - b for a, sa in vecs if sa for b, sb in vecs if not sb]
    x = np.vstack([*diffs, *(-d for d in diffs)])
    y = np.array([1] * len(diffs) + [0] * len(diffs))
    model = LogisticRegression(C=1.0, max_iter=2000, fit_intercept=False).fit(x, y)
    coef = model.coef_[0].clip(min=0)
    return {n: round(float(w / coef.sum()), 4) for n, w in zip(names, coef, strict=True)}


def with_prior(fitted: dict[str, float], prior: dict[str, float]) -> dict[str, float]:
    """Fitted weights scaled to ``1 - sum(prior)``, plus the fixed prior weights."""
    rest = 1 - sum(prior.values())
    weights = {n: round(w * rest, 4) for n, w in fitted.items()}
    for name, value in prior.items():
        weights[name] = round(weights.get(name, 0.0) + value, 4)
    return weights


def parse_prior(text: str) -> dict[str, float]:
    """``"country=0.15,person_headline=0.15"`` -> {"country": 0.15, "person_headline": 0.15}."""
    pairs = (item.split("=", 1) for item in text.split(",") if item)
    return {name.strip(): float(value) for name, value in pairs}


def fit_scorer(
    articles: list[list[dict[str, Any]]], exclude: set[str], prior: dict[str, float]
) -> dict[str, float]:
    """Weights fitted on ``articles`` with the ``prior`` features fixed (left out of the fit)."""
    return with_prior(fit_weights(articles, exclude | set(prior)), prior)


def by_weights(weights: dict[str, float]) -> Any:
    """Sort key of a candidate: higher weighted salience first, then first mention."""
    from newstag.nlp.salience import SalienceWeights, salience_score

    named = SalienceWeights.from_mapping(weights)
    return lambda c: (-salience_score(c["features"], named), c["first"])


def grid(fit_part: list[list[dict[str, Any]]], exclude: set[str]) -> None:
    """Validation hit@3 (earliest 80 % of the fit part -> its latest 20 %) of bounded priors."""
    cut = int(len(fit_part) * 0.8)
    train, val = fit_part[:cut], fit_part[cut:]
    print(
        f"validation: fit {len(train)}, score {len(val)}; first mention "
        f"{rank_quality(val, lambda c: c['first'])['hit@3']:.3f}"
    )
    print("| country | person_headline | validation hit@3 |\n|---|---|---|")
    for country in (0.0, 0.05, 0.10, 0.15, 0.20, 0.25):
        for person in (0.0, 0.05, 0.10, 0.15):
            prior = {"country": country, "person_headline": person}
            weights = fit_scorer(train, exclude, prior)
            print(
                f"| {country:.2f} | {person:.2f} | "
                f"{rank_quality(val, by_weights(weights))['hit@3']:.3f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--test", type=float, default=0.25)
    parser.add_argument("--write", action="store_true", help="store the fitted weights")
    parser.add_argument(
        "--exclude",
        default="person,place,country,person_headline",
        help="features left out of the fit (comma-separated; default: the type "
        "priors, which rank countries over the people of a story)",
    )
    parser.add_argument(
        "--prior", default="", help="fixed weights, e.g. country=0.15,person_headline=0.15"
    )
    parser.add_argument(
        "--grid", action="store_true", help="print validation hit@3 of a grid of priors, then stop"
    )
    args = parser.parse_args()

    from newstag.nlp.cache import extract_entities
    from newstag.nlp.salience import HAND_SET_WEIGHTS, SALIENCE_FILE, salience_score

    records = load_sample(args.every)
    ents = extract_entities(records, n_process=1)
    labelled = [(r, candidates(r, e)) for r, e in zip(records, ents, strict=True)]
    kept = [(r, c) for r, c in labelled if any(x["salient"] for x in c)]
    cut = int(len(kept) * (1 - args.test))
    fit_part, test_part = [c for _, c in kept[:cut]], [c for _, c in kept[cut:]]
    exclude = set(filter(None, args.exclude.split(",")))
    if args.grid:
        grid(fit_part, exclude)
        return
    prior = parse_prior(args.prior)
    weights = fit_scorer(fit_part, exclude, prior)
    scorers = {
        "first mention": lambda c: c["first"],
        "mention count": lambda c: (-c["count"], c["first"]),
        "hand-set weights": lambda c: (
            -salience_score(c["features"], HAND_SET_WEIGHTS),
            c["first"],
        ),
        "fitted weights": by_weights(weights),
    }
    print(
        f"Wikinews, every {args.every}th article: {len(records)} read, {len(kept)} with a "
        f"tagged person/place; fit {len(fit_part)} (to {kept[cut - 1][0].date}), "
        f"test {len(test_part)} ({kept[cut][0].date} on)"
    )
    print("| ranking | hit@3 | recall@3 |\n|---|---|---|")
    results = {}
    for name, key in scorers.items():
        results[name] = rank_quality(test_part, key)
        print(f"| {name} | {results[name]['hit@3']:.3f} | {results[name]['recall@3']:.3f} |")
    print("fitted weights:", json.dumps(weights))
    if args.write:
        record = {
            "weights": weights,
            "fitted_on": f"Wikinews every {args.every}th article "
            f"dated to {kept[cut - 1][0].date} ({len(fit_part)} articles)",
            "held_out": results,
            "script": f"benchmarks/salience.py --every {args.every} --test {args.test} "
            f"--exclude '{args.exclude}' --prior '{args.prior}' --write",
        }
        SALIENCE_FILE.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {SALIENCE_FILE}")


if __name__ == "__main__":
    main()
