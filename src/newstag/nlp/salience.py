"""Salience: how central an entity is to its article, a weighted sum of named features.

The features (:class:`SalienceFeatures`) are each in [0, 1]; the weights
(:class:`SalienceWeights`) have one field per feature and come from ``data/salience.json``,
fitted on Wikinews by ``benchmarks/salience.py --write``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from newstag.paths import PACKAGE_DATA

if TYPE_CHECKING:  # pragma: no cover
    from newstag.io.article import Article
    from newstag.nlp.entities import Entity

LEAD_CHARS = 400
"""The lead is at least this many characters of the body (or its first paragraph)."""
SALIENCE_FILE = PACKAGE_DATA / "salience.json"
"""Fitted salience weights (``benchmarks/salience.py --write``); hand-set ones without it."""


@dataclass(frozen=True)
class SalienceFeatures:
    """What salience weighs, each in [0, 1] (see :func:`salience_features`)."""

    headline: float = 0.0
    """1 if the entity is named in the headline."""
    lead: float = 0.0
    """1 if it is named in the lead."""
    frequency: float = 0.0
    """Mention count, log-scaled (10 mentions or more give 1)."""
    spread: float = 0.0
    """Share of the body between its first and last body mention."""
    early: float = 0.0
    """1 minus the position of its first body mention as a share of the body."""
    order: float = 0.0
    """1 / (1 + the number of entities first mentioned before it)."""
    person: float = 0.0
    """1 for a person."""
    place: float = 0.0
    """1 for a place."""
    country: float = 0.0
    """1 for a country."""
    person_headline: float = 0.0
    """1 for a person named in the headline (the story's protagonist)."""

    def as_dict(self) -> dict[str, float]:
        """``{feature name: value}``, in :data:`FEATURES` order."""
        return asdict(self)


FEATURES = tuple(f.name for f in fields(SalienceFeatures))
"""The feature names, in the order they are summed."""


@dataclass(frozen=True)
class SalienceWeights(SalienceFeatures):
    """The weight of each salience feature (non-negative, summing to 1): the fields are those
    of :class:`SalienceFeatures`, a feature left out weighs 0."""

    @classmethod
    def from_mapping(cls, weights: Mapping[str, float], source: str = "weights") -> SalienceWeights:
        """Weights from ``{feature: weight}``; a name that is no feature is an error."""
        unknown = sorted(set(weights) - set(FEATURES))
        if unknown:
            raise ValueError(
                f"{source}: unknown salience feature(s) {', '.join(unknown)} "
                f"(features: {', '.join(FEATURES)})"
            )
        return cls(**{name: float(value) for name, value in weights.items()})

    @classmethod
    def load(cls, path: Path = SALIENCE_FILE) -> SalienceWeights:
        """The weights stored in ``path`` (its ``weights`` object); the hand-set ones when
        the file is missing or holds none. A weight for an unknown feature is an error."""
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))["weights"]
        except (OSError, ValueError, KeyError, TypeError):
            return HAND_SET_WEIGHTS
        return cls.from_mapping(stored, str(path))


HAND_SET_WEIGHTS = SalienceWeights(
    headline=0.30, lead=0.20, frequency=0.30, spread=0.10, early=0.10
)
"""The weights used before any were fitted (and when ``data/salience.json`` is unreadable)."""


@lru_cache(maxsize=1)
def salience_weights() -> SalienceWeights:
    """The salience weights in use (``data/salience.json``), loaded once per process."""
    return SalienceWeights.load()


def salience_features(
    starts: list[int], article: Article, etype: str, order: int = 0, country: bool = False
) -> SalienceFeatures:
    """The salience features of an entity with mentions at ``starts`` (offsets in
    ``article.text``); ``order`` entities are first mentioned before it."""
    headline_end = article.headline_end
    body_start = headline_end + 2 if article.title else 0
    body_len = max(len(article.text) - body_start, 1)
    lead_end = body_start + max(LEAD_CHARS, article.body.find("\n\n") if article.body else 0)
    body = [s - body_start for s in starts if s >= body_start]
    in_headline = any(s < headline_end for s in starts)
    return SalienceFeatures(
        headline=float(in_headline),
        lead=float(any(s < lead_end for s in starts if s >= body_start)),
        frequency=min(1.0, math.log1p(len(starts)) / math.log1p(10)),
        spread=(max(body) - min(body)) / body_len if len(body) > 1 else 0.0,
        early=1 - (min(body) / body_len if body else 1.0),
        order=1 / (1 + order),
        person=float(etype == "person"),
        place=float(etype == "place"),
        country=float(country),
        person_headline=float(etype == "person" and in_headline),
    )


def salience_score(features: SalienceFeatures, weights: SalienceWeights) -> float:
    """The weighted sum of the features, clipped to [0, 1]."""
    total = sum(getattr(weights, name) * getattr(features, name) for name in FEATURES)
    return min(1.0, max(0.0, total))


def score_entities(entities: Iterable[Entity], article: Article) -> None:
    """Set each entity's salience, ``in_headline`` and ``in_lead``."""
    entities = list(entities)
    weights = salience_weights()
    firsts = sorted(min(m.start for m in e.mentions) for e in entities)
    for entity in entities:
        starts = [m.start for m in entity.mentions]
        features = salience_features(
            starts,
            article,
            entity.type,
            firsts.index(min(starts)),
            entity.type == "place" and entity.country == entity.name,
        )
        entity.in_headline = bool(features.headline)
        entity.in_lead = bool(features.lead)
        entity.salience = salience_score(features, weights)
