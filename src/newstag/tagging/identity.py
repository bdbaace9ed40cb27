"""Identity: the vocabulary tag an entity of the story *is* ("Kim Jong Un" is not "Kim
Jong-il"; Georgia the US state is not the country; "Bayern" is "FC Bayern München")."""

from __future__ import annotations

import weakref
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from newstag.tagging.linker import _PAREN, name_key, norm, tag_forms
from newstag.tagging.names import first_name_gender, name_variants
from newstag.tagging.periods import recorded_type
from newstag.tagging.tag_types import gazetteer_tables

if TYPE_CHECKING:  # pragma: no cover
    from newstag.tagging import TagModel
    from newstag.tagging.assemble import Draft


def _tokens(text: str) -> set[str]:
    return set(norm(text).split())


def same_spelling(a: str, b: str) -> bool:
    """Only case, hyphens, accents or punctuation differ ("Kim Jong-un" / "Kim Jong Un")."""
    return name_key(a).replace(" ", "") == name_key(b).replace(" ", "")


def person_compatible(tag: str, info: dict[str, Any], model: TagModel) -> bool:
    """A person mention carries the tag's identity: its full name is one of the tag's forms
    (a first name may be its nickname, middle names may be left out), or it is a surname
    alone that the vocabulary gives to this tag only or mostly (:func:`dominant_namesake`);
    an honorific's gender must not contradict the tag's first name."""
    gender = info.get("gender")
    if gender and first_name_gender(tag) not in (None, gender):
        return False  # "Mr. Clark" is not "Helen Clark"
    forms = {k for k, _ in tag_forms(tag)}
    names = [info["name"], *(a for a in info.get("aliases") or [] if len(a.split()) > 1)]
    if any(variant in forms for n in names for variant in name_variants(n)):
        return True  # its full name, or with a nickname ("Chuck Schumer")
    if len(info["name"].split()) != 1:
        return False
    return tag in (model.linker_.surname_tag(info), dominant_namesake(info, model))


@lru_cache(maxsize=1 << 14)
def tag_place_country(tag: str) -> str | None:
    """The country a place tag lies in by its qualifier ("Georgia (U.S. state)" -> United
    States) or is ("Georgia (country)", "usa"), else ``None``."""
    from newstag.tagging.linker import tag_country

    qualifier = tag[tag.find("(") + 1 : tag.rfind(")")] if "(" in tag and ")" in tag else ""
    gaz = gazetteer_tables()
    if not qualifier and tag.count(",") == 1:  # "Atlanta, Georgia": the state's country
        within = tag.split(",")[1].strip()
        place = gaz.place(within)
        return place[1] if place and place[1] else gaz.country(within)
    for part in (qualifier, *qualifier.split()):
        country = gaz.country(part) if part else None
        if country:
            return country
    return tag_country(tag) if _PAREN.sub("", tag).strip() else None


def place_compatible(tag: str, info: dict[str, Any]) -> bool:
    """A place mention and a place tag agree on the country (Georgia the country is not
    Georgia the US state)."""
    country = info.get("country")
    if info.get("type") != "place" or not country:
        return True
    tagged = tag_place_country(tag)
    return tagged is None or tagged == country


_BARE: weakref.WeakKeyDictionary[Any, dict[str, list[str]]] = weakref.WeakKeyDictionary()


def bare_index(model: TagModel) -> dict[str, list[str]]:
    """Name key without a qualifier -> the vocabulary's tags, most used first
    ("georgia" -> "Georgia (U.S. state)", "Georgia (country)"; "atlanta" -> "Atlanta,
    Georgia")."""
    index = _BARE.get(model)
    if index is None:
        index = {}
        counts = model.tag_counts_
        for tag in sorted(counts, key=lambda t: (-counts[t], t)):
            bare = _PAREN.sub("", tag).strip()
            index.setdefault(name_key(bare), []).append(tag)
            if bare.count(",") == 1:  # "Atlanta, Georgia" under "atlanta"
                index.setdefault(name_key(bare.split(",")[0]), []).append(tag)
        _BARE[model] = index
    return index


_ORG_WORDS: weakref.WeakKeyDictionary[Any, dict[str, set[str]]] = weakref.WeakKeyDictionary()


def short_form_tag(name: str, model: TagModel) -> str | None:
    """The one organisation tag of the vocabulary whose name holds all the words of a short
    form ("Bayern" -> "FC Bayern München", "Tottenham" -> "Tottenham Hotspur"), else None."""
    index = _ORG_WORDS.get(model)
    if index is None:
        index = {}
        for tag in model.tag_counts_:
            if recorded_type(model, tag) not in ("person", "place"):  # or mistyped topic
                for word in _tokens(_PAREN.sub("", tag)):
                    index.setdefault(word, set()).add(tag)
        _ORG_WORDS[model] = index
    words = _tokens(name)
    if not words or any(len(w) < 4 for w in words):
        return None
    tags = set.intersection(*(index.get(w, set()) for w in words))
    return next(iter(tags)) if len(tags) == 1 else None


def headline_overreach(info: dict[str, Any], headline_end: int) -> str | None:
    """The name a person goes by when NER ran it into the next word of a Title Case headline
    ("Trump Foresees", the body saying "Trump"): the body's name that begins the headline's
    and is no first name; else ``None``."""
    words = info["name"].split()
    if info.get("type") != "person" or headline_end <= 0 or len(words) < 2:
        return None
    mentions = info.get("mentions", [])
    if any(text == info["name"] and start >= headline_end for text, start, _ in mentions):
        return None  # the body writes the full name too
    for text, start, _ in mentions:
        short = text.split()
        if (
            start >= headline_end
            and len(short) < len(words)
            and words[: len(short)] == short
            and short[0].lower() not in gazetteer_tables().first_names
        ):
            return text
    return None


def as_named(info: dict[str, Any]) -> dict[str, Any]:
    """The entity under the name its body uses, when a headline overreached."""
    body = info.get("body_name")
    return {**info, "name": body, "aliases": [body]} if body else info


def resolve_places(infos: list[dict[str, Any]]) -> None:
    """A country's name that is also a place elsewhere (Georgia, the US state) means that
    place when the article's other places lie there and none in the country."""
    gaz = gazetteer_tables()
    for info in infos:
        name = info["name"]
        if info.get("type") != "place" or gaz.country(name) != name:
            continue
        place = gaz.place(name)
        if not place or place[1] == name:
            continue
        others = [i.get("country") for i in infos if i is not info and i.get("type") == "place"]
        if others.count(place[1]) > others.count(name):
            info["country"] = place[1]


def identity_tag(
    info: dict[str, Any], model: TagModel, candidates: dict[str, dict[str, Any]]
) -> str | None:
    """The vocabulary tag this entity *is*, or ``None`` (then it may be a new tag)."""
    info = as_named(info)
    linker = model.linker_
    etype = info.get("type")
    names = [info["name"]]
    names += [
        a for a in info.get("aliases") or [] if etype != "person" or len(a.split()) > 1
    ]  # "Kim" alone does not decide
    for name in names:
        own = name_key(name)
        keys = [own, *sorted(name_variants(name) - {own})] if etype == "person" else [own]
        hit = next(filter(None, map(linker.string_index_.get, keys)), None)
        if (
            hit
            and (etype != "person" or person_compatible(hit[0], info, model))
            and place_compatible(hit[0], info)
        ):
            return hit[0]
        if etype == "place":  # a qualified tag of the same place: "Georgia (country)"
            for tag in bare_index(model).get(name_key(name), ()):
                if place_compatible(tag, info) and tag_place_country(tag):
                    return tag
    if etype == "person":
        surname = linker.surname_tag(info)
        namesake = dominant_namesake(info, model) if surname is None else None
        if namesake in candidates:  # the model finds the story about that namesake too
            surname = namesake
        return surname if surname and person_compatible(surname, info, model) else None
    if etype == "organisation":
        short = short_form_tag(info["name"], model)
        if short and place_compatible(short, info):
            return short
    own = _tokens(info["name"])
    for tag, cand in candidates.items():  # "Bayern" -> "FC Bayern München"
        ev = cand.get("ev") or {}
        if (
            info["name"] in (ev.get("entities") or [])
            and own
            and own <= _tokens(tag)
            and recorded_type(model, tag) != "person"
            and place_compatible(tag, info)
        ):
            return tag
    return None


DOMINANT_SHARE = 0.9
"""A surname alone names the vocabulary's person who holds this share of its uses."""
DOMINANT_MIN_USES = 10
"""... and who was tagged this often: a well-known person, not a namesake's neighbour."""

_NAMESAKES: weakref.WeakKeyDictionary[Any, dict[str, list[tuple[int, str]]]] = (
    weakref.WeakKeyDictionary()
)


def dominant_namesake(info: dict[str, Any], model: TagModel) -> str | None:
    """The person tag a surname alone names when the vocabulary's namesakes of a compatible
    gender are dominated by one ("Obama" -> "Barack Obama", 317 uses to Michelle Obama's
    13; "Mrs. Obama" -> "Michelle Obama"; "Clinton" -> none), else ``None``. The linker's
    own surname index holds the surnames with one namesake; :func:`identity_tag` maps to a
    dominant namesake only when the model proposes it for the story too."""
    words = name_key(info["name"]).split()
    if len(words) != 1:
        return None
    index = _NAMESAKES.get(model)
    if index is None:
        index = {}
        for tag, n in model.tag_counts_.items():
            if recorded_type(model, tag) == "person" and is_full_name(tag) and "(" not in tag:
                index.setdefault(surname_key(tag), []).append((n, tag))
        _NAMESAKES[model] = index
    gender = info.get("gender")
    namesakes = sorted(
        (n, tag)
        for n, tag in index.get(words[0], [])
        if not gender or first_name_gender(tag) in (None, gender)
    )
    if not namesakes:
        return None
    uses, tag = namesakes[-1]
    total = sum(n for n, _ in namesakes)
    return tag if uses >= DOMINANT_MIN_USES and uses >= DOMINANT_SHARE * total else None


def is_full_name(tag: str) -> bool:
    """A tag written as a person's full name ("Kim Jong-il", "Trump, Donald J"), which a
    mention can confirm; a one-word code ("cotton", typed person by a namesake) cannot be."""
    return len(name_key(_PAREN.sub("", tag).strip()).split()) > 1


def surname_key(tag: str) -> str:
    """A person tag's surname ("Trump, Donald J" -> "trump", "Donald Trump" -> "trump")."""
    bare = _PAREN.sub("", tag).strip()
    last = bare.split(",")[0] if bare.count(",") == 1 else (bare.split() or [""])[-1]
    return name_key(last)


def surname_only(tag: str, people: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The person entity that names this tag's person by surname alone ("Trump"), when no
    other full name in the article shares the surname: the mention is compatible with every
    namesake of the vocabulary, and the model's confidence (not the mention) chooses one."""
    key = surname_key(tag)
    if not key:
        return None
    alone = [p for p in people if len(p["name"].split()) == 1 and name_key(p["name"]) == key]
    others = [p for p in people if len(p["name"].split()) > 1 and surname_key(p["name"]) == key]
    return alone[0] if alone and not others else None


def surname_draft(info: dict[str, Any], drafts: dict[str, Draft], threshold: float) -> str | None:
    """The model's confident person tag an entity names by surname ("Trump" -> "Trump,
    Donald J" when the model suggests it; "Barber Conable" -> a surname tag "conable"),
    else ``None``."""
    if info.get("type") != "person" or not info["name"].split():
        return None
    alone = len(info["name"].split()) == 1
    key = name_key(info["name"].split()[-1])
    hits = [
        d.tag
        for d in drafts.values()
        if d.type == "person"
        and d.p >= threshold
        and surname_key(d.tag) == key
        and (alone or not is_full_name(d.tag))  # "Barber Conable" -> the tag "conable"
    ]
    return hits[0] if len(hits) == 1 else None
