"""A tag's type from the evidence: the mention's type checked against the gazetteer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from newstag.tagging.linker import _PAREN, name_key

if TYPE_CHECKING:  # pragma: no cover
    from newstag.tagging.assemble import Draft

ENTITY_TYPES = ("person", "place", "organisation")


def gazetteer_tables() -> Any:
    """The gazetteer (loaded once per process)."""
    from newstag.nlp import gazetteer

    return gazetteer.load()


def _is_place_word(word: str, gaz: Any) -> bool:
    place = gaz.place(word)
    return bool(gaz.country(word)) or bool(place and place[2] >= 100_000)


def evidence_type(info: dict[str, Any]) -> str:
    """An entity's type, checked against the gazetteer.

    A "person" whose first word is no first name but whose name holds a place ("Tottenham
    Hotspur", "FC Barcelona") is an organisation; a "place" the gazetteer does not know, with
    no country and a name that is no geographic feature the NER found as a location, keeps
    the NER's word only when it was a LOC ("Korean Peninsula"); a GPE-only unknown is an
    organisation ("Bundesliga").
    """
    etype = info.get("type", "")
    words = info["name"].split()
    gaz = gazetteer_tables()
    if (
        etype == "person"
        and words
        and words[0].lower() not in gaz.first_names
        and any(len(w) > 3 and _is_place_word(w, gaz) for w in words)
    ):
        return "organisation"
    if (
        etype == "place"
        and not info.get("country")
        and info.get("label") == "GPE"
        and not _is_place_word(info["name"], gaz)
    ):
        return "organisation"
    return etype if etype in ENTITY_TYPES else "topic"


def merged_type(draft: Draft, info: dict[str, Any]) -> str:
    """A tag's type once an entity is linked to it. Where the mention's type and the
    vocabulary's recorded type disagree, the gazetteer decides: a place must be one it knows
    ("Tottenham Hotspur" is not), a person needs a known first name ("Twitter")."""
    seen = evidence_type(info)
    if draft.new or seen == draft.type:
        return seen
    gaz = gazetteer_tables()
    if draft.type == "place":
        return "place"
    if seen == "place":
        name = info["name"]
        same = name_key(name) == name_key(_PAREN.sub("", draft.tag).strip())
        return "place" if same and (gaz.country(name) or gaz.place(name)) else draft.type
    words = info["name"].split()
    if seen == "person" and (len(words) < 2 or words[0].lower() not in gaz.first_names):
        return draft.type
    return seen
