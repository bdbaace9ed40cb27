"""The candidate-source interface and its registry.

A candidate source proposes tags for an article and describes every candidate tag with
named, typed features (a ``TypedDict`` per source; its keys, in order, are the source's
``FEATURES``). The combiner reads the features by name. A source is an :class:`Estimator`
(scikit-learn's parameter protocol); its parameters that share a name with a
:class:`~newstag.tagging.tagmodel.TagModel` parameter take the model's value
(:meth:`CandidateSource.from_model`). A source with a ``part`` saves and loads its fitted
state in the bundle folder of that name.

Adding a source: a class with ``@register_source("name")`` in a module of its own, and the
name in the TagModel's ``sources`` (or the training config); nothing else changes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from newstag.tagging.estimator import Estimator

NO_SCORE = -3.0
"""The score feature of a tag a source does not score."""
FAR_RANK = math.log1p(1000)
"""The rank feature (log1p of the rank) of a tag a source does not rank."""

Features = dict[str, float]
"""A candidate's features by name (the union of every source's typed features)."""


@dataclass
class TrainingSet:
    """What sources learn from: the shared feature matrix, entity infos and tag lists of
    the training articles, the whole vocabulary (all folds), the tags' aliases and the
    articles' dates (strings, None where undated)."""

    X: Any
    entities: Sequence[list[dict[str, Any]]]
    tags: Sequence[list[str]]
    aliases: dict[str, Sequence[str]] | None = None
    vocabulary: set[str] | None = None
    dates: Sequence[str | None] | None = None


@dataclass
class Batch:
    """Articles to score: texts (headline, blank line, body), entity infos, feature rows,
    and their dates (None where undated; those count as ``today``, else as today's date)."""

    texts: Sequence[str]
    entities: Sequence[Sequence[dict[str, Any]]]
    X: Any
    dates: Sequence[str | None] | None = None
    today: str | None = None


class CandidateSource(Estimator):
    """Base class of candidate sources (see the module docstring)."""

    name: ClassVar[str] = ""
    part: ClassVar[str | None] = None
    """The bundle folder of the source's fitted state (``None``: nothing to save)."""
    FEATURES: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_model(cls, model: Any) -> CandidateSource:
        """A new source whose parameters take the model's values where the names agree."""
        names = cls._get_param_names()
        return cls(**{k: getattr(model, k) for k in names if hasattr(model, k)})

    def fit(self, data: TrainingSet) -> CandidateSource:
        """Learn from training articles; returns ``self``."""
        return self

    def scan(self, batch: Batch) -> list[Any]:
        """Per-article state that :meth:`propose` and :meth:`features` read."""
        return [None] * len(batch.texts)

    def propose(self, state: Any) -> Iterable[str]:
        """Known tags this source puts forward for one article."""
        return ()

    def features(self, state: Any, tag: str, new: bool) -> Features:
        """The source's features of one candidate (``new``: a tag no training article had)."""
        raise NotImplementedError

    def new_tags(self, state: Any, taken: set[str]) -> dict[str, dict[str, Any]]:
        """Tags outside the vocabulary (name -> evidence) this source proposes."""
        return {}

    def detail(self, state: Any, tag: str) -> dict[str, Any] | None:
        """Evidence kept for explanations (which entities, how strongly), if any."""
        return None

    def save(self, folder: Path) -> list[Path]:
        """Write the fitted state into ``folder`` (the bundle's ``part``); the files."""
        return []

    def load_part(self, folder: Path | None) -> CandidateSource:
        """Read the fitted state saved by :meth:`save` (``None``: the part is empty)."""
        return self

    def bind(self, model: Any) -> None:
        """Called once a bundle's parts are all loaded (for state derived from others)."""


SOURCES: dict[str, type[CandidateSource]] = {}
DEFAULT_SOURCES = ("classifier", "knn", "linker", "labels")


def register_source(name: str) -> Any:
    """Class decorator: register a candidate source under ``name``."""

    def add(cls: type[CandidateSource]) -> type[CandidateSource]:
        if name in SOURCES and SOURCES[name] is not cls:
            raise ValueError(f"candidate source {name!r} is registered already")
        cls.name = name
        SOURCES[name] = cls
        return cls

    return add


def source_class(name: str) -> type[CandidateSource]:
    """The registered source class ``name`` (the package registers the built-in ones)."""
    try:
        return SOURCES[name]
    except KeyError:
        raise ValueError(
            f"unknown candidate source {name!r} (known: {', '.join(sorted(SOURCES))})"
        ) from None


def feature_order(sources: Sequence[CandidateSource]) -> tuple[str, ...]:
    """The combiner's columns: features of the original model in their historical order
    (a retrained default model stays the same), then other sources' in source order."""
    from newstag.tagging.combiner import FEATURES

    names: list[str] = []
    for source in sources:
        for feature in source.FEATURES:
            if feature in names:
                raise ValueError(
                    f"feature {feature!r} of source {source.name!r} is another source's already"
                )
            names.append(feature)
    legacy = {n: i for i, n in enumerate(FEATURES)}
    return tuple(sorted(names, key=lambda n: (n not in legacy, legacy.get(n, 0), names.index(n))))
