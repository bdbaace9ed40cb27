"""What a model records of its training archive decides how far the story's entities reach:
new tags only of the kinds the archive used, its lower-case codes kept, its typical number of
tags per article."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from newstag.tagging.linker import _PAREN
from newstag.tagging.periods import recorded_type
from newstag.tagging.tag_types import gazetteer_tables

if TYPE_CHECKING:  # pragma: no cover
    from newstag.tagging import TagModel
    from newstag.tagging.assemble import Draft

FILL_TO_TYPICAL = True
"""Show the model's best tags below its threshold when fewer than the archive's typical
number of tags per article would be shown (see :func:`fill_to_typical`)."""


SELECTIVE_TAGS = 2
"""An archive that gives an article at most this many tags on average is selective: it
tags the story's main entity, not every one mentioned, and its model has learned which."""


NEW_TYPE_SHARE = 0.05
"""A model makes new tags of a type (person, place, organisation) only when at least this
share of its training tag uses were tags of that type: an archive tagged by topic (Reuters
categories) or by people only does not want every story's places as new tags."""


OWN_NEW_TAG_WEIGHT = 0.5
"""A new tag's share of its centrality for a model of the newsroom's own archive: its
vocabulary already names the people and places that newsroom tags, so one it lacks is less
likely a tag (Wikinews dev, ``benchmarks/public_path_dev.py``: public-path P@5 0.698 ->
0.755). A general model used on another newsroom's stories (the shipped one) counts new
tags in full: its vocabulary does not know today's people."""


def own_archive(model: TagModel | None) -> bool:
    """Whether the model learned the newsroom's own archive (``archive = "own"``), not a
    general vocabulary used on other newsrooms' stories (``"general"``, the shipped model)."""
    return model is not None and getattr(model, "archive", "general") == "own"


_SHARES: weakref.WeakKeyDictionary[Any, dict[str, float]] = weakref.WeakKeyDictionary()


def type_shares(model: TagModel) -> dict[str, float]:
    """The share of the model's training tag uses per recorded type ("person": 0.11 when one
    tag use in nine named a person)."""
    shares = _SHARES.get(model)
    if shares is None:
        counts = model.tag_counts_
        total = sum(counts.values()) or 1
        shares = {}
        for tag, n in counts.items():
            kind = recorded_type(model, tag)
            shares[kind] = shares.get(kind, 0.0) + n / total
            if kind == "place" and place_kind(tag) == "locality":
                shares["locality"] = shares.get("locality", 0.0) + n / total
        _SHARES[model] = shares
    return shares


def is_code(tag: str) -> bool:
    """A tag written in lower case ("argentina", "west-germany") is the archive's code for
    the thing, not a spelling of its name: the story's spelling does not replace it."""
    return tag == tag.lower() and any(c.isalpha() for c in tag)


def makes_new_tags(model: TagModel | None, kind: str) -> bool:
    """Whether new tags of this kind are wanted: always without a model (entity tags), else
    when the model's vocabulary holds enough tags of the kind (``NEW_TYPE_SHARE``); the kind
    "locality" (a place within a country: a city, a state) by its own share, as an archive
    may tag countries only."""
    return model is None or type_shares(model).get(kind, 0.0) >= NEW_TYPE_SHARE


def place_kind(name: str) -> str:
    """A place tag's kind: "place" for a country (or a place the gazetteer does not put
    in one), "locality" for a place within a country."""
    gaz = gazetteer_tables()
    bare = _PAREN.sub("", name).strip()
    if gaz.country(bare) or gaz.country(bare.replace("-", " ")):
        return "place"
    return "locality" if gaz.place(bare) or gaz.place(bare.split(",")[0]) else "place"


def typical_tags(model: TagModel) -> int:
    """How many tags the archive gave an article, on average (rounded)."""
    n_docs = getattr(model, "n_docs_", 0) or 0
    return round(sum(model.tag_counts_.values()) / n_docs) if n_docs else 0


def fill_to_typical(
    kept: list[Draft], drafts: dict[str, Draft], typical: int, threshold: float, min_score: float
) -> list[Draft]:
    """The model's next best vocabulary topics and organisations, below its threshold but
    within half of it, when fewer than the archive's typical number of tags are shown (after
    the confident ones)."""
    room = typical - len(kept)
    if room <= 0:
        return []
    shown = {id(d) for d in kept}
    rest = [
        d
        for d in drafts.values()
        if id(d) not in shown
        and not d.new
        and d.type not in ("person", "place")  # the story's entities name those
        and d.p >= threshold / 2
        and d.score >= min_score
    ]
    rest.sort(key=lambda d: (-d.p, d.tag))
    return rest[:room]


def archive_kinds(drafts: dict[str, Draft], model: TagModel | None) -> None:
    """Entity centrality counts for the kinds of tag the archive uses: where the model's
    vocabulary holds few tags of a type (``makes_new_tags``), its score alone decides a
    vocabulary tag of that type (Reuters' "can" is no reason to show the topic "can")."""
    for draft in drafts.values():
        if not draft.new and not makes_new_tags(model, draft.type):
            draft.e = 0.0
