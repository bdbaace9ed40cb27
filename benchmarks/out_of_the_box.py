"""Out of the box: do the people and places an editor tagged appear in newstag's top 10?

On ../shared/data/nyt-2018-04 (headline + snippet of 1,324 NYT articles of April 2018; the
editors' keywords name people as "Last, First" and places by name). A DEV set: the
suggestion layer was developed looking at these figures, so they are not a held-out test.

Three modes through the public path (``Tagger.suggest_many``), in one run: the shipped
model, the shipped model with ``rules/general-news.toml``, and entity-only (``--model none``,
the baseline). Gold people: keywords "Last, First" whose first name the gazetteer knows, and
keywords the shipped vocabulary types person; gold places: keywords the gazetteer knows as a
country, state, continent or city. A suggestion matches a gold keyword when one of their
name forms agrees (NYT "Putin, Vladimir V" = "Vladimir Putin"; a country by any of its
names). recall@10: gold people/places found in the top 10 (micro); precision@10: of the top
10's tags typed person/place, the share that is a gold keyword of that article.

    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/out_of_the_box.py

``--corpus wikinews-later`` asks the same of whole articles: Wikinews 2013-2015 (889), gold
from their categories less continents, scored for a model trained on Wikinews before 2013
(the shipped model has read these articles):

    nice .venv/bin/python benchmarks/wikinews.py --no-baseline --save-model /tmp/wn-2012
    nice .venv/bin/python scripts/tag_info.py --model /tmp/wn-2012 --before 2013
    nice .venv/bin/python benchmarks/out_of_the_box.py --corpus wikinews-later \
        --model /tmp/wn-2012
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules" / "general-news.toml"


def place_key(name: str, gaz: Any, suggested: bool = True) -> str | None:
    """A place's comparison key (the gazetteer's country, else the place's name);
    ``suggested``: a tag, which may be in the vocabulary's "City, State" form."""
    from newstag.tagging.linker import _PAREN, norm

    bare = _PAREN.sub("", name).strip()
    if suggested and "," in bare and not gaz.place(bare):  # "Los Angeles, California"
        bare = bare.split(",", 1)[0].strip()
    country = gaz.country(bare)
    if country:
        return norm(country)
    place = gaz.place(bare)
    if place or bare in {
        "Africa",
        "Asia",
        "Europe",
        "North America",
        "South America",
        "Oceania",
        "Antarctica",
    }:
        return norm(place[0] if place else bare)
    return None


def person_keys(name: str) -> set[str]:
    from newstag.tagging.linker import tag_forms

    return {k for k, _ in tag_forms(name)}


def _written(name: str, text: str) -> bool:
    import re

    return bool(name) and re.search(rf"\b{re.escape(name)}\b", text) is not None


def gold_of(
    keywords: list[str], gaz: Any, vocab_types: dict[str, str], text: str | None = None
) -> tuple[list[set[str]], list[str]]:
    """The gold people (their name-form keys) and places (keys) among an article's keywords;
    with ``text``, only those the text names (a person's surname, a place's name)."""
    from newstag.tagging.linker import _PAREN

    people: list[set[str]] = []
    places: list[str] = []
    for kw in keywords:
        key = place_key(kw, gaz, suggested=False)
        if key:
            if text is None or _written(_PAREN.sub("", kw).strip(), text):
                places.append(key)
            continue
        if "," in kw:
            surname, first = kw.split(",", 1)[0].strip(), kw.split(",", 1)[1].split()
            if not first or first[0].lower() not in gaz.first_names:
                continue
        elif vocab_types.get(kw) == "person":
            surname = kw.split()[-1]
        else:
            continue
        if text is None or _written(surname, text):
            people.append(person_keys(kw))
    return people, list(dict.fromkeys(places))


def score(
    results: list[dict[str, Any]], golds: list[tuple[list[set[str]], list[str]]], gaz: Any
) -> dict[str, float]:
    """recall@10 and precision@10 for people, places and both."""
    found = {"person": 0, "place": 0}
    total = {"person": 0, "place": 0}
    hits = {"person": 0, "place": 0}
    shown = {"person": 0, "place": 0}
    for result, (people, places) in zip(results, golds, strict=True):
        tags = result["tags"][:10]
        total["person"] += len(people)
        total["place"] += len(places)
        tag_people = [
            person_keys(t.get("model_tag") or t["tag"]) | person_keys(t["tag"]) for t in tags
        ]
        tag_places = {place_key(t.get("model_tag") or t["tag"], gaz) for t in tags} - {None}
        found["person"] += sum(any(g & k for k in tag_people) for g in people)
        found["place"] += sum(p in tag_places for p in places)
        for t, keys in zip(tags, tag_people, strict=True):
            kind = t["type"]
            if kind not in shown:
                continue
            shown[kind] += 1
            if kind == "person":
                hits[kind] += any(g & keys for g in people)
            else:
                hits[kind] += place_key(t.get("model_tag") or t["tag"], gaz) in places
    out = {}
    for kind in ("person", "place"):
        out[f"{kind}_recall@10"] = found[kind] / max(total[kind], 1)
        out[f"{kind}_precision@10"] = hits[kind] / max(shown[kind], 1)
    out["both_recall@10"] = sum(found.values()) / max(sum(total.values()), 1)
    out["both_precision@10"] = sum(hits.values()) / max(sum(shown.values()), 1)
    out["gold_people"], out["gold_places"] = total["person"], total["place"]
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def nyt_articles(limit: int) -> tuple[list[dict[str, Any]], list[list[str]]]:
    """NYT April 2018: headline + snippet, the editors' keywords."""
    from newstag.paths import shared_data

    folder = shared_data("nyt-2018-04")
    if folder is None:
        sys.exit("needs ../shared/data/nyt-2018-04")
    records = [json.loads(line) for line in (folder / "articles.jsonl").open(encoding="utf-8")]
    records = records[:limit] if limit else records
    articles = [
        {
            "title": r["headline"],
            "body": r.get("snippet") or "",
            "id": r["id"],
            "date": r["date"][:10],
        }
        for r in records
    ]
    return articles, [r["keywords"] for r in records]


def wikinews_later_articles(limit: int) -> tuple[list[dict[str, Any]], list[list[str]]]:
    """Wikinews 2013-2015 (whole articles), continents left out of the gold: the categories
    a news site keeps."""
    from newstag.io.corpus import read_corpus
    from newstag.paths import shared_data

    folder = shared_data("wikinews")
    if folder is None:
        sys.exit("needs ../shared/data/wikinews")
    records = [
        r
        for r in read_corpus(str(folder / "wikinews_en_part*.jsonl.gz"))
        if r.date and r.date >= "2013"
    ]
    records = records[:limit] if limit else records
    articles = [{"title": r.title, "body": r.body, "id": r.id, "date": r.date} for r in records]
    return articles, [[t for t in r.tags if t not in CONTINENTS] for r in records]


CORPORA = {"nyt": nyt_articles, "wikinews-later": wikinews_later_articles}
CONTINENTS = {"Africa", "Asia", "Europe", "North America", "South America", "Oceania"}


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--limit", type=int, default=0, help="Only the first N articles.")
    ap.add_argument("--corpus", choices=sorted(CORPORA), default="nyt")
    ap.add_argument(
        "--model",
        default="default",
        help="The model (for wikinews-later: one trained on Wikinews before 2013).",
    )
    args = ap.parse_args()
    from newstag.nlp import gazetteer
    from newstag.tagging.periods import tag_info
    from newstag.tagging.tagger import Tagger

    articles, keywords = CORPORA[args.corpus](args.limit)
    gaz = gazetteer.load()
    model = Tagger.load(args.model)
    shipped = model if args.model == "default" else Tagger.load("default")  # types the gold
    vocab = {t: v["type"] for t, v in tag_info(shipped.model)["tags"].items()}
    sets = {
        "all": [gold_of(kws, gaz, vocab) for kws in keywords],
        "named in the text": [
            gold_of(kws, gaz, vocab, f"{a['title']}\n{a['body']}")
            for kws, a in zip(keywords, articles, strict=True)
        ],
    }
    label = "shipped model" if args.model == "default" else f"model {args.model}"
    modes = {
        "entity-only (--model none)": Tagger.load("none"),
        label: model,
        f"{label} + rules/general-news.toml": Tagger.load(args.model, rules=RULES),
    }
    rows = []
    for name, tagger in modes.items():
        t0 = time.perf_counter()
        results = list(tagger.suggest_many(articles, top_k=10))
        seconds = time.perf_counter() - t0
        new = round(statistics.mean(sum(bool(t.get("new")) for t in r["tags"]) for r in results), 3)
        for gold_name, golds in sets.items():
            row = {
                "mode": name,
                "gold": gold_name,
                **score(results, golds, gaz),
                "seconds": round(seconds, 1),
                "new_tags_per_article": new,
            }
            rows.append(row)
            print(row, flush=True)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    name = "out_of_the_box" if args.corpus == "nyt" else f"out_of_the_box_{args.corpus}"
    (out / f"{name}.json").write_text(json.dumps(rows, indent=1) + "\n")
    print(f"\n{len(articles)} articles of {args.corpus}\n")
    print(
        "| gold | mode | people+places R@10 | people R@10 | places R@10 | people+places P@10 "
        "| people P@10 | places P@10 | R@10 vs entity-only | new tags / article |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for gold_name in sets:
        part = [r for r in rows if r["gold"] == gold_name]
        base = part[0]["both_recall@10"]
        for r in part:
            print(
                f"| {gold_name} ({r['gold_people']} people, {r['gold_places']} places) | "
                f"{r['mode']} | {r['both_recall@10']:.3f} | {r['person_recall@10']:.3f} | "
                f"{r['place_recall@10']:.3f} | {r['both_precision@10']:.3f} | "
                f"{r['person_precision@10']:.3f} | {r['place_precision@10']:.3f} | "
                f"{r['both_recall@10'] / base if base else 0:.2f} | "
                f"{r['new_tags_per_article']} |"
            )


if __name__ == "__main__":
    main()
