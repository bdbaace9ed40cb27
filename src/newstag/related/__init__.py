"""Related headlines: an index of headlines ranked by fused lexical, entity and dense similarity.

A :class:`RelatedIndex` scores every indexed headline against a query with up to five
cosine similarities, each in ``[0, 1]``, and ranks by their weighted sum:

* ``word``: TF-IDF of lightly stemmed word unigrams without stop words (sublinear tf);
* ``char``: TF-IDF of character 2-4-grams inside word boundaries (catches inflections);
* ``entity``: IDF-weighted overlap of canonical entities (``Kerry`` and ``John Kerry`` match)
  from :class:`newstag.nlp.entities.EntityExtractor`;
* ``minilm``: all-MiniLM-L6-v2 sentence vectors with newstag's headline adapter, quantised to
  int8 and run by onnxruntime (:mod:`newstag.encoders.minilm_onnx`; no torch), which match
  paraphrases
  that share no word. A query computes it only for its best candidates by the other channels
  (:func:`fuse`), which keeps queries fast at 100k;
* ``semantic`` (optional, needs the ``[semantic]`` extra): the same model at full precision,
  run by sentence-transformers (torch) (:mod:`newstag.encoders.adapter`).

Each query's best ``RERANK_DEPTH`` (50) items by fused score are then reordered by a re-ranker
(:class:`Reranker`, ``data/reranker.json``): a logistic regression, fitted on neus-related train
by ``scripts/fit_reranker.py``, over features of the candidate and of its neighbourhood among the
candidates (:meth:`RelatedIndex.rerank_features`; in semantic mode also how well MiniLM's token
vectors of the two headlines match, :func:`token_match`); a result's ``score`` is then its
probability of reporting the query's story and ``fused`` its weighted sum. With custom weights,
the minilm channel off or ``rerank=False`` the fused order is kept (``score`` = ``fused``).

Persistence is a directory: ``manifest.json`` (settings, sizes), ``rows.jsonl`` (one item a line,
with its entities and an ``alive`` flag), ``word.npz``/``char.npz`` (sparse TF-IDF rows),
``vocab-word.*``/``vocab-char.*`` (the vectorisers as data: settings JSON, terms, IDF array; see
:class:`newstag.tagging.tfidf.TfidfTable`), ``minilm.npy`` (int8 MiniLM sentence vectors) and,
with ``semantic``, ``embeddings.npy``. Nothing is pickled: loading an index never runs code from
it. Format 3 kept the vectorisers as a pickle (``vectorizers.joblib``): such an index is refused
and ``newstag index convert OLD NEW`` (:func:`convert_index`) rewrites it. The manifest records
the fingerprint of the MiniLM model that built the index; an index of an older format or of
another model must be rebuilt (the error says so).

:meth:`RelatedIndex.add` appends without refitting: new rows are vectorised with the
vocabularies and IDF learned at build time (unseen words still count through character
n-grams; entity IDF is updated exactly). :meth:`RelatedIndex.refit` re-learns them from all rows.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from newstag.encoders import minilm_onnx
from newstag.encoders.semantic import (  # noqa: F401  (part of this module's API)
    SEMANTIC_MODEL,
    encode,
    encode_tokens,
    encoder_with_adapter,
    load_encoder,
    semantic_available,
    semantic_model,
)
from newstag.errors import InputError
from newstag.paths import PACKAGE_DATA

FORMAT_VERSION = 4  # 2: static word-vector channel; 3: int8 MiniLM channel (minilm.npy);
# 4: vectorisers as data (vocab-*.json, terms, idf) instead of vectorizers.joblib
PICKLE_VERSION = 3

# Fusion weights, chosen on data: grid search maximising Recall@2 (ties broken by MRR) on the
# train split of neus-related (its 7,356 headlines indexed, each one a query, its two siblings
# relevant); see ``benchmarks/related.py --tune``. Only the ratios matter. The int8 MiniLM
# channel dominates (train R@2 0.437 with the other channels alone, 0.574 with it); entity overlap
# earns no weight in the fusion once it is there (the re-ranker still uses it).
DEFAULT_WEIGHTS: dict[str, float] = {"word": 1.0, "char": 1.5, "entity": 0.0, "minilm": 8.0}
DEFAULT_SEMANTIC_WEIGHTS: dict[str, float] = {"word": 1.0, "char": 1.0, "entity": 0.0,
                                              "minilm": 4.0, "semantic": 6.0}

# The re-ranker (:class:`Reranker`, ``data/reranker.json``) reorders each query's best
# RERANK_DEPTH items by fused score (train: 84% of the siblings are among the best 50).
RERANK_DEPTH = 50
# A MiniLM cosine from which two headlines have something in common even without a shared
# word (on neus-related val, half the siblings reach 0.6; gibberish queries stay below 0.4)
DENSE_MATCH = 0.5
DEFAULT_MIN_SCORE = 0.01
"""Results scoring below this are dropped unless a query gives its own ``min_score``: chosen on
neus-related train by ``benchmarks/related_min_score.py`` (see BENCHMARKS.md)."""
# Items whose MiniLM token vectors a semantic index keeps in memory for the re-ranker
TOKEN_CACHE = 20_000
_TIE = 1e-4  # similarities closer than this count as equal in the re-ranker's rank features
RERANKER = PACKAGE_DATA / "reranker.json"

FIELDS = ("headline", "headline+lead")
ON_DUPLICATE = ("error", "skip", "replace")
_TERM = re.compile(r"(?u)\b\w\w+\b")
_NUMBER = re.compile(r"\d+")


class RelatedError(InputError, ValueError):
    """A bad index, input file or query. The message is one line meant for the user."""


@dataclass
class Row:
    """One indexed headline."""

    id: str
    headline: str
    lead: str = ""
    date: str | None = None
    url: str | None = None
    tags: list[str] = field(default_factory=list)
    entities: list[list[str]] = field(default_factory=list)  # [[canonical name, type], ...]
    alive: bool = True

    def text(self, fields: str) -> str:
        if fields == "headline+lead" and self.lead:
            return f"{self.headline}\n{self.lead}"
        return self.headline


@dataclass
class Problem:
    """A row that was not indexed, with its 1-based line number in the input."""

    line: int
    message: str
    source: str = ""
    column: int | None = None

    def __str__(self) -> str:
        """``FILE: line N: message`` (``line N: message`` for rows not from a file)."""
        from newstag.io.records import where

        place = where(self.source, self.line, column=self.column) if self.source else \
            f"line {self.line}"
        return f"{place}: {self.message}"


@dataclass
class AddReport:
    """What :meth:`RelatedIndex.add` did."""

    added: int = 0
    replaced: int = 0
    skipped: list[Problem] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Reading rows
# ---------------------------------------------------------------------------

@dataclass
class FieldNames:
    """Input column names (``--id-field``, ``--text-field`` ...)."""

    id: str = "id"
    headline: str = "headline"
    lead: str = "lead"
    body: str = "body"
    date: str = "date"
    url: str = "url"
    tags: str = "tags"


_HEADLINE_FALLBACKS = ("headline", "title", "text")


def _as_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value).strip()


def _as_tags(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [t.strip() for t in re.split(r"[;|]", str(value)) if t.strip()]


def _lead_from_body(body: str, limit: int = 300) -> str:
    body = " ".join(body.split())
    if len(body) <= limit:
        return body
    cut = body.rfind(". ", 0, limit)
    return body[: cut + 1] if cut > 80 else body[:limit]


def row_from_record(record: Any, line: int, names: FieldNames | None = None) -> Row | Problem:
    """Turn one input record into a :class:`Row`, or a :class:`Problem` saying why not."""
    names = names or FieldNames()
    if not isinstance(record, dict):
        return Problem(line, "expected an object with id and headline")
    rid = _as_str(record.get(names.id))
    if not rid:
        return Problem(line, f"missing id (field {names.id!r})")
    headline_keys = [names.headline] + [k for k in _HEADLINE_FALLBACKS if k != names.headline]
    if names.headline != "headline":
        headline_keys = [names.headline]
    headline = next((_as_str(record.get(k)) for k in headline_keys if _as_str(record.get(k))), "")
    if not headline:
        return Problem(line, f"empty headline for id {rid!r} (field {names.headline!r})")
    lead = _as_str(record.get(names.lead)) or _lead_from_body(_as_str(record.get(names.body)))
    date = _as_str(record.get(names.date)) or None
    if date is not None:
        date = date[:10]
        if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", date):
            return Problem(line, f"bad date {record.get(names.date)!r} for id {rid!r} "
                                 "(expected YYYY-MM-DD)")
    return Row(id=rid, headline=" ".join(headline.split()), lead=lead, date=date,
               url=_as_str(record.get(names.url)) or None,
               tags=_as_tags(record.get(names.tags)))


def iter_records(path: str | Path, fmt: str | None = None,
                 stream: Any = None) -> Iterator[tuple[int, dict[str, Any] | Problem]]:
    """Yield ``(line, record | Problem)`` from a CSV or JSONL file (``-`` reads stdin).

    Read by :func:`newstag.io.records.read_records` (UTF-8, BOM dropped; empty cells missing);
    the format is ``fmt``, else the suffix (``.csv``/``.tsv``, anything else is JSON lines),
    else for stdin the first character (``{``: JSON lines).
    """
    from newstag.io.records import RecordError, read_records

    source = str(path)
    if fmt is None and (source != "-" or stream is not None):
        lower = source.lower().removesuffix(".gz")
        fmt = "tsv" if lower.endswith(".tsv") else "csv" if lower.endswith(".csv") else "jsonl"
    elif fmt == "csv" and source.lower().endswith(".tsv"):
        fmt = "tsv"
    try:
        for rec in read_records(path, fmt, stream=stream):
            line = rec.line if rec.line is not None else rec.row
            if rec.ok:
                yield line, rec.data or {}
            else:
                yield line, Problem(line, rec.error or "", column=rec.column)
    except RecordError as exc:
        raise RelatedError(str(exc)) from None


def read_rows(path: str | Path, names: FieldNames | None = None,
              fmt: str | None = None) -> tuple[list[tuple[int, Row]], list[Problem]]:
    """Read headline rows; return ``([(line, row)], problems)``. Problems name their line."""
    rows: list[tuple[int, Row]] = []
    problems: list[Problem] = []
    source = "<stdin>" if str(path) == "-" else str(path)
    for line, record in iter_records(path, fmt):
        item = record if isinstance(record, Problem) else row_from_record(record, line, names)
        if isinstance(item, Problem):
            item.source = source
            problems.append(item)
        else:
            rows.append((line, item))
    return rows, problems


def _coerce_rows(rows: Iterable[Any], names: FieldNames | None = None
                 ) -> tuple[list[tuple[int, Row]], list[Problem]]:
    """Accept Rows, dicts or a pandas DataFrame; number them from 1."""
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):  # a DataFrame
        rows = rows.to_dict("records")
    out: list[tuple[int, Row]] = []
    problems: list[Problem] = []
    for no, item in enumerate(rows, 1):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Row):
            out.append(item)
            continue
        row = item if isinstance(item, Row) else row_from_record(item, no, names)
        if isinstance(row, Problem):
            problems.append(row)
        else:
            out.append((no, row))
    return out, problems


def token_match(a: Any, b: Any) -> float:
    """BERTScore-style F1 of two texts' token vectors: each token's best cosine in the other
    text, averaged both ways."""
    sim = a @ b.T
    p, r = float(sim.max(axis=1).mean()), float(sim.max(axis=0).mean())
    return 0.0 if p + r <= 0 else 2 * p * r / (p + r)


# ---------------------------------------------------------------------------
# The index
# ---------------------------------------------------------------------------

def _entity_key(name: str) -> str:
    return " ".join(name.lower().split())


def entity_keys(name: str) -> list[str]:
    """Index keys of an entity: its full canonical name and each of its words.

    The words let "Kerry" match "John Kerry" and "Korea" match "North Korea" across articles
    (the extractor unifies such forms only within one article); IDF keeps "North" cheap.
    """
    full = _entity_key(name)
    words = [w for w in _TERM.findall(full) if w not in _NAME_STOP]
    return [full] + [f"~{w}" for w in words if f"~{w}" != full]


def _row_keys(entities: list[list[str]]) -> set[str]:
    return {key for name, *_ in entities for key in entity_keys(name)}


_NAME_STOP = {"the", "of", "and", "for", "de", "al", "mr", "mrs", "ms", "dr", "st"}
_STOP: frozenset[str] | None = None
_SUFFIXES = ("ings", "ing", "edly", "ed", "es", "s")


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def word_terms(text: str) -> list[str]:
    """Lower-cased, lightly stemmed words of ``text`` without English stop words."""
    global _STOP
    if _STOP is None:
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        _STOP = frozenset(ENGLISH_STOP_WORDS)
    return [_stem(w) for w in _TERM.findall(text.lower().replace("\u2019", "'"))
            if w not in _STOP]


class RelatedIndex:
    """A headline index that ranks related headlines.

    Parameters (scikit-learn style; learned state ends in ``_``):

    fields: ``"headline"`` or ``"headline+lead"`` (what is indexed and compared).
    entities: use entity overlap (needs spaCy; off makes building much faster).
    semantic: also store MiniLM embeddings (needs the ``[semantic]`` extra).
    minilm: use the int8 MiniLM channel (onnxruntime, no torch; see
        :mod:`newstag.encoders.minilm_onnx`).
    weights / semantic_weights: fusion weights (default: tuned on neus-related train).
    rerank: reorder each query's best candidates with the shipped re-ranker (:class:`Reranker`;
    used only with the default weights and the minilm channel on).
    pipeline: spaCy pipeline for entity extraction (default: newstag's).
    n_process: processes for entity extraction when building.
    """

    def __init__(self, fields: str = "headline", entities: bool = True, semantic: bool = False,
                 weights: dict[str, float] | None = None,
                 semantic_weights: dict[str, float] | None = None,
                 pipeline: str | None = None, n_process: int = 1, min_df: int = 1,
                 query_max_df: float = 0.1, minilm: bool = True, rerank: bool = True) -> None:
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

    # -- construction ------------------------------------------------------

    @classmethod
    def build(cls, rows: Iterable[Any], on_duplicate: str = "error", source: str = "",
              **params: Any) -> RelatedIndex:
        """Build an index from rows (``Row``, dicts with id/headline/..., or a DataFrame);
        ``source`` names the file the rows came from in messages."""
        return cls(**params).fit(rows, on_duplicate=on_duplicate, source=source)

    def _check_params(self) -> None:
        if self.fields not in FIELDS:
            raise RelatedError(f"fields must be one of {', '.join(FIELDS)}, not {self.fields!r}")

    def fit(self, rows: Iterable[Any], on_duplicate: str = "error",
            source: str = "") -> RelatedIndex:
        """Learn vocabularies and IDF from ``rows`` and index them (``source``: see build)."""
        self._check_params()
        pairs, problems = _coerce_rows(rows)
        self.rows_: list[Row] = []
        self.id_pos_: dict[str, int] = {}
        self.problems_: list[Problem] = list(problems)
        kept = self._dedupe(pairs, on_duplicate, self.problems_, source)
        if not kept:
            raise RelatedError("no valid headlines to index"
                               + (f" ({self.problems_[0]})" if self.problems_ else ""))
        t0 = time.perf_counter()
        self._fit_vectorizers([r.text(self.fields) for _, r in kept])
        self.timings_: dict[str, float] = {"vectorizers": time.perf_counter() - t0}
        import numpy as np
        import scipy.sparse as sp

        self.word_ = sp.csr_matrix((0, len(self.word_vec_.vocabulary_)), dtype=np.float32)
        self.char_ = sp.csr_matrix((0, len(self.char_vec_.vocabulary_)), dtype=np.float32)
        self.embeddings_ = np.zeros((0, 384), dtype=np.float32) if self.semantic else None
        self.semantic_model_ = semantic_model() if self.semantic else None
        encoder = minilm_onnx.load() if self.minilm else None
        self.minilm_ = np.zeros((0, encoder.dim), dtype=np.float32) if encoder else None
        self.minilm_fingerprint_ = encoder.fingerprint if encoder else None
        self.entity_vocab_: dict[str, int] = {}
        self.entity_df_: list[int] = []
        self._append([r for _, r in kept])
        self.created_ = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return self

    def _fit_vectorizers(self, texts: list[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        # unigrams of lightly stemmed non-stop words, and character 2-4-grams: the best
        # of the variants tried on the neus-related train split (bigrams hurt headlines)
        self.word_vec_ = TfidfVectorizer(analyzer=word_terms, sublinear_tf=True, dtype=_f32(),
                                         min_df=self.min_df)
        self.char_vec_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4),
                                         sublinear_tf=True, dtype=_f32(), min_df=self.min_df)
        try:
            self.word_vec_.fit(texts)
            self.char_vec_.fit(texts)
        except ValueError as exc:  # e.g. only stop words
            raise RelatedError(f"cannot index these headlines: {exc}") from exc

    def _dedupe(self, pairs: list[tuple[int, Row]], on_duplicate: str,
                problems: list[Problem], source: str = "") -> list[tuple[int, Row]]:
        if on_duplicate not in ON_DUPLICATE:
            raise RelatedError(f"on_duplicate must be one of {', '.join(ON_DUPLICATE)}")
        seen: dict[str, int] = {}
        out: dict[str, tuple[int, Row]] = {}
        dups: list[str] = []
        for line, row in pairs:
            where = seen.get(row.id)
            in_index = row.id in getattr(self, "id_pos_", {}) and \
                self.rows_[self.id_pos_[row.id]].alive
            if where is None and not in_index:
                seen[row.id] = line
                out[row.id] = (line, row)
                continue
            first = f"line {where}" if where is not None else "the index"
            if on_duplicate == "error":
                dups.append(str(Problem(line, f"duplicate id {row.id!r} (already in {first})",
                                        source)))
            elif on_duplicate == "skip":
                problems.append(Problem(line, f"duplicate id {row.id!r} skipped "
                                              f"(already in {first})", source))
            else:
                if where is not None:
                    problems.append(Problem(where, f"id {row.id!r} replaced by line {line}",
                                            source))
                    del out[row.id]
                seen[row.id] = line
                out[row.id] = (line, row)
        if dups:
            more = f" (and {len(dups) - 3} more)" if len(dups) > 3 else ""
            raise RelatedError("; ".join(dups[:3]) + more +
                               "; use --on-duplicate skip or replace")
        return list(out.values())

    def add(self, rows: Iterable[Any], on_duplicate: str = "error",
            source: str = "") -> AddReport:
        """Append rows without refitting the vocabularies (see the module docstring);
        ``source`` names the file the rows came from in messages."""
        self._check_fitted()
        pairs, problems = _coerce_rows(rows)
        report = AddReport(skipped=list(problems))
        kept = self._dedupe(pairs, on_duplicate, report.skipped, source)
        fresh = []
        for _, row in kept:
            pos = self.id_pos_.get(row.id)
            if pos is not None and self.rows_[pos].alive:  # replace: tombstone the old row
                self._kill(pos)
                report.replaced += 1
            fresh.append(row)
        self._append(fresh)
        report.added = len(fresh) - report.replaced
        return report

    def remove(self, ids: Iterable[str]) -> int:
        """Remove items by id; returns how many were removed."""
        self._check_fitted()
        n = 0
        for rid in ids:
            pos = self.id_pos_.get(rid)
            if pos is not None and self.rows_[pos].alive:
                self._kill(pos)
                n += 1
        return n

    def _kill(self, pos: int) -> None:
        row = self.rows_[pos]
        row.alive = False
        for key in _row_keys(row.entities):
            j = self.entity_vocab_.get(key)
            if j is not None:
                self.entity_df_[j] -= 1
        self._cache = {}

    def refit(self) -> RelatedIndex:
        """Re-learn vocabularies and IDF from all live rows (drops removed rows)."""
        self._check_fitted()
        live = [r for r in self.rows_ if r.alive]
        for r in live:
            r.entities = r.entities or []
        params = self.get_params()
        fresh = RelatedIndex(**params)
        fresh.known_entities = {r.id: r.entities for r in live}
        fresh.fit(live)
        self.__dict__.update(fresh.__dict__)
        return self

    def get_params(self) -> dict[str, Any]:
        return {"fields": self.fields, "entities": self.entities, "semantic": self.semantic,
                "weights": self.weights, "semantic_weights": self.semantic_weights,
                "pipeline": self.pipeline, "n_process": self.n_process, "min_df": self.min_df,
                "query_max_df": self.query_max_df, "minilm": self.minilm,
                "rerank": self.rerank}

    def _append(self, rows: list[Row]) -> None:
        import numpy as np
        import scipy.sparse as sp

        if not rows:
            return
        texts = [r.text(self.fields) for r in rows]
        t0 = time.perf_counter()
        self.word_ = sp.vstack([self.word_, self.word_vec_.transform(texts)], format="csr")
        self.char_ = sp.vstack([self.char_, self.char_vec_.transform(texts)], format="csr")
        t_tfidf = time.perf_counter() - t0
        if self.minilm_ is not None:
            # rounded as stored (float16), so a loaded index scores exactly like this one
            fresh = self._minilm_vectors(texts).astype(np.float16).astype(np.float32)
            self.minilm_ = np.vstack([self.minilm_, fresh])
        t1 = time.perf_counter()
        if self.entities:
            known = getattr(self, "known_entities", None) or {}
            todo = [r for r in rows if r.id not in known]
            for r in rows:
                if r.id in known:
                    r.entities = known[r.id]
            for r, ents in zip(todo, self._extract([r.headline for r in todo],
                                                   [r.lead for r in todo]), strict=True):
                r.entities = ents
            for r in rows:
                for key in _row_keys(r.entities):
                    j = self.entity_vocab_.setdefault(key, len(self.entity_vocab_))
                    if j == len(self.entity_df_):
                        self.entity_df_.append(0)
                    self.entity_df_[j] += 1
        t2 = time.perf_counter()
        if self.semantic:
            emb = encode(texts)
            self.embeddings_ = np.vstack([self.embeddings_, emb])
        t3 = time.perf_counter()
        for r in rows:
            self.id_pos_[r.id] = len(self.rows_)
            self.rows_.append(r)
        timings = getattr(self, "timings_", {})
        for key, dt in (("tfidf", t_tfidf), ("minilm", t1 - t0 - t_tfidf), ("entities", t2 - t1),
                        ("semantic", t3 - t2)):
            timings[key] = timings.get(key, 0.0) + dt
        self.timings_ = timings
        self._cache: dict[str, Any] = {}

    def _extract(self, headlines: list[str], leads: list[str]) -> list[list[list[str]]]:
        """Canonical entities of each headline (+ lead when indexed), as ``[name, type]``."""
        if not headlines:
            return []
        from newstag.io.article import Article

        extractor = _extractor(self.pipeline)
        use_lead = self.fields == "headline+lead"
        articles = [Article(title=h, body=(lead if use_lead else "")) for h, lead in
                    zip(headlines, leads, strict=True)]
        n_process = self.n_process if len(articles) >= 2000 else 1
        out = []
        found = [extractor.extract(articles[0])] if len(articles) == 1 else \
            extractor.extract_many(articles, batch_size=256, n_process=n_process)
        for ents in found:
            seen: dict[str, list[str]] = {}
            for e in ents:
                seen.setdefault(_entity_key(e.name), [e.name, e.type])
            out.append(list(seen.values()))
        return out

    def _semantic_name(self) -> str | None:
        """The name of the sentence embeddings the index holds (None without them)."""
        if self.embeddings_ is None:
            return None
        return getattr(self, "semantic_model_", None) or semantic_model()

    # -- persistence --------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write the index to ``directory`` (created; files replaced atomically)."""
        import numpy as np
        import scipy.sparse as sp

        self._check_fitted()
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)

        def _tmp(name: str) -> Path:
            return out / f".tmp-{name}"

        sp.save_npz(_tmp("word.npz"), self.word_, compressed=False)
        sp.save_npz(_tmp("char.npz"), self.char_, compressed=False)
        files = _save_vectorizers(out, {"word": self.word_vec_, "char": self.char_vec_}, _tmp)
        with open(_tmp("rows.jsonl"), "w", encoding="utf-8") as fh:
            for r in self.rows_:
                fh.write(json.dumps(asdict(r), ensure_ascii=False) + "\n")
        files += ["word.npz", "char.npz", "rows.jsonl"]
        for name, vectors in (("minilm.npy", self.minilm_), ("embeddings.npy", self.embeddings_)):
            if vectors is not None:
                with open(_tmp(name), "wb") as fh:
                    np.save(fh, vectors.astype(np.float16))
                files.append(name)
            elif (out / name).exists():
                (out / name).unlink()
        manifest = {"format": "newstag-related", "version": FORMAT_VERSION,
                    "created": getattr(self, "created_", None),
                    "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "params": self.get_params(), "size": self.n_live,
                    "rows": len(self.rows_),
                    "features": {"word": self.word_.shape[1], "char": self.char_.shape[1],
                                 "entity": len(self.entity_vocab_)},
                    "semantic_model": self._semantic_name(),
                    "minilm_model": getattr(self, "minilm_fingerprint_", None)
                    if self.minilm_ is not None else None,
                    "files": files}
        for name in files:
            os.replace(_tmp(name), out / name)
        tmp = _tmp("manifest.json")
        tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, out / "manifest.json")
        return out

    @classmethod
    def load(cls, directory: str | Path) -> RelatedIndex:
        """Load an index written by :meth:`save` (no unpickling)."""
        import numpy as np

        src = Path(directory)
        manifest = read_manifest(src)
        params = manifest.get("params", {})
        index = cls(**{k: v for k, v in params.items() if k in cls().get_params()})
        try:
            index.word_ = _load_npz(src / "word.npz")
            index.char_ = _load_npz(src / "char.npz")
            index.word_vec_, index.char_vec_ = (_load_vectorizer(src, name)
                                                for name in ("word", "char"))
            rows = []
            with open(src / "rows.jsonl", encoding="utf-8") as fh:
                for line in fh:
                    rows.append(Row(**json.loads(line)))
            index.embeddings_ = None
            if (src / "embeddings.npy").exists():
                index.embeddings_ = np.load(src / "embeddings.npy", allow_pickle=False
                                            ).astype(np.float32)
            index.minilm_ = None
            if (src / "minilm.npy").exists():
                index.minilm_ = np.load(src / "minilm.npy", allow_pickle=False
                                        ).astype(np.float32)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RelatedError(f"{src}: damaged index ({exc})") from exc
        if len(rows) != index.word_.shape[0] or len(rows) != index.char_.shape[0] or (
                index.embeddings_ is not None and len(rows) != index.embeddings_.shape[0]) or (
                index.minilm_ is not None and len(rows) != index.minilm_.shape[0]):
            raise RelatedError(f"{src}: damaged index (row counts disagree)")
        index.rows_ = rows
        index.id_pos_ = {}
        for i, r in enumerate(rows):
            if r.alive or r.id not in index.id_pos_:
                index.id_pos_[r.id] = i
        index.entity_vocab_, index.entity_df_ = {}, []
        for r in rows:
            for key in _row_keys(r.entities):
                j = index.entity_vocab_.setdefault(key, len(index.entity_vocab_))
                if j == len(index.entity_df_):
                    index.entity_df_.append(0)
                if r.alive:
                    index.entity_df_[j] += 1
        index.created_ = manifest.get("created")
        index.problems_, index.timings_, index._cache = [], {}, {}
        index.semantic = index.embeddings_ is not None
        index.semantic_model_ = manifest.get("semantic_model") if index.semantic else None
        if index.semantic and index.semantic_model_ != semantic_model():
            raise RelatedError(f"{src}: its sentence embeddings are {index.semantic_model_}, "
                               f"this newstag computes {semantic_model()}; rebuild the index "
                               "with `newstag index build --semantic` (NEWSTAG_MINILM_ADAPTER="
                               "off selects the plain MiniLM)")
        if index.minilm_ is not None:
            found = minilm_onnx.fingerprint()
            if found is None:  # pragma: no cover - the model ships with the package
                index.minilm_ = None  # channel off
            elif found != manifest.get("minilm_model"):
                raise RelatedError(f"{src}: built with another MiniLM model than this "
                                   "newstag's; rebuild the index with `newstag index build`")
            else:
                index.minilm_fingerprint_ = found
        index.minilm = index.minilm_ is not None
        return index

    # -- querying -------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "rows_"):
            raise RelatedError("the index is empty: build it first")

    @property
    def n_live(self) -> int:
        return sum(1 for r in self.rows_ if r.alive) if hasattr(self, "rows_") else 0

    def __len__(self) -> int:
        return self.n_live

    def __contains__(self, rid: object) -> bool:
        pos = self.id_pos_.get(rid) if hasattr(self, "id_pos_") else None  # type: ignore[arg-type]
        return pos is not None and self.rows_[pos].alive

    def _prepared(self) -> dict[str, Any]:
        """Query-time structures, built lazily after load/add."""
        if self._cache:
            return self._cache
        import numpy as np
        import scipy.sparse as sp

        n = len(self.rows_)
        alive = np.fromiter((r.alive for r in self.rows_), dtype=bool, count=n)
        cache: dict[str, Any] = {"alive": alive, "wordT": self.word_.T.tocsr(),
                                 "charT": self.char_.T.tocsr()}
        if self.entities:
            m = max(1, len(self.entity_vocab_))
            rr, cc = [], []
            for i, r in enumerate(self.rows_):
                for key in _row_keys(r.entities):
                    rr.append(i)
                    cc.append(self.entity_vocab_[key])
            ent = sp.csr_matrix((np.ones(len(rr), dtype=np.float32), (rr, cc)), shape=(n, m))
            ent.sum_duplicates()
            ent.data[:] = 1.0
            n_alive = max(1, int(alive.sum()))
            df = np.zeros(m, dtype=np.float32)
            df[: len(self.entity_df_)] = np.maximum(self.entity_df_, 0)
            idf = (np.log((1 + n_alive) / (1 + df)) + 1.0).astype(np.float32)
            w2 = idf ** 2
            norms = np.sqrt(np.asarray(ent @ w2).ravel())
            norms[norms == 0] = 1.0
            cache.update(entT=ent.T.tocsr(), ent=ent, ent_w2=w2, ent_norm=norms)
        dates = np.array([r.date or "" for r in self.rows_], dtype=object)
        cache["dates"] = dates
        cache["numbers"], cache["norms"], cache["tokens"] = {}, {}, {}
        self._cache = cache
        return cache

    def _weights(self, semantic: bool) -> dict[str, float]:
        if semantic:
            w = dict(self.semantic_weights or DEFAULT_SEMANTIC_WEIGHTS)
        else:
            w = dict(self.weights or DEFAULT_WEIGHTS)
            w.pop("semantic", None)
        if not self.entities:
            w.pop("entity", None)
        if getattr(self, "minilm_", None) is None:
            w.pop("minilm", None)
        return w

    def _use_semantic(self, semantic: bool | None) -> bool:
        if semantic and self.embeddings_ is None:
            raise RelatedError("this index has no embeddings: rebuild it with --semantic")
        return self.embeddings_ is not None if semantic is None else bool(semantic)

    def _entity_vector(self, names: list[str]) -> Any:
        import numpy as np

        cache = self._prepared()
        idx = sorted({self.entity_vocab_[k] for k in _row_keys([[n, ""] for n in names])
                      if k in self.entity_vocab_})
        q = np.zeros(cache["ent_w2"].shape[0], dtype=np.float32)
        q[idx] = 1.0
        return q

    def reranker(self, semantic: bool) -> Reranker | None:
        """The re-ranker for this index's channels in one mode, or None (fused order is kept).

        None when ``rerank`` is off, with custom weights for the mode, without the minilm channel
        or when the shipped file has no model for these channels.
        """
        custom = self.semantic_weights if semantic else self.weights
        if not getattr(self, "rerank", True) or custom is not None or \
                getattr(self, "minilm_", None) is None:
            return None
        return load_reranker().get(_rerank_key(semantic, self.entities))

    def _channel_block(self, name: str, cand: Any, m: int) -> Any:
        """Similarities of the items ``cand`` (positions) with the first ``m`` of them."""
        import numpy as np

        if name in ("word", "char", "entity"):
            if name == "entity":
                cache = self._prepared()
                rows = _dense_rows(cache["ent"], cand)
                x = rows[1] * np.sqrt(cache["ent_w2"][rows[0]])[None, :] / \
                    cache["ent_norm"][cand][:, None]
            else:
                x = _dense_rows(self.word_ if name == "word" else self.char_, cand)[1]
            return (x @ x[:m].T).astype(np.float32)
        vecs = (self.minilm_ if name == "minilm" else self.embeddings_)[cand]
        return np.clip(vecs @ vecs[:m].T, 0.0, 1.0)

    def rerank_features(self, cand: Any, score: Any, comps: dict[str, Any], q: dict[str, Any],
                        semantic: bool) -> Any:
        """Re-ranker features (candidates x :func:`rerank_feature_names`) of one query.

        ``cand``: positions of the candidates, best fused score first; ``score``: the query's
        fused scores; ``comps``: its channel scores (one row each); ``q``: the query (``_text``,
        ``_pos`` for an indexed item, ``_minilm``: its minilm vector, used when the mode's fusion
        did not score the minilm channel). Each candidate is compared with the query and with
        the best ``RERANK_DEPTH`` candidates (the reference): fused score and gap to the best,
        how many reference items are closer to the candidate than the query is (reciprocal
        rank), its mean and largest similarity to the reference, two-hop scores through the best
        candidates; per channel its score, rank among the reference, reciprocal rank and gap to
        the reference's best; shared word terms, word counts, shared and new numbers.
        """
        import numpy as np

        minilm_query = q.get("_minilm")

        cand = np.asarray(cand)
        ref = cand[:RERANK_DEPTH]
        other = (cand[:, None] != ref[None, :]).astype(np.float32)  # not the candidate itself
        weights = self._weights(semantic)
        total = sum(weights.values()) or 1.0
        f = score[cand].astype(np.float32)
        pair = np.zeros((len(cand), len(ref)), dtype=np.float32)
        cols: list[Any] = []
        per_channel: list[Any] = []
        for name in _rerank_channels(semantic, self.entities):
            if name == "minilm" and "minilm" not in weights:
                v = np.clip(self.minilm_[cand] @ minilm_query, 0.0, 1.0)
            else:
                v = np.asarray(comps[name])[cand]
            block = self._channel_block(name, cand, len(ref))
            if name in weights:
                pair += weights[name] / total * block
            v = v.astype(np.float32)
            vref = v[: len(ref)]
            above = v[:, None] + _TIE  # equal within rounding is not closer
            per_channel += [v, np.log1p((vref[None, :] > above).sum(axis=1)),
                            np.log1p(((block > above) * other).sum(axis=1)),
                            v - vref.max()]
        pair *= other
        hop = f[: len(ref)][None, :] * pair
        n_other = np.maximum(other.sum(axis=1), 1.0)
        cols = [f, np.log1p(np.arange(len(cand))), f - f[0], f / max(float(f[0]), 1e-6),
                np.log1p(((pair > f[:, None] + _TIE) * other).sum(axis=1)),
                pair.sum(axis=1) / n_other, pair.max(axis=1), hop[:, 0], hop[:, :3].max(axis=1)]
        tokens = self._token_features(cand, q) if semantic else []
        return np.stack(cols + per_channel + self._term_features(cand, q) + tokens, axis=1
                        ).astype(np.float64)

    def _token_features(self, cand: Any, q: dict[str, Any]) -> list[Any]:
        """Semantic mode: how well the query's and each candidate's MiniLM token vectors match
        (:func:`token_match`), its rank among the best ``RERANK_DEPTH`` and gap to their best.

        Token vectors are too large to store in an index (~12 kB a headline), so candidates are
        encoded when first met and kept for later queries (up to ``TOKEN_CACHE`` items).
        """
        import numpy as np

        known = self._prepared()["tokens"]
        pos = q.get("_pos")
        wanted = list(dict.fromkeys(int(c) for c in (*cand, *([] if pos is None else [pos]))))
        if len(known) + len(wanted) > TOKEN_CACHE:
            known.clear()
        todo = [c for c in wanted if c not in known]
        found = encode_tokens([self.rows_[c].text(self.fields) for c in todo])
        known.update((c, t.astype(np.float16)) for c, t in zip(todo, found, strict=True))
        if pos is not None:
            qt = known[pos].astype(np.float32)
        else:
            if "_tokens" not in q:
                q["_tokens"] = encode_tokens([q["_text"]])[0]
            qt = q["_tokens"]
        v = np.array([token_match(qt, known[int(c)].astype(np.float32)) for c in cand])
        vref = v[:RERANK_DEPTH]
        return [v, np.log1p((vref[None, :] > v[:, None] + _TIE).sum(axis=1)), v - vref.max()]

    def _term_features(self, cand: Any, q: dict[str, Any]) -> list[Any]:
        """Shared word terms, the candidate's word count and its difference with the query's,
        shared numbers, and whether the candidate has numbers the query lacks (when it has any).
        """
        import numpy as np

        if q.get("_pos") is not None:
            q_terms = set(self.word_[q["_pos"]].indices.tolist())
            q_text = self.rows_[q["_pos"]].text(self.fields)
        else:
            vocab = self.word_vec_.vocabulary_
            q_terms = {vocab[t] for t in word_terms(q["_text"]) if t in vocab}
            q_text = q["_text"]
        indptr, indices = self.word_.indptr, self.word_.indices
        shared = [len(q_terms.intersection(indices[indptr[c]:indptr[c + 1]].tolist()))
                  for c in cand]
        n_c = np.diff(indptr)[cand].astype(np.float64)
        q_nums = set(_NUMBER.findall(q_text))
        known = self._prepared()["numbers"]  # numbers of each item, filled as queries go
        c_nums = []
        for c in cand:
            nums = known.get(c)
            if nums is None:
                nums = known[c] = frozenset(_NUMBER.findall(self.rows_[c].text(self.fields)))
            c_nums.append(nums)
        return [np.array(shared, dtype=np.float64), n_c, n_c - len(q_terms),
                np.array([len(q_nums & n) for n in c_nums], dtype=np.float64),
                np.array([bool(q_nums) and bool(n - q_nums) for n in c_nums], dtype=np.float64)]

    def components(self, texts: list[str] | None = None, ids: list[str] | None = None,
                   entities: list[list[str]] | None = None, semantic: bool | None = None,
                   minilm_all: bool = True) -> dict[str, Any]:
        """Per-signal similarity matrices (queries x rows), each in [0, 1].

        ``minilm_all=False`` leaves out the minilm channel; its query vectors are then
        returned under ``"_minilm_query"`` (queries rank with it through :func:`fuse`).

        Give ``texts`` (new queries; entities are extracted unless given) or ``ids``
        (indexed items; their stored vectors are used).
        """
        import numpy as np

        self._check_fitted()
        cache = self._prepared()
        use_sem = self._use_semantic(semantic)
        out: dict[str, Any] = {}
        if ids is not None:
            pos = [self._pos(i) for i in ids]
            qw, qc = self.word_[pos], self.char_[pos]
            ents = [[n for n, _ in self.rows_[p].entities] for p in pos]
            qe = self.embeddings_[pos] if use_sem else None
            qs = self.minilm_[pos] if self.minilm_ is not None else None
        else:
            texts = [" ".join(t.split()) for t in (texts or [])]
            qw, qc = self._transform("word", texts), self._transform("char", texts)
            if self.entities and entities is None:
                heads = [t.split("\n", 1)[0] for t in texts]
                leads = [t.split("\n", 1)[1] if "\n" in t else "" for t in texts]
                entities = [[n for n, _ in e] for e in self._extract(heads, leads)]
            ents = entities or [[] for _ in texts]
            qe = encode(texts) if use_sem else None
            qs = self._minilm_vectors(texts) if self.minilm_ is not None else None
        out["word"] = self._lexical(qw, cache["wordT"])
        out["char"] = self._lexical(qc, cache["charT"])
        if self.entities:
            w2 = cache["ent_w2"]
            qv = np.vstack([self._entity_vector(e) for e in ents]) if ents else \
                np.zeros((0, w2.shape[0]), dtype=np.float32)
            qn = np.sqrt(qv @ w2)
            qn[qn == 0] = 1.0
            import scipy.sparse as sp

            num = np.asarray((sp.csr_matrix(qv * w2) @ cache["entT"]).todense())
            out["entity"] = num / qn[:, None] / cache["ent_norm"][None, :]
        if qs is not None and minilm_all:
            out["minilm"] = np.clip(qs @ self.minilm_.T, 0.0, 1.0)
        elif qs is not None:
            out["_minilm_query"] = qs
        if use_sem:
            out["semantic"] = np.clip(qe @ self.embeddings_.T, 0.0, 1.0)
        return out

    def _minilm_vectors(self, texts: list[str]) -> Any:
        encoder = minilm_onnx.load()
        if encoder is None:  # pragma: no cover - the model ships with the package
            raise RelatedError("the MiniLM model (newstag/data/minilm-int8.onnx) is missing: "
                               "reinstall newstag or rebuild the index with minilm off")
        return encoder.embed(texts)

    def _lexical(self, q: Any, postings: Any) -> Any:
        """Cosines of TF-IDF query rows with every item (``postings`` = items transposed).

        Query terms found in more than ``query_max_df`` of the items are left out: they carry
        little weight and make up most of the work at 100k headlines (the items' norms are
        unchanged, so scores are slightly lower, never reordered by much).
        """
        import numpy as np

        limit = self.query_max_df * postings.shape[1]
        if self.query_max_df < 1.0 and postings.shape[1] >= 1000:
            df = np.diff(postings.indptr)
            q = q.tocsr(copy=True)
            q.data[df[q.indices] > limit] = 0.0
            q.eliminate_zeros()
        if q.shape[0] == 1:  # one query: add up the postings of its terms
            rows = postings[q.indices]
            return np.asarray(rows.T @ q.data, dtype=np.float32)[None, :]
        return np.asarray((q @ postings).todense())

    def _transform(self, name: str, texts: list[str]) -> Any:
        """TF-IDF rows like ``TfidfVectorizer.transform`` without its per-call overhead."""
        import numpy as np
        import scipy.sparse as sp

        vec = self.word_vec_ if name == "word" else self.char_vec_
        key = f"analyzer_{name}"
        if key not in self._cache:
            self._cache[key] = vec.build_analyzer()
        analyze, vocab, idf = self._cache[key], vec.vocabulary_, vec.idf_
        indptr, indices, data = [0], [], []
        for text in texts:
            counts: dict[int, int] = {}
            for term in analyze(text):
                j = vocab.get(term)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            cols = np.fromiter(counts, dtype=np.int32, count=len(counts))
            vals = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
            if vec.sublinear_tf:
                vals = 1.0 + np.log(vals)
            vals = vals * idf[cols]
            norm = float(np.sqrt((vals ** 2).sum()))
            indices.append(cols)
            data.append(vals / norm if norm else vals)
            indptr.append(indptr[-1] + len(cols))
        return sp.csr_matrix((np.concatenate(data) if data else [],
                              np.concatenate(indices) if indices else [], indptr),
                             shape=(len(texts), len(vocab)), dtype=np.float32)

    def _pos(self, rid: str) -> int:
        pos = self.id_pos_.get(str(rid))
        if pos is None or not self.rows_[pos].alive:
            raise RelatedError(f"id {rid!r} is not in the index")
        return pos

    def query(self, text: str | None = None, id: str | None = None, article: Any = None,
              k: int = 10, since: str | None = None, exclude_self: bool = True,
              semantic: bool | None = None, explain: bool = True,
              min_score: float | None = None) -> list[dict[str, Any]]:
        """Top-``k`` related headlines for one query (``text``, ``id`` or an ``Article``).

        ``id`` queries use the stored vectors and never return the item itself.
        ``exclude_self`` also drops items whose id or headline equals the query's.
        ``min_score`` drops results scoring below it (default :data:`DEFAULT_MIN_SCORE`).
        Returns dicts with id, headline, date, url, score, scores (per signal) and why.
        """
        return next(iter(self.query_many([{"text": text, "id": id, "article": article}],
                                         k=k, since=since, exclude_self=exclude_self,
                                         semantic=semantic, explain=explain,
                                         min_score=min_score)))

    def query_many(self, queries: Iterable[dict[str, Any]], k: int = 10,
                   since: str | None = None, exclude_self: bool = True,
                   semantic: bool | None = None, explain: bool = True, batch_size: int = 256,
                   min_score: float | None = None) -> Iterator[list[dict[str, Any]]]:
        """Answer many queries (dicts with ``id``, ``text`` or ``article``), in order.

        ``min_score`` drops results scoring below it (default :data:`DEFAULT_MIN_SCORE`).
        """
        self._check_fitted()
        if k < 1:
            raise RelatedError("k must be at least 1")
        floor = _check_min_score(min_score)
        since = _check_since(since)
        use_sem = self._use_semantic(semantic)
        weights = self._weights(use_sem)
        cache = self._prepared()
        batch: list[dict[str, Any]] = []

        def _flush() -> Iterator[list[dict[str, Any]]]:
            by_id = [q for q in batch if q.get("_pos") is not None]
            by_text = [q for q in batch if q.get("_pos") is None]
            if by_text and self.entities:
                texts = [q["_text"] for q in by_text]
                found = self._extract([t.split("\n", 1)[0] for t in texts],
                                      [t.split("\n", 1)[1] if "\n" in t else "" for t in texts])
                for q, ents in zip(by_text, found, strict=True):
                    q["_ents"] = ents
            text_kw = {"texts": [q["_text"] for q in by_text],
                       "entities": [[n for n, _ in q.get("_ents", [])] for q in by_text]}
            for group, kw in ((by_id, {"ids": [self.rows_[q["_pos"]].id for q in by_id]}),
                              (by_text, text_kw)):
                if not group:
                    continue
                with _one_blas_thread():
                    comps = self.components(semantic=use_sem, minilm_all=False, **kw)
                    minilm_q = comps.get("_minilm_query")
                    fused = fuse(comps, weights, self.minilm_)
                    for qi, q in enumerate(group):
                        q["_minilm"] = minilm_q[qi] if minilm_q is not None else None
                        found = self._rank(fused[qi], {n: c[qi] for n, c in comps.items()},
                                           q, k, since, exclude_self, explain, cache, use_sem)
                        q["_result"] = [r for r in found if r["score"] >= floor]
            for q in batch:
                yield q.pop("_result")

        for q in queries:
            q = dict(q)
            if q.get("id") not in (None, ""):
                q["_pos"] = self._pos(str(q["id"]))
                q["_text"] = self.rows_[q["_pos"]].headline
            else:
                art = q.get("article")
                text = q.get("text")
                if art is not None:
                    text = art.title if self.fields == "headline" or not art.body else \
                        f"{art.title}\n{_lead_from_body(art.body)}"
                    q.setdefault("self_id", art.id)
                if not text or not str(text).strip():
                    raise RelatedError("empty query: give text, an id or an article")
                q["_text"] = str(text).strip()
            batch.append(q)
            if len(batch) >= batch_size:
                yield from _flush()
                batch = []
        if batch:
            yield from _flush()

    def _masked(self, fused: Any, comps: dict[str, Any], q: dict[str, Any], depth: int,
                since: str | None, exclude_self: bool, cache: dict[str, Any]) -> tuple[Any, Any]:
        """Fused scores with what a query must not return set to ``-inf``, and a shortlist.

        Out: items that share no word, character n-gram or entity with the query and whose
        MiniLM similarity is below ``DENSE_MATCH`` (nothing in common). ``depth``: how many of
        the best items are checked for a headline equal to the query's. The shortlist (None
        when there is none) holds the best ``depth`` finite items.
        """
        import numpy as np

        shared = sum(comps[n] for n in ("word", "char", "entity") if n in comps) > 0
        for name in ("minilm", "semantic"):
            if name in comps:
                shared = shared | (comps[name] >= DENSE_MATCH)
        score = np.where(cache["alive"] & shared & (fused > 0), fused, -np.inf)
        if since:
            score = np.where(cache["dates"] >= since, score, -np.inf)
        if q.get("_pos") is not None:
            score[q["_pos"]] = -np.inf
        elif exclude_self:
            self_id = q.get("self_id")
            if self_id is not None and self_id in self.id_pos_:
                score[self.id_pos_[self_id]] = -np.inf
            top = np.argpartition(-score, min(len(score) - 1, depth + 5))[: depth + 6]
            score[top[self._same_headline(top, q, cache)]] = -np.inf
            top = top[np.isfinite(score[top])]
            if len(top) >= depth or len(top) >= int(np.isfinite(score).sum()):
                return score, top
        return score, None

    def _same_headline(self, pos: Any, q: dict[str, Any], cache: dict[str, Any]) -> Any:
        """Mask of the items ``pos`` whose normalised headline equals the query's first line."""
        import numpy as np

        if "_norm" not in q:
            q["_norm"] = _norm_headline(q["_text"].split("\n", 1)[0])
        known = cache["norms"]  # normalised headlines, filled as queries go
        for i in pos:
            if i not in known:
                known[i] = _norm_headline(self.rows_[i].headline)
        return np.array([known[i] == q["_norm"] for i in pos], dtype=bool)

    def _ranked(self, fused: Any, comps: dict[str, Any], q: dict[str, Any], k: int,
                since: str | None, exclude_self: bool, cache: dict[str, Any],
                use_sem: bool) -> tuple[Any, Any, Any]:
        """The best ``k`` positions, their scores and their fused scores.

        With a re-ranker (:meth:`reranker`) the best ``max(RERANK_DEPTH, k)`` items by fused
        score are reordered by its probability that they report the query's story, which is then
        their score; otherwise the score is the fused score.
        """
        import numpy as np

        model = self.reranker(use_sem)
        depth = max(RERANK_DEPTH, k) if model is not None else k
        score, short = self._masked(fused, comps, q, depth, since, exclude_self, cache)
        finite = int(np.isfinite(score).sum())
        kk = min(k, finite)
        if kk <= 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, np.zeros(0), np.zeros(0)
        if model is None:
            top = best_positions(score, kk, short)
            return top, score[top], score[top]
        cand = best_positions(score, min(depth, finite), short)
        feats = self.rerank_features(cand, score, comps, q, use_sem)
        prob = model.predict(feats)
        # an identical headline (kept with exclude_self=False, or a copy of an indexed item)
        # reports the same story: the model, fitted without such pairs, must not demote it
        prob[self._same_headline(cand, q, cache)] = 1.0
        order = np.lexsort((np.arange(len(cand)), -prob))[:kk]
        return cand[order], prob[order], score[cand[order]]

    def _rank(self, fused: Any, comps: dict[str, Any], q: dict[str, Any], k: int,
              since: str | None, exclude_self: bool, explain: bool, cache: dict[str, Any],
              use_sem: bool = False) -> list[dict[str, Any]]:
        top, top_score, top_fused = self._ranked(fused, comps, q, k, since, exclude_self, cache,
                                                 use_sem)
        if not len(top):
            return []
        results = []
        q_terms = q_ents = None
        if explain:
            q_terms = self._terms(q["_text"])
            if q.get("_pos") is not None:
                q_ents = _row_keys(self.rows_[q["_pos"]].entities)
            else:
                q_ents = _row_keys(q.get("_ents", []))
        for i, sc, fu in zip(top, top_score, top_fused, strict=True):
            r = self.rows_[int(i)]
            item: dict[str, Any] = {"id": r.id, "headline": r.headline, "date": r.date,
                                    "url": r.url, "score": round(float(sc), 4),
                                    "fused": round(float(fu), 4),
                                    "scores": {n: round(float(c[i]), 4) for n, c in comps.items()}}
            if explain:
                item["shared_terms"] = self._shared_terms(q_terms, r)
                if self.entities and q_ents is not None:
                    item["shared_entities"] = [n for n, _ in r.entities
                                               if q_ents & set(entity_keys(n))]
                else:
                    item["shared_entities"] = []
            results.append(item)
        return results

    def _terms(self, text: str) -> dict[str, tuple[str, float]]:
        """Query terms: stem -> (first surface form, IDF), for terms in the vocabulary."""
        vocab, idf = self.word_vec_.vocabulary_, self.word_vec_.idf_
        word_terms("")  # loads the stop list
        out: dict[str, tuple[str, float]] = {}
        for word in _TERM.findall(text.lower()):
            stem = _stem(word)
            if stem in vocab and word not in (_STOP or ()) and stem not in out:
                out[stem] = (word, float(idf[vocab[stem]]))
        return out

    def _shared_terms(self, q_terms: dict[str, tuple[str, float]] | None, row: Row,
                      n: int = 5) -> list[str]:
        if not q_terms:
            return []
        mine = set(word_terms(row.text(self.fields)))
        shared = [t for t in q_terms if t in mine]
        return [q_terms[t][0] for t in sorted(shared, key=lambda t: -q_terms[t][1])[:n]]

    # -- reporting -------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Size and settings, for ``newstag index info``."""
        self._check_fitted()
        dates = sorted(r.date for r in self.rows_ if r.alive and r.date)
        return {"size": self.n_live, "rows_stored": len(self.rows_),
                "removed": len(self.rows_) - self.n_live, "fields": self.fields,
                "entities": self.entities, "semantic": self.embeddings_ is not None,
                "semantic_model": self._semantic_name(),
                "word_features": int(self.word_.shape[1]),
                "char_features": int(self.char_.shape[1]),
                "entity_features": len(self.entity_vocab_),
                "minilm": self.minilm_ is not None,
                "rerank": self.reranker(False) is not None,
                "weights": self._weights(False),
                "semantic_weights": self._weights(True) if self.embeddings_ is not None else None,
                "date_min": dates[0] if dates else None, "date_max": dates[-1] if dates else None,
                "created": getattr(self, "created_", None)}

    def to_frame(self) -> Any:
        """The live items as a pandas DataFrame (for notebooks)."""
        import pandas as pd

        self._check_fitted()
        return pd.DataFrame([{**asdict(r), "entities": [n for n, _ in r.entities]}
                             for r in self.rows_ if r.alive]).drop(columns=["alive"])


def _f32() -> Any:
    import numpy as np

    return np.float32


def _dense_rows(x: Any, pos: Any) -> tuple[Any, Any]:
    """Rows ``pos`` of a CSR matrix as a dense array over the columns they use, and those columns.

    Much faster than scipy's row indexing and product for a few dozen rows.
    """
    import numpy as np

    starts, ends = x.indptr[pos], x.indptr[np.asarray(pos) + 1]
    lens = ends - starts
    row = np.repeat(np.arange(len(lens)), lens)
    offs = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens) + \
        np.repeat(starts, lens)
    cols, inv = np.unique(x.indices[offs], return_inverse=True)
    dense = np.zeros((len(lens), len(cols)), dtype=np.float32)
    np.add.at(dense, (row, inv), x.data[offs])
    return cols, dense


def best_positions(score: Any, m: int, among: Any = None) -> Any:
    """Positions of the ``m`` highest scores, best first (ties by position).

    ``among``: positions known to hold them (a shortlist), to skip a pass over all items.
    """
    import numpy as np

    if among is not None:
        cand = np.asarray(among)
    else:
        cand = np.argpartition(-score, m - 1)[:m] if m < len(score) else np.arange(len(score))
    return cand[np.lexsort((cand, -score[cand]))][:m]


def _rerank_channels(semantic: bool, entities: bool) -> list[str]:
    return ["word", "char"] + (["entity"] if entities else []) + ["minilm"] + \
        (["semantic"] if semantic else [])


def _rerank_key(semantic: bool, entities: bool) -> str:
    return ("semantic" if semantic else "default") + ("" if entities else "-no-entities")


def rerank_feature_names(semantic: bool, entities: bool) -> list[str]:
    """Names of the columns of :meth:`RelatedIndex.rerank_features`."""
    names = ["fused", "rank", "gap", "ratio", "recip", "pair_mean", "pair_max", "hop1",
             "hop_max3"]
    for ch in _rerank_channels(semantic, entities):
        names += [ch, f"{ch}_rank", f"{ch}_recip", f"{ch}_gap"]
    names += ["shared_terms", "terms", "terms_diff", "shared_numbers", "new_numbers"]
    return names + (["tokens", "tokens_rank", "tokens_gap"] if semantic else [])


@dataclass
class Reranker:
    """Logistic regression over :meth:`RelatedIndex.rerank_features` (standardised columns)."""

    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float

    def predict(self, x: Any) -> Any:
        """Probability that each candidate reports the query's story."""
        import numpy as np

        z = ((x - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.coef)
        return 1.0 / (1.0 + np.exp(-(z + self.intercept)))


_RERANKERS: dict[str, dict[str, Reranker]] = {}


def load_reranker(path: str | Path | None = None) -> dict[str, Reranker]:
    """The shipped re-rankers by mode and channels (empty when the file is missing)."""
    src = Path(path) if path else RERANKER
    key = str(src)
    if key not in _RERANKERS:
        models: dict[str, Reranker] = {}
        if src.exists():
            spec = json.loads(src.read_text(encoding="utf-8"))
            for name, m in spec.get("models", {}).items():
                sem, ents = name.startswith("semantic"), not name.endswith("-no-entities")
                if m["features"] == rerank_feature_names(sem, ents):
                    models[name] = Reranker(**{f: m[f] for f in
                                               ("features", "mean", "scale", "coef",
                                                "intercept")})
        _RERANKERS[key] = models
    return _RERANKERS[key]


def minilm_candidates(n: int) -> int:
    """How many of the best lexically scored items the minilm channel rescores for a query.

    On neus-related train (7,356 items) rescoring only the top 0.5% gave the same R@2 as scoring
    all of them: the dense channel reorders candidates, it rarely finds new ones.
    """
    return min(n, max(2000, n // 100))


def fuse(comps: dict[str, Any], weights: dict[str, float], minilm_vectors: Any = None) -> Any:
    """Weighted mean of the channels (queries x items).

    The minilm channel, when ``comps`` holds its query vectors (``"_minilm_query"``) instead of
    its scores, is only computed for each query's :func:`minilm_candidates` best items by the
    other channels (a dense product over every item was the slowest part of a query at 100k);
    its scores are written into ``comps["minilm"]`` (zero elsewhere).
    """
    import numpy as np

    total = sum(weights.values()) or 1.0
    fused = sum(w * comps[name] for name, w in weights.items() if name in comps) / total
    qs = comps.pop("_minilm_query", None)
    if "minilm" in weights and "minilm" not in comps and qs is not None:
        fused = np.array(fused, dtype=np.float32)
        n = fused.shape[1]
        m = minilm_candidates(n)
        scores = np.zeros_like(fused)
        for qi in range(fused.shape[0]):
            cand = np.argpartition(-fused[qi], m - 1)[:m] if m < n else np.arange(n)
            sim = np.clip(minilm_vectors[cand] @ qs[qi], 0.0, 1.0)
            scores[qi, cand] = sim
            fused[qi, cand] += weights["minilm"] / total * sim
        comps["minilm"] = scores
    return fused


@lru_cache(maxsize=1)
def _blas_libraries() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()  # the libraries loaded by the first query


def _one_blas_thread() -> Any:
    """A context in which BLAS runs on one thread (queries: its products are small, and idle
    BLAS threads spin on the other core: at 100k one thread halved a query's CPU time and was
    no slower)."""
    return _blas_libraries().limit(limits=1, user_api="blas")


def _norm_headline(text: str) -> str:
    return " ".join(_TERM.findall(text.lower()))


def _check_min_score(min_score: float | None) -> float:
    """The score floor of a query: ``min_score`` in [0, 1], or the default when None."""
    if min_score is None:
        return DEFAULT_MIN_SCORE
    if not 0.0 <= float(min_score) <= 1.0:
        raise RelatedError(f"min_score must be between 0 and 1, not {min_score}")
    return float(min_score)


def _check_since(since: str | None) -> str | None:
    if since is None or since == "":
        return None
    since = str(since).strip()
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", since):
        raise RelatedError(f"bad --since date {since!r} (expected YYYY-MM-DD)")
    return since


_EXTRACTORS: dict[str | None, Any] = {}


def _extractor(pipeline: str | None) -> Any:
    from newstag.nlp.entities import EntityExtractor

    if pipeline not in _EXTRACTORS:
        _EXTRACTORS[pipeline] = EntityExtractor(pipeline=pipeline)
    return _EXTRACTORS[pipeline]


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The manifest of an index directory, or a :class:`RelatedError` saying what is wrong."""
    src = Path(directory)
    path = src / "manifest.json"
    if not src.is_dir():
        raise RelatedError(f"{src}: no such index directory")
    if not path.exists():
        raise RelatedError(f"{src}: not a newstag index (no manifest.json)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RelatedError(f"{path}: unreadable manifest ({exc})") from exc
    if manifest.get("format") != "newstag-related":
        raise RelatedError(f"{src}: not a newstag related-headlines index")
    if manifest.get("version", 0) > FORMAT_VERSION:
        raise RelatedError(f"{src}: index format {manifest.get('version')} is newer than this "
                           f"newstag supports ({FORMAT_VERSION})")
    if manifest.get("version") == PICKLE_VERSION:
        raise RelatedError(f"{src}: an index with pickled vectorisers (format 3), which newstag "
                           "no longer loads because unpickling can run code; if you trust its "
                           f"source, convert it once with `newstag index convert {src} NEW`")
    if manifest.get("version", 0) < FORMAT_VERSION:
        raise RelatedError(f"{src}: index format {manifest.get('version', 0)} was written by an "
                           f"older newstag; rebuild the index with `newstag index build` "
                           f"(this newstag reads format {FORMAT_VERSION})")
    return manifest


def disk_size(directory: str | Path) -> int:
    """Bytes used by the files of an index directory."""
    return sum(p.stat().st_size for p in Path(directory).iterdir() if p.is_file())


def parse_queries(path: str | Path, fmt: str | None = None) -> tuple[list[tuple[int, dict]],
                                                                     list[Problem]]:
    """Read ``--queries`` rows: each holds ``id`` (an indexed item) or ``text``."""
    out: list[tuple[int, dict]] = []
    problems: list[Problem] = []
    source = "<stdin>" if str(path) == "-" else str(path)
    for line, rec in iter_records(path, fmt):
        if isinstance(rec, Problem):
            rec.source = source
            problems.append(rec)
            continue
        if not isinstance(rec, dict):
            problems.append(Problem(line, "expected an object with id or text", source))
            continue
        rid = _as_str(rec.get("id"))
        text = _as_str(rec.get("text") or rec.get("headline") or rec.get("title"))
        if not rid and not text:
            problems.append(Problem(line, "a query needs id or text", source))
            continue
        out.append((line, {"id": rid or None, "text": None if rid else text}))
    return out, problems


def to_text_io(data: str) -> io.StringIO:
    """A text stream over ``data`` (handy for tests and notebooks)."""
    return io.StringIO(data)


# -- persistence of the vectorisers (data only) ---------------------------------------------

class StoredVectorizer:
    """A fitted TF-IDF vectoriser kept as data (:class:`~newstag.tagging.tfidf.TfidfTable`),
    with the attributes of scikit-learn's ``TfidfVectorizer`` this module uses."""

    def __init__(self, table: Any) -> None:
        self.table = table

    @property
    def vocabulary_(self) -> dict[str, int]:
        return self.table.vocabulary

    @property
    def idf_(self) -> Any:
        return self.table.idf

    @property
    def sublinear_tf(self) -> bool:
        return bool(self.table.settings.get("sublinear_tf"))

    def build_analyzer(self) -> Any:
        return self.table.analyzer()

    def transform(self, texts: list[str]) -> Any:
        """TF-IDF rows as SciPy CSR, as ``TfidfVectorizer.transform``."""
        return self.table.transform(texts).to_scipy()


def _vectorizer_table(vec: Any, name: str) -> Any:
    from newstag.tagging.tfidf import TfidfTable

    if isinstance(vec, StoredVectorizer):
        return vec.table
    return TfidfTable.from_sklearn(vec, analyzer="related_words" if name == "word" else None)


def _save_vectorizers(out: Path, vecs: dict[str, Any], tmp: Any) -> list[str]:
    """Write each vectoriser as ``vocab-NAME.*`` (settings JSON, terms, IDF array) through
    temporary names; returns the final names (moved into place by the caller)."""
    names = []
    staging = out / ".tmp-vocab"
    staging.mkdir(exist_ok=True)
    for name, vec in vecs.items():
        for path in _vectorizer_table(vec, name).save(staging, f"vocab-{name}"):
            os.replace(path, tmp(path.name))
            names.append(path.name)
    staging.rmdir()
    return names


def _load_vectorizer(src: Path, name: str) -> StoredVectorizer:
    from newstag.tagging.tfidf import TfidfTable

    return StoredVectorizer(TfidfTable.load(src, f"vocab-{name}"))


def _load_npz(path: Path) -> Any:
    """A SciPy sparse matrix saved by ``save_npz``, read without unpickling."""
    import scipy.sparse as sp

    return sp.load_npz(path).tocsr()  # load_npz reads with allow_pickle=False


def convert_index(old: str | Path, new: str | Path) -> Path:
    """Rewrite a format-3 index (pickled vectorisers) as a data-only index in ``new``.

    Unpickling ``vectorizers.joblib`` runs code: call this only for an index you trust.
    The other files are copied unchanged.
    """
    import shutil

    import joblib

    src, out = Path(old), Path(new)
    path = src / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RelatedError(f"{src}: not a newstag index ({exc})") from exc
    if manifest.get("format") != "newstag-related" or manifest.get("version") != PICKLE_VERSION:
        raise RelatedError(f"{src}: not an index with pickled vectorisers (format "
                           f"{PICKLE_VERSION}); nothing to convert")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RelatedError(f"{out}: already exists and is not an empty folder; choose a new one")
    try:
        vecs = joblib.load(src / "vectorizers.joblib")  # the explicit, trusted conversion
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad index
        raise RelatedError(f"{src}: cannot read vectorizers.joblib ({exc})") from exc
    out.mkdir(parents=True, exist_ok=True)
    files = _save_vectorizers(out, {"word": vecs["word"], "char": vecs["char"]},
                              lambda name: out / name)
    for name in manifest.get("files", []):
        if name != "vectorizers.joblib":
            shutil.copy2(src / name, out / name)
            files.append(name)
    manifest.update(version=FORMAT_VERSION, files=files,
                    converted={"from_version": PICKLE_VERSION,
                               "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return out
