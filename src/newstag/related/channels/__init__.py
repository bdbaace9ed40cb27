"""Similarity channels of a related-headlines index, one file each, registered by name.

A channel holds one kind of vector per indexed row and scores a query against every row with
a similarity in ``[0, 1]``. The index fuses the channels of a mode by weight (``fusion``), masks
rows that share nothing with the query (a lexical channel shares when it scores above 0, a
dense one from ``DENSE_MATCH``) and re-ranks the best candidates over the features each channel
declares (:meth:`Channel.feature_names`, :attr:`Channel.extra_features`).

Add a channel: write a :class:`Channel` subclass in a file and :func:`register` it (or add it to
``REGISTRY``); an index uses it when its name is in the index's ``channels`` parameter, and the
fusion when the weights give it one. Channels are scikit-learn style estimators
(``BaseEstimator``: parameters in ``__init__``, learned state ending in ``_``), so
``sklearn.base.clone`` gives an unfitted copy.

This package imports scikit-learn: the index imports it only when it builds or loads channels.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sklearn.base import BaseEstimator

if TYPE_CHECKING:
    from newstag.related.index import RelatedIndex
    from newstag.related.rows import Row


class Channel(BaseEstimator):
    """One similarity channel: per-row vectors, query vectors, similarities, features.

    Subclasses set ``name`` (the registry key, fusion weight name and feature prefix), and
    implement :meth:`append`, :meth:`n_rows`, :meth:`query_ids`, :meth:`query_texts`,
    :meth:`similarities`, :meth:`block` and persistence (:meth:`save`, :meth:`load`).
    """

    name: ClassVar[str] = ""
    dense: ClassVar[bool] = False  # shares something with a query from DENSE_MATCH, not > 0
    timing: ClassVar[str] = ""  # key of the build time in RelatedIndex.timings_
    semantic_only: ClassVar[bool] = False  # used only in the semantic mode
    extra_features: ClassVar[tuple[str, ...]] = ()  # re-ranker features after the per-channel
    rescores_candidates: ClassVar[bool] = False  # scored by fuse() on the best candidates only

    # -- which channels an index has -----------------------------------------

    @classmethod
    def wanted(cls, params: dict[str, Any]) -> bool:
        """Whether an index with these parameters uses this channel (default: named in its
        ``channels`` parameter)."""
        return cls.name in (params.get("channels") or ())

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Channel:
        """A new channel for an index with these parameters (default: no parameters)."""
        return cls()

    # -- learning and storing rows ---------------------------------------------

    def fit(self, texts: list[str], index: RelatedIndex | None = None) -> Channel:
        """Learn what the channel learns from all texts (vocabularies) and start empty."""
        self.start(index)
        return self

    def start(self, index: RelatedIndex | None) -> None:  # pragma: no cover - abstract
        """Empty learned state (no rows yet)."""
        raise NotImplementedError

    def append(self, rows: list[Row], texts: list[str], index: RelatedIndex) -> None:
        """Vectorise new rows (their indexed ``texts``) after the stored ones."""
        raise NotImplementedError  # pragma: no cover - abstract

    def forget(self, row: Row) -> None:
        """A row was removed (its vectors stay; counts it contributed may drop)."""

    def available(self) -> bool:
        """Whether the channel can be built here (a model it needs may be missing)."""
        return True

    def n_rows(self) -> int:  # pragma: no cover - abstract
        """How many rows the channel holds vectors for."""
        raise NotImplementedError

    def n_features(self) -> int | None:
        """The size of the channel's vocabulary (``manifest.json``), None without one."""
        return None

    def reset(self) -> None:
        """Drop query-time structures (rows were added or removed)."""
        self.prepared_ = None

    # -- querying --------------------------------------------------------------

    def query_ids(self, pos: list[int], index: RelatedIndex) -> Any:
        """Query vectors of indexed rows (their stored vectors)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def query_texts(self, texts: list[str], entities: list[list[str]], index: RelatedIndex) -> Any:
        """Query vectors of new texts (``entities``: their entity names)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def similarities(self, queries: Any, index: RelatedIndex) -> Any:
        """Similarities (queries x rows) in ``[0, 1]``."""
        raise NotImplementedError  # pragma: no cover - abstract

    def block(self, cand: Any, m: int, index: RelatedIndex) -> Any:
        """Similarities of the rows ``cand`` (positions) with the first ``m`` of them."""
        raise NotImplementedError  # pragma: no cover - abstract

    def candidate_scores(
        self, cand: Any, comps: dict[str, Any], q: dict[str, Any], weights: dict[str, float]
    ) -> Any:
        """The query's similarity with each candidate (from its fused channel scores)."""
        import numpy as np

        return np.asarray(comps[self.name])[cand]

    # -- re-ranker features ------------------------------------------------------

    def feature_names(self) -> list[str]:
        """Per-channel re-ranker features: the score, its rank among the reference, the
        reciprocal rank and the gap to the reference's best."""
        return [self.name, f"{self.name}_rank", f"{self.name}_recip", f"{self.name}_gap"]

    def extras(self, cand: Any, q: dict[str, Any], index: RelatedIndex) -> list[Any]:
        """Columns of :attr:`extra_features` for the candidates ``cand`` of query ``q``."""
        return []

    # -- persistence ---------------------------------------------------------------

    stored_files: ClassVar[tuple[str, ...]] = ()  # removed from a folder saved without it

    def save(self, out: Path, tmp: Any) -> list[str]:
        """Write the channel's files through ``tmp(name)``; return their final names."""
        return []

    @classmethod
    def load(
        cls, src: Path, manifest: dict[str, Any], params: dict[str, Any], index: RelatedIndex
    ) -> Channel | None:
        """The channel of a saved index (its rows are in ``index.store``), or None when the
        index does not have it. By default the rows are vectorised again (no file needed)."""
        if not cls.wanted(params):
            return None
        channel = cls.from_params(params)
        channel.start(index)
        rows = index.store.rows
        channel.append(rows, index.store.texts(rows), index)
        return channel

    def check(self, src: Path, manifest: dict[str, Any]) -> Channel | None:
        """After loading: raise a ``RelatedError`` if unusable, None to turn the channel off."""
        return self

    def manifest(self) -> dict[str, Any]:
        """Entries the channel adds to ``manifest.json``."""
        return {}

    def info(self) -> dict[str, Any]:
        """Entries the channel adds to :meth:`RelatedIndex.info`."""
        return {}


REGISTRY: dict[str, type[Channel]] = {}


def register(cls: type[Channel]) -> type[Channel]:
    """Add a channel class to :data:`REGISTRY` under its ``name`` (usable as a decorator)."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    REGISTRY[cls.name] = cls
    return cls


def _register_builtin() -> None:
    from newstag.related.channels.char import CharChannel
    from newstag.related.channels.entity import EntityChannel
    from newstag.related.channels.minilm import MiniLMChannel
    from newstag.related.channels.semantic import SemanticChannel
    from newstag.related.channels.word import WordChannel

    for cls in (WordChannel, CharChannel, EntityChannel, MiniLMChannel, SemanticChannel):
        register(cls)


_register_builtin()
