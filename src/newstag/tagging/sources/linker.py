"""The ``linker`` source: the article's entities linked to tags, and new salient entities."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, TypedDict

from newstag.tagging.linker import EVIDENCE_KEYS, LinkEvidence
from newstag.tagging.sources.base import Batch, CandidateSource, TrainingSet, register_source

NEW_TYPES = ("person", "organisation", "place")
FAR = 5000
"""First-mention offset (characters into the body) used when the tag's entities have none."""


class LinkerFeatures(TypedDict):
    """Entity evidence of a candidate (see :meth:`TagLinker.candidates`), as numbers."""

    salience: float
    mentions: float
    in_headline: float
    in_lead: float
    str_quality: float
    link_conf: float
    link_support: float
    via_country: float
    n_entities: float
    prior: float
    """Log share of training articles with the tag."""
    is_new: float
    is_person: float
    is_place: float
    is_org: float
    has_entity: float
    str_salience: float
    str_in_headline: float
    link_weight: float
    free_link_weight: float
    shadow_weight: float
    str_mentions: float
    country_mentions: float
    first_pos: float
    first_of_type: float
    most_of_type: float
    type_share: float
    headline_any: float
    n_str_tags: float


def evidence_features(ev: LinkEvidence | None, prior: float, is_new: bool) -> LinkerFeatures:
    """The features of a candidate's entity evidence (``None``: no entity points to it).

    Keys the linker may leave out read as zero; a key it never writes raises ``KeyError``.
    """
    ev = ev or {}

    def get(key: str, default: Any = None) -> Any:
        if key not in EVIDENCE_KEYS:
            raise KeyError(f"{key!r} is no key of the linker's evidence")
        return ev.get(key, default)

    etype = get("entity_type", "")
    return {
        "salience": float(get("salience", 0.0)),
        "mentions": math.log1p(get("mentions", 0)),
        "in_headline": 1.0 if get("in_headline") else 0.0,
        "in_lead": 1.0 if get("in_lead") else 0.0,
        "str_quality": float(get("str_quality", 0.0)),
        "link_conf": float(get("link_conf", 0.0)),
        "link_support": math.log1p(get("link_support", 0)),
        "via_country": 1.0 if ev and get("via_country") else 0.0,
        "n_entities": float(get("n_entities", 0)),
        "prior": float(prior),
        "is_new": float(is_new),
        "is_person": float(etype == "person"),
        "is_place": float(etype == "place"),
        "is_org": float(etype == "organisation"),
        "has_entity": 1.0 if ev else 0.0,
        "str_salience": float(get("str_salience", 0.0)),
        "str_in_headline": 1.0 if get("str_in_headline") else 0.0,
        "link_weight": float(get("link_weight", 0.0)),
        "free_link_weight": float(get("free_link_weight", 0.0)),
        "shadow_weight": float(get("shadow_weight", 0.0)),
        "str_mentions": math.log1p(get("str_mentions", 0)),
        "country_mentions": math.log1p(get("country_mentions", 0)),
        "first_pos": math.log1p(min(get("first_pos", FAR), FAR)),
        "first_of_type": 1.0 if get("first_of_type") else 0.0,
        "most_of_type": 1.0 if get("most_of_type") else 0.0,
        "type_share": float(get("type_share", 0.0)),
        "headline_any": 1.0 if get("headline_any") else 0.0,
        "n_str_tags": float(get("n_str_tags", 0)),
    }


class LinkerState:
    """One article's entity infos, the tags they point to and its new-tag evidence."""

    def __init__(self, entities: Any, evidence: dict[str, dict[str, Any]]) -> None:
        self.entities = entities
        self.evidence = evidence
        self.new: dict[str, dict[str, Any]] = {}


@register_source("linker")
class LinkerSource(CandidateSource):
    """A :class:`~newstag.tagging.linker.TagLinker` (``link_min_support``, ``country_links``,
    ``surname_links``); proposes the tags the entities point to and, as new tags, salient
    people, places and organisations (``new_min_salience``) that match no known tag."""

    part = "linker"
    FEATURES = tuple(LinkerFeatures.__annotations__)

    def __init__(
        self,
        link_min_support: int = 2,
        country_links: bool = True,
        surname_links: bool = True,
        new_min_salience: float = 0.3,
    ) -> None:
        self.link_min_support = link_min_support
        self.country_links = country_links
        self.surname_links = surname_links
        self.new_min_salience = new_min_salience

    def fit(self, data: TrainingSet) -> LinkerSource:
        from newstag.tagging.linker import TagLinker

        self.linker_ = TagLinker(
            min_support=self.link_min_support,
            country_forms=self.country_links,
            surnames=self.surname_links,
        ).fit(data.entities, data.tags, aliases=data.aliases)
        return self

    def scan(self, batch: Batch) -> list[LinkerState]:
        out = []
        for text, ents in zip(batch.texts, batch.entities, strict=True):
            headline = text.split("\n\n", 1)[0] if text and "\n\n" in text else None
            out.append(LinkerState(ents, self.linker_.candidates(ents, headline=headline)))
        return out

    def propose(self, state: LinkerState) -> list[str]:
        return list(state.evidence)

    def new_tags(self, state: LinkerState, taken: set[str]) -> dict[str, dict[str, Any]]:
        """Salient entities that match no known tag, in entity order."""
        for e in state.entities:
            if e.get("type") not in NEW_TYPES or e.get("salience", 0.0) < self.new_min_salience:
                continue
            if e["name"] in taken or e["name"] in state.new or self.linker_.known(e):
                continue
            state.new[e["name"]] = {
                "salience": e["salience"],
                "mentions": e.get("count", 0),
                "in_headline": e.get("in_headline"),
                "in_lead": e.get("in_lead"),
                "str_quality": 0.0,
                "link_conf": 0.0,
                "link_support": 0,
                "via_country": False,
                "n_entities": 1,
                "entity_type": e.get("type", ""),
                "entities": [e["name"]],
            }
        return state.new

    def features(self, state: LinkerState, tag: str, new: bool) -> LinkerFeatures:
        ev = state.new.get(tag) if new else state.evidence.get(tag)
        return evidence_features(ev, self.linker_.prior(tag), new)

    def detail(self, state: LinkerState, tag: str) -> dict[str, Any] | None:
        return state.new.get(tag) or state.evidence.get(tag)

    def save(self, folder: Path) -> list[Path]:
        return self.linker_.save(folder)

    def load_part(self, folder: Path | None) -> LinkerSource:
        from newstag.tagging.linker import TagLinker

        if folder is None:
            raise ValueError("the linker part is missing")
        self.linker_ = TagLinker.load(folder)
        return self
