"""``RelatedIndex``: a row store, a list of similarity channels, fusion and re-ranking."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newstag.related import query as _query
from newstag.related import reranker as _reranker
from newstag.related.errors import RelatedError
from newstag.related.fusion import mode_weights
from newstag.related.rows import AddReport, Problem, Row, coerce_rows
from newstag.related.store import RowStore

if TYPE_CHECKING:
    from newstag.related.channels import Channel

FIELDS = ("headline", "headline+lead")
PARAMS = (
    "fields",
    "entities",
    "semantic",
    "weights",
    "semantic_weights",
    "pipeline",
    "n_process",
    "min_df",
    "query_max_df",
    "minilm",
    "rerank",
    "channels",
)


def _registry() -> dict[str, type[Channel]]:
    from newstag.related.channels import REGISTRY  # imports scikit-learn: only when needed

    return REGISTRY


class RelatedIndex:
    """A headline index that ranks related headlines.

    Parameters (scikit-learn style, ``get_params``/``set_params``; learned state ends in ``_``):

    fields: ``"headline"`` or ``"headline+lead"`` (what is indexed and compared).
    entities: use entity overlap (needs spaCy; off makes building much faster).
    semantic: also store MiniLM embeddings (needs the ``[semantic]`` extra).
    weights / semantic_weights: fusion weights (default: tuned on neus-related train).
    pipeline: spaCy pipeline for entity extraction (default: newstag's).
    n_process: processes for entity extraction when building.
    min_df / query_max_df: of the TF-IDF channels (:class:`TfidfChannel`).
    minilm: use the int8 MiniLM channel (onnxruntime, no torch; see
        :mod:`newstag.encoders.minilm_onnx`).
    rerank: reorder each query's best candidates with the shipped re-ranker (:class:`Reranker`;
        used only with the default weights and the minilm channel on).
    channels: names of further channels from :data:`newstag.related.channels.REGISTRY`.

    The work is delegated: rows to :class:`RowStore` (``store``), similarities to the channels
    (``channels_``), fusion to :mod:`newstag.related.fusion`, masks, ranking and explanations
    to :mod:`newstag.related.query`, the re-ranker to :mod:`newstag.related.reranker`,
    files to :mod:`newstag.related.persist`.
    """

    def __init__(
        self,
        fields: str = "headline",
        entities: bool = True,
        semantic: bool = False,
        weights: dict[str, float] | None = None,
        semantic_weights: dict[str, float] | None = None,
        pipeline: str | None = None,
        n_process: int = 1,
        min_df: int = 1,
        query_max_df: float = 0.1,
        minilm: bool = True,
        rerank: bool = True,
        channels: tuple[str, ...] = (),
    ) -> None:
        self.fields = fields
        self.entities = entities
        self.semantic = semantic
        self.weights = weights
        self.semantic_weights = semantic_weights
        self.pipeline = pipeline
        self.n_process = n_process
        self.min_df = min_df
        self.query_max_df = query_max_df
        self.minilm = minilm
        self.rerank = rerank
        self.channels = channels

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters."""
        return {name: getattr(self, name) for name in PARAMS}

    def set_params(self, **params: Any) -> RelatedIndex:
        """Change parameters (refit to apply those used when building)."""
        for name, value in params.items():
            if name not in PARAMS:
                raise ValueError(f"unknown parameter {name!r} of RelatedIndex")
            setattr(self, name, value)
        return self

    # -- channels ------------------------------------------------------------------

    def channel(self, name: str) -> Any:
        """The channel called ``name`` (None when the index does not use it)."""
        return next((ch for ch in getattr(self, "channels_", []) if ch.name == name), None)

    def has(self, name: str) -> bool:
        """Whether the index uses the channel ``name``."""
        return self.channel(name) is not None

    def mode_channels(self, semantic: bool) -> list[Channel]:
        """The channels of a mode (semantic-only channels in semantic mode)."""
        return [ch for ch in self.channels_ if semantic or not ch.semantic_only]

    def without(self, name: str) -> RelatedIndex:
        """A view of the index without one channel (sharing rows and the other channels)."""
        view = copy.copy(self)
        view.channels_ = [ch for ch in self.channels_ if ch.name != name]
        view._cache = {}
        return view

    def _new_channels(self) -> list[Channel]:
        """Unfitted channels for the parameters, in registry order (those available here)."""
        unknown = set(self.channels or ()) - set(_registry())
        if unknown:
            raise RelatedError(
                f"unknown channel {sorted(unknown)[0]!r} (registered: {', '.join(_registry())})"
            )
        params = self.get_params()
        made = [cls.from_params(params) for cls in _registry().values() if cls.wanted(params)]
        return [ch for ch in made if ch.available()]

    # -- construction ------------------------------------------------------

    @classmethod
    def build(
        cls, rows: Iterable[Any], on_duplicate: str = "error", source: str = "", **params: Any
    ) -> RelatedIndex:
        """Build an index from rows (``Row``, dicts with id/headline/..., or a DataFrame);
        ``source`` names the file the rows came from in messages."""
        return cls(**params).fit(rows, on_duplicate=on_duplicate, source=source)

    def fit(
        self, rows: Iterable[Any], on_duplicate: str = "error", source: str = ""
    ) -> RelatedIndex:
        """Learn vocabularies and IDF from ``rows`` and index them (``source``: see build)."""
        if self.fields not in FIELDS:
            raise RelatedError(f"fields must be one of {', '.join(FIELDS)}, not {self.fields!r}")
        pairs, problems = coerce_rows(rows)
        self.store = RowStore(self.fields)
        self.problems_: list[Problem] = list(problems)
        kept = self.store.dedupe(pairs, on_duplicate, self.problems_, source)
        if not kept:
            raise RelatedError(
                "no valid headlines to index"
                + (f" ({self.problems_[0]})" if self.problems_ else "")
            )
        texts = self.store.texts([r for _, r in kept])
        self.channels_ = self._new_channels()
        t0 = time.perf_counter()
        for ch in self.channels_:
            ch.fit(texts, self)
        self.timings_: dict[str, float] = {"vectorizers": time.perf_counter() - t0}
        self._append([r for _, r in kept])
        self.created_ = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return self

    def add(self, rows: Iterable[Any], on_duplicate: str = "error", source: str = "") -> AddReport:
        """Append rows without refitting the vocabularies (see the package docstring);
        ``source`` names the file the rows came from in messages."""
        self._check_fitted()
        pairs, problems = coerce_rows(rows)
        report = AddReport(skipped=list(problems))
        kept = self.store.dedupe(pairs, on_duplicate, report.skipped, source)
        for _, row in kept:
            if row.id in self.store:  # replace: tombstone the old row
                self._kill(self.store.id_pos[row.id])
                report.replaced += 1
        self._append([r for _, r in kept])
        report.added = len(kept) - report.replaced
        return report

    def remove(self, ids: Iterable[str]) -> int:
        """Remove items by id; returns how many were removed."""
        self._check_fitted()
        n = 0
        for rid in ids:
            if rid in self.store:
                self._kill(self.store.id_pos[rid])
                n += 1
        return n

    def _kill(self, pos: int) -> None:
        row = self.store.kill(pos)
        for ch in self.channels_:
            ch.forget(row)
            ch.reset()
        self._cache = {}

    def refit(self) -> RelatedIndex:
        """Re-learn vocabularies and IDF from all live rows (drops removed rows)."""
        self._check_fitted()
        live = [r for r in self.store.rows if r.alive]
        for r in live:
            r.entities = r.entities or []
        fresh = RelatedIndex(**self.get_params())
        fresh.known_entities = {r.id: r.entities for r in live}
        fresh.fit(live)
        self.__dict__.update(fresh.__dict__)
        return self

    def _append(self, rows: list[Row]) -> None:
        """Vectorise new rows in every channel, then store them."""
        if not rows:
            return
        texts = self.store.texts(rows)
        timings = getattr(self, "timings_", {})
        for ch in self.channels_:
            t0 = time.perf_counter()
            ch.append(rows, texts, self)
            timings[ch.timing] = timings.get(ch.timing, 0.0) + time.perf_counter() - t0
        for cls in _registry().values():
            timings.setdefault(cls.timing, 0.0)
        self.timings_ = timings
        self.store.append(rows)
        self._cache: dict[str, Any] = {}

    def extract_entities(self, headlines: list[str], leads: list[str]) -> list[list[list[str]]]:
        """Canonical entities of each headline (+ lead when indexed), as ``[name, type]``."""
        from newstag.related.channels.entity import extract_entities

        return extract_entities(headlines, leads, self.fields, self.pipeline, self.n_process)

    def use_vectors(self, name: str, vectors: Any) -> None:
        """Replace a dense channel's row vectors (adding the channel when missing), e.g. with
        vectors computed elsewhere (benchmarks: out-of-fold embeddings)."""
        ch = self.channel(name)
        if ch is None:
            ch = _registry()[name].from_params(self.get_params())
            ch.start(self)
            order = list(_registry())
            self.channels_ = sorted([*self.channels_, ch], key=lambda c: order.index(c.name))
        if len(vectors) != len(self.store):
            raise RelatedError(f"{len(vectors)} vectors for {len(self.store)} rows")
        ch.vectors_ = vectors
        self.semantic = self.has("semantic")
        self._cache = {}

    # -- persistence --------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write the index to ``directory`` (created; files replaced atomically)."""
        from newstag.related.persist import save_index

        self._check_fitted()
        return save_index(self, Path(directory))

    @classmethod
    def load(cls, directory: str | Path) -> RelatedIndex:
        """Load an index written by :meth:`save` (no unpickling)."""
        from newstag.related.persist import load_index

        return load_index(directory, cls)

    # -- state -----------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "store"):
            raise RelatedError("the index is empty: build it first")

    @property
    def n_live(self) -> int:
        """How many items are indexed (removed ones not counted)."""
        return self.store.n_live if hasattr(self, "store") else 0

    def __len__(self) -> int:
        return self.n_live

    def __contains__(self, rid: object) -> bool:
        return hasattr(self, "store") and rid in self.store

    @property
    def rows_(self) -> list[Row]:
        """Every stored row, removed ones included (``alive`` False)."""
        return self.store.rows

    @property
    def id_pos_(self) -> dict[str, int]:
        """Row position of each id."""
        return self.store.id_pos

    @property
    def word_vec_(self) -> Any:
        """The word channel's TF-IDF vectoriser."""
        return self.channel("word").vec_

    @property
    def minilm_(self) -> Any:
        """The int8 MiniLM channel's row vectors (None without the channel)."""
        ch = self.channel("minilm")
        return None if ch is None else ch.vectors_

    @property
    def embeddings_(self) -> Any:
        """The semantic channel's row vectors (None without the channel)."""
        ch = self.channel("semantic")
        return None if ch is None else ch.vectors_

    def prepared(self) -> dict[str, Any]:
        """Query-time structures of the rows (alive mask, dates, normalised headlines, token
        vectors met so far), built lazily after load/add."""
        if not self._cache:
            self._cache = {
                "alive": self.store.alive_mask(),
                "dates": self.store.dates(),
                "norms": {},
                "tokens": {},
            }
        return self._cache

    _prepared = prepared

    def fusion_weights(self, semantic: bool) -> dict[str, float]:
        """The fusion weights of a mode, over the channels the index has."""
        return mode_weights(
            self.weights,
            self.semantic_weights,
            semantic,
            [ch.name for ch in self.mode_channels(semantic)],
            _registry(),
        )

    _weights = fusion_weights

    def _use_semantic(self, semantic: bool | None) -> bool:
        if semantic and not self.has("semantic"):
            raise RelatedError("this index has no embeddings: rebuild it with --semantic")
        return self.has("semantic") if semantic is None else bool(semantic)

    # -- re-ranker -----------------------------------------------------------------

    def reranker(self, semantic: bool) -> _reranker.Reranker | None:
        """The re-ranker for this index's channels in one mode, or None (fused order is kept).

        None when ``rerank`` is off, with custom weights for the mode, without the minilm channel
        or when the shipped file has no model for the mode; a :class:`RelatedError` when its
        model's features are not those of the channels (refit it).
        """
        custom = self.semantic_weights if semantic else self.weights
        if not getattr(self, "rerank", True) or custom is not None or not self.has("minilm"):
            return None
        channels = self.mode_channels(semantic)
        key = _reranker.model_key(semantic, [ch.name for ch in channels])
        model = _reranker.load_reranker().get(key)
        if model is None:
            return None
        return _reranker.check_features(model, self.rerank_feature_names(semantic), key)

    def check_reranker(self) -> None:
        """Raise a :class:`RelatedError` when the shipped re-ranker of a mode the index can
        query in does not match its channels (called when an index loads)."""
        for semantic in (False, True) if self.has("semantic") else (False,):
            self.reranker(semantic)

    def rerank_feature_names(self, semantic: bool) -> list[str]:
        """Names of the columns of :meth:`rerank_features` in one mode."""
        return _reranker.feature_names(self.mode_channels(semantic))

    def rerank_features(
        self, cand: Any, score: Any, comps: dict[str, Any], q: dict[str, Any], semantic: bool
    ) -> Any:
        """Re-ranker features of one query (:func:`newstag.related.reranker.rerank_features`)."""
        return _reranker.rerank_features(self, cand, score, comps, q, semantic)

    def rerank_candidates(
        self, ids: list[str], semantic: bool, batch_size: int = 250
    ) -> Iterator[tuple[int, Any, Any]]:
        """For each indexed id, as its query ranks: ``(position, candidates, features)``
        (:func:`newstag.related.reranker.candidates`; what ``scripts/fit_reranker.py`` fits on)."""
        return _reranker.candidates(self, ids, semantic, batch_size)

    # -- querying -------------------------------------------------------------

    def components(
        self,
        texts: list[str] | None = None,
        ids: list[str] | None = None,
        entities: list[list[str]] | None = None,
        semantic: bool | None = None,
        minilm_all: bool = True,
    ) -> dict[str, Any]:
        """Per-channel similarity matrices (queries x rows), each in [0, 1].

        ``minilm_all=False`` leaves out the minilm channel; its query vectors are then
        returned under ``"_minilm_query"`` (queries rank with it through :func:`fuse`).

        Give ``texts`` (new queries; entities are extracted unless given) or ``ids``
        (indexed items; their stored vectors are used).
        """
        self._check_fitted()
        channels = self.mode_channels(self._use_semantic(semantic))
        if ids is not None:
            pos = [self.store.pos(i) for i in ids]
            queries = {ch.name: ch.query_ids(pos, self) for ch in channels}
        else:
            texts = [" ".join(t.split()) for t in (texts or [])]
            if self.has("entity") and entities is None:
                found = self.extract_entities(*_query.split_leads(texts))
                entities = [[n for n, _ in e] for e in found]
            ents = entities or [[] for _ in texts]
            queries = {ch.name: ch.query_texts(texts, ents, self) for ch in channels}
        out: dict[str, Any] = {}
        for ch in channels:
            if ch.rescores_candidates and not minilm_all:
                out[f"_{ch.name}_query"] = queries[ch.name]
            else:
                out[ch.name] = ch.similarities(queries[ch.name], self)
        return out

    def query(
        self,
        text: str | None = None,
        id: str | None = None,
        article: Any = None,
        k: int = 10,
        since: str | None = None,
        exclude_self: bool = True,
        semantic: bool | None = None,
        explain: bool = True,
        min_score: float | None = None,
    ) -> list[dict[str, Any]]:
        """Top-``k`` related headlines for one query (``text``, ``id`` or an ``Article``).

        ``id`` queries use the stored vectors and never return the item itself.
        ``exclude_self`` also drops items whose id or headline equals the query's.
        ``min_score`` drops results scoring below it (default :data:`DEFAULT_MIN_SCORE`).
        Returns dicts with id, headline, date, url, score, scores (per signal) and why.
        """
        return next(
            iter(
                self.query_many(
                    [{"text": text, "id": id, "article": article}],
                    k=k,
                    since=since,
                    exclude_self=exclude_self,
                    semantic=semantic,
                    explain=explain,
                    min_score=min_score,
                )
            )
        )

    def query_many(
        self,
        queries: Iterable[dict[str, Any]],
        k: int = 10,
        since: str | None = None,
        exclude_self: bool = True,
        semantic: bool | None = None,
        explain: bool = True,
        batch_size: int = 256,
        min_score: float | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Answer many queries (dicts with ``id``, ``text`` or ``article``), in order.

        ``min_score`` drops results scoring below it (default :data:`DEFAULT_MIN_SCORE`).
        """
        self._check_fitted()
        if k < 1:
            raise RelatedError("k must be at least 1")
        floor = _query.check_min_score(min_score)
        since = _query.check_since(since)
        use_sem = self._use_semantic(semantic)
        batch: list[dict[str, Any]] = []
        for q in queries:
            batch.append(_query.plan(self, q))
            if len(batch) >= batch_size:
                yield from _query.answer(
                    self, batch, k, since, exclude_self, use_sem, explain, floor
                )
                batch = []
        if batch:
            yield from _query.answer(self, batch, k, since, exclude_self, use_sem, explain, floor)

    # -- reporting -------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Size and settings, for ``newstag index info``."""
        self._check_fitted()
        rows = self.store.rows
        dates = sorted(r.date for r in rows if r.alive and r.date)
        sizes = {f"{n}_features": 0 for n in ("word", "char", "entity")}
        for ch in self.channels_:
            sizes.update({k: v for k, v in ch.info().items() if k.endswith("_features")})
        return {
            "size": self.n_live,
            "rows_stored": len(rows),
            "removed": len(rows) - self.n_live,
            "fields": self.fields,
            "entities": self.entities,
            "semantic": self.has("semantic"),
            "semantic_model": self.semantic_model_name(),
            **sizes,
            "minilm": self.has("minilm"),
            "rerank": self.reranker(False) is not None,
            "weights": self.fusion_weights(False),
            "semantic_weights": self.fusion_weights(True) if self.has("semantic") else None,
            "date_min": dates[0] if dates else None,
            "date_max": dates[-1] if dates else None,
            "created": getattr(self, "created_", None),
        }

    def semantic_model_name(self) -> str | None:
        """The name of the sentence embeddings the index holds (None without them)."""
        ch = self.channel("semantic")
        return None if ch is None else ch.model_name()

    def to_frame(self) -> Any:
        """The live items as a pandas DataFrame (for notebooks)."""
        self._check_fitted()
        return self.store.to_frame()
