"""Person names beyond their spelling: nicknames and the gender an honorific gives.

* "Chuck Schumer" is "Charles Schumer": the same surname, and first names the ``nicknames``
  package lists as one name and its nickname;
* "Mr. Clark" is not "Helen Clark": a gendered honorific before every mention of a surname
  must agree with the gender ``gender-guesser`` gives the tag's first name.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from newstag.tagging.linker import name_key

_HONORIFIC = re.compile(r"\b(Mr|Mrs|Ms|Miss|Sir|Dame|Lord|Lady)\.?\s*$")
_GENDER = {
    "mr": "male",
    "sir": "male",
    "lord": "male",
    "mrs": "female",
    "ms": "female",
    "miss": "female",
    "dame": "female",
    "lady": "female",
}


@lru_cache(maxsize=1)
def _nicknamer() -> Any:
    from nicknames import NickNamer

    return NickNamer()


@lru_cache(maxsize=1 << 12)
def first_name_forms(first: str) -> frozenset[str]:
    """A first name, its nicknames and the names it is a nickname of (lower case)."""
    first = first.lower()
    namer = _nicknamer()
    return frozenset({first, *namer.nicknames_of(first), *namer.canonicals_of(first)})


def name_variants(name: str) -> set[str]:
    """The name's key, and its keys with the first name swapped for a nickname or the
    name it shortens ("chuck schumer" -> "charles schumer"), and without middle names
    ("hillary rodham clinton" -> "hillary clinton"; not an initial, nor a name particle that
    begins the surname: "ludwig van beethoven")."""
    words = name_key(name).split()
    if len(words) < 2:
        return {" ".join(words)} if words else set()
    rests = {" ".join(words[1:])}
    middle = words[1:-1]
    if middle and not _particles() & set(middle) and all(len(w) > 1 for w in middle):
        rests.add(words[-1])  # not an initial: "George W. Bush" is not "George H. W. Bush"
    return {f"{form} {rest}" for form in first_name_forms(words[0]) for rest in rests}


@lru_cache(maxsize=1)
def _particles() -> frozenset[str]:
    from newstag.tagging.tag_types import gazetteer_tables

    return frozenset(gazetteer_tables().particles)


@lru_cache(maxsize=1)
def _detector() -> Any:
    import gender_guesser.detector

    return gender_guesser.detector.Detector(case_sensitive=False)


_GUESSES = {"male": "male", "mostly_male": "male", "female": "female", "mostly_female": "female"}
"""gender-guesser's answers that settle a gender."""


def first_name_gender(tag: str) -> str | None:
    """The gender, "male" or "female", a person tag's first name mostly has ("Helen Clark",
    "Clark, Helen"), else ``None``."""
    bare = tag.split("(")[0].strip()
    if bare.count(",") == 1:
        bare = " ".join(reversed([part.strip() for part in bare.split(",")]))
    words = bare.split()
    if len(words) < 2:
        return None
    return _GUESSES.get(_detector().get_gender(words[0]))


def honorific_gender(mentions: list[Any], text: str) -> str | None:
    """The gender every gendered honorific before the mentions agrees on ("Mr. Clark"),
    else ``None`` (no honorific, or honorifics that disagree)."""
    seen = set()
    for _, start, _ in mentions:
        found = _HONORIFIC.search(text[max(0, start - 8) : start])
        if found:
            seen.add(_GENDER[found.group(1).lower()])
    return seen.pop() if len(seen) == 1 else None
