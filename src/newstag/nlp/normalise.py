"""Normalisation rules: from an NER mention to the name and type of what it names.

Two ordered lists of small named rules, applied in order:

- :data:`MENTION_RULES` clean up a mention's text (edge punctuation, possessives, an
  abbreviation's final dot, a leading "the", personal titles); each takes the text so far
  and the :class:`MentionContext` and returns the new text. :func:`clean_mention` applies
  them and keeps what still looks like a name.
- :data:`RESOLVERS` type and name a cleaned mention (a region, a country for a nationality
  or abbreviation, a city's country, a person NER took for an organisation); the first
  that answers decides. :func:`resolve` applies them.

The entity cache key hashes the source of both lists (:func:`newstag.nlp.cache.cache_key`),
so changing a rule never reuses entities cached under the old one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from newstag.nlp.gazetteer import Gazetteer
from newstag.nlp.grouping import is_region

LABELS = {
    "PERSON": "person",
    "GPE": "place",
    "LOC": "place",
    "ORG": "organisation",
    "NORP": "group",
}
"""spaCy labels kept, and the entity type each gives."""
MIN_PLACE_POPULATION = 40_000
"""A one-word PERSON that names a city at least this big is taken as the place (not an ORG:
clubs and firms are named after their city, "Northampton", "Houston")."""
_THE_LABELS = ("GPE", "LOC", "ORG", "NORP")
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")
_POSSESSIVE = re.compile(r"(['’‘]s|s['’‘]|['’‘])$")
_ABBREVIATION_END = re.compile(r"\b\w\.\w$")


# ---------------------------------------------------------------------------
# Mention clean-up
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MentionContext:
    """What a clean-up rule may look at besides the text: the mention as NER found it, its
    label and the gazetteer."""

    original: str
    label: str
    gaz: Gazetteer


MentionRule = Callable[[str, MentionContext], str]


def strip_edge_punctuation(text: str, ctx: MentionContext) -> str:
    """Drop punctuation and symbols at both ends ('“Putin”' -> "Putin")."""
    return _EDGE.sub("", text)


def strip_possessive(text: str, ctx: MentionContext) -> str:
    """Drop a possessive ending ("North Korea's" -> "North Korea")."""
    return _POSSESSIVE.sub("", text)


def keep_abbreviation_dot(text: str, ctx: MentionContext) -> str:
    """Put back the final dot of an abbreviation that edge stripping took ("U.S." stays)."""
    if ctx.original.rstrip().endswith(".") and _ABBREVIATION_END.search(text):
        return text + "."
    return text


def strip_leading_the(text: str, ctx: MentionContext) -> str:
    """Drop a leading "the" of places, organisations and groups ("the United States")."""
    if ctx.label in _THE_LABELS and text.lower().startswith("the "):
        return text[4:]
    return text


def strip_person_titles(text: str, ctx: MentionContext) -> str:
    """Drop personal titles before a person's name ("President Vladimir Putin"), keeping
    the last word ("President" alone stays)."""
    if ctx.label != "PERSON":
        return text
    words = text.split()
    while len(words) > 1 and words[0].lower().rstrip(".") in ctx.gaz.titles:
        words.pop(0)
    return text[text.index(words[0]) :] if words else text


MENTION_RULES: tuple[MentionRule, ...] = (
    strip_edge_punctuation,
    strip_possessive,
    strip_edge_punctuation,
    keep_abbreviation_dot,
    strip_leading_the,
    strip_person_titles,
)
"""The clean-up rules, in the order :func:`clean_mention` applies them."""


def looks_like_name(text: str) -> bool:
    """At least two characters, starting with a capital or a digit, with a letter."""
    return (
        len(text) >= 2
        and (text[0].isupper() or text[0].isdigit())
        and any(c.isalpha() for c in text)
    )


def clean_mention(text: str, start: int, label: str, gaz: Gazetteer) -> tuple[str, int] | None:
    """The mention after :data:`MENTION_RULES` and its new start offset, or ``None`` when
    what is left does not look like a name."""
    ctx = MentionContext(text, label, gaz)
    cleaned = text
    for rule in MENTION_RULES:
        cleaned = rule(cleaned, ctx)
    if not looks_like_name(cleaned):
        return None
    return cleaned, start + max(text.find(cleaned), 0)


# ---------------------------------------------------------------------------
# Resolution: type and canonical name
# ---------------------------------------------------------------------------


class Resolution(NamedTuple):
    """What a mention names: entity type, canonical name, spaCy label, country."""

    type: str
    name: str
    label: str
    country: str | None


@dataclass(frozen=True)
class ResolveContext:
    """What a resolver may look at besides the mention: the gazetteer, the words of the
    article's multi-word person names and the one-word names it uses alone."""

    gaz: Gazetteer
    person_words: set[str]
    alone: set[str]


Resolver = Callable[[str, str, ResolveContext], Resolution | None]


def resolve_region(text: str, label: str, ctx: ResolveContext) -> Resolution | None:
    """A continent or region ("Asia") is a place with no country."""
    if label != "PERSON" and is_region(text):
        return Resolution("place", text, "LOC", None)
    return None


def resolve_country(text: str, label: str, ctx: ResolveContext) -> Resolution | None:
    """A country's name, code, abbreviation or nationality ("U.S.", "Russian") is the
    country; a person's name only when it is in capitals (a code)."""
    gaz = ctx.gaz
    if label == "NORP":
        country = gaz.nationality(text)
    else:
        country = gaz.country(text) if label != "PERSON" or text.isupper() else None
    if not country:
        return None
    return Resolution("place", country, "GPE", country if country in gaz.country_names else None)


def resolve_place(text: str, label: str, ctx: ResolveContext) -> Resolution | None:
    """A known city or state is a place in its country; a one-word "person" too when it
    names a big enough city and is no word of a person's name."""
    place = ctx.gaz.place(text)
    if not place:
        return None
    if label not in ("GPE", "LOC") and not (
        label == "PERSON"
        and " " not in text
        and text not in ctx.person_words
        and place[2] >= MIN_PLACE_POPULATION
    ):
        return None
    name = place[0] if place[0].isascii() else text  # "Rafah", not GeoNames' "Rafaḩ"
    return Resolution("place", name, label if label in ("GPE", "LOC") else "GPE", place[1])


def resolve_full_name(text: str, label: str, ctx: ResolveContext) -> Resolution | None:
    """ "Olaf Scholz" tagged ORG is a person when it starts with a first name and the
    article uses its last word alone."""
    words = text.split()
    if (
        label in ("ORG", "GPE", "LOC")
        and 2 <= len(words) <= 3
        and words[0].lower() in ctx.gaz.first_names
        and words[-1] in ctx.alone
    ):
        return Resolution("person", text, "PERSON", None)
    return None


def resolve_surname(text: str, label: str, ctx: ResolveContext) -> Resolution | None:
    """One word of a person's full name used elsewhere in the article is that person."""
    if label != "PERSON" and text in ctx.person_words and " " not in text:
        return Resolution("person", text, "PERSON", None)
    return None


def resolve_by_label(text: str, label: str, ctx: ResolveContext) -> Resolution | None:
    """Otherwise the type NER's label says."""
    return Resolution(LABELS[label], text, label, None)


RESOLVERS: tuple[Resolver, ...] = (
    resolve_region,
    resolve_country,
    resolve_place,
    resolve_full_name,
    resolve_surname,
    resolve_by_label,
)
"""The resolvers, in order; the first that answers decides."""


def resolve(text: str, label: str, ctx: ResolveContext) -> Resolution:
    """The type, canonical name, label and country of one cleaned mention."""
    for resolver in RESOLVERS:
        found = resolver(text, label, ctx)
        if found is not None:
            return found
    raise ValueError(f"no resolver answered for {text!r} ({label})")  # pragma: no cover
