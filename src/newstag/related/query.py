"""Query planning: what a query may return, its best candidates, re-ranking and explanations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from newstag.related import reranker as _reranker
from newstag.related.errors import RelatedError
from newstag.related.fusion import best_positions, fuse
from newstag.related.rows import Row, lead_from_body
from newstag.related.text import TERM, entity_keys, norm_headline, row_keys, stem, stop_words
from newstag.related.text import word_terms as _word_terms

if TYPE_CHECKING:
    from newstag.related.index import RelatedIndex

# A MiniLM cosine from which two headlines have something in common even without a shared
# word (on neus-related val, half the siblings reach 0.6; gibberish queries stay below 0.4)
DENSE_MATCH = 0.5
DEFAULT_MIN_SCORE = 0.01
"""Results scoring below this are dropped unless a query gives its own ``min_score``: chosen on
neus-related train by ``benchmarks/related_min_score.py`` (see BENCHMARKS.md)."""


def check_min_score(min_score: float | None) -> float:
    """The score floor of a query: ``min_score`` in [0, 1], or the default when None."""
    if min_score is None:
        return DEFAULT_MIN_SCORE
    if not 0.0 <= float(min_score) <= 1.0:
        raise RelatedError(f"min_score must be between 0 and 1, not {min_score}")
    return float(min_score)


def check_since(since: str | None) -> str | None:
    """A ``--since`` date (YYYY[-MM[-DD]]) or None."""
    if since is None or since == "":
        return None
    since = str(since).strip()
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", since):
        raise RelatedError(f"bad --since date {since!r} (expected YYYY-MM-DD)")
    return since


@lru_cache(maxsize=1)
def _blas_libraries() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()  # the libraries loaded by the first query


def one_blas_thread() -> Any:
    """A context in which BLAS runs on one thread (queries: its products are small, and idle
    BLAS threads spin on the other core: at 100k one thread halved a query's CPU time and was
    no slower)."""
    return _blas_libraries().limit(limits=1, user_api="blas")


def masked(
    index: RelatedIndex,
    fused: Any,
    comps: dict[str, Any],
    q: dict[str, Any],
    depth: int,
    since: str | None,
    exclude_self: bool,
) -> tuple[Any, Any]:
    """Fused scores with what a query must not return set to ``-inf``, and a shortlist.

    Out: removed items, items older than ``since``, the query itself, and items that share
    nothing with the query: no lexical channel above 0 and no dense channel (MiniLM) reaching
    ``DENSE_MATCH``. ``depth``: how many of the best items are checked for a headline equal to
    the query's. The shortlist (None when there is none) holds the best ``depth`` finite items.
    """
    import numpy as np

    cache = index.prepared()
    channels = [ch for ch in index.channels_ if ch.name in comps]
    shared = sum(comps[ch.name] for ch in channels if not ch.dense) > 0
    for ch in channels:
        if ch.dense:
            shared = shared | (comps[ch.name] >= DENSE_MATCH)
    score = np.where(cache["alive"] & shared & (fused > 0), fused, -np.inf)
    if since:
        score = np.where(cache["dates"] >= since, score, -np.inf)
    if q.get("_pos") is not None:
        score[q["_pos"]] = -np.inf
    elif exclude_self:
        self_id = q.get("self_id")
        if self_id is not None and self_id in index.store.id_pos:
            score[index.store.id_pos[self_id]] = -np.inf
        top = np.argpartition(-score, min(len(score) - 1, depth + 5))[: depth + 6]
        score[top[same_headline(index, top, q)]] = -np.inf
        top = top[np.isfinite(score[top])]
        if len(top) >= depth or len(top) >= int(np.isfinite(score).sum()):
            return score, top
    return score, None


def same_headline(index: RelatedIndex, pos: Any, q: dict[str, Any]) -> Any:
    """Mask of the items ``pos`` whose normalised headline equals the query's first line."""
    import numpy as np

    if "_norm" not in q:
        q["_norm"] = norm_headline(q["_text"].split("\n", 1)[0])
    known = index.prepared()["norms"]  # normalised headlines, filled as queries go
    rows = index.store.rows
    for i in pos:
        if i not in known:
            known[i] = norm_headline(rows[i].headline)
    return np.array([known[i] == q["_norm"] for i in pos], dtype=bool)


def ranked(
    index: RelatedIndex,
    fused: Any,
    comps: dict[str, Any],
    q: dict[str, Any],
    k: int,
    since: str | None,
    exclude_self: bool,
    use_sem: bool,
) -> tuple[Any, Any, Any]:
    """The best ``k`` positions, their scores and their fused scores.

    With a re-ranker (:meth:`RelatedIndex.reranker`) the best ``max(RERANK_DEPTH, k)`` items
    by fused score are reordered by its probability that they report the query's story, which
    is then their score; otherwise the score is the fused score.
    """
    import numpy as np

    model = index.reranker(use_sem)
    depth = max(_reranker.RERANK_DEPTH, k) if model is not None else k
    score, short = masked(index, fused, comps, q, depth, since, exclude_self)
    finite = int(np.isfinite(score).sum())
    kk = min(k, finite)
    if kk <= 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros(0), np.zeros(0)
    if model is None:
        top = best_positions(score, kk, short)
        return top, score[top], score[top]
    cand = best_positions(score, min(depth, finite), short)
    feats = _reranker.rerank_features(index, cand, score, comps, q, use_sem)
    prob = model.predict(feats)
    # an identical headline (kept with exclude_self=False, or a copy of an indexed item)
    # reports the same story: the model, fitted without such pairs, must not demote it
    prob[same_headline(index, cand, q)] = 1.0
    order = np.lexsort((np.arange(len(cand)), -prob))[:kk]
    return cand[order], prob[order], score[cand[order]]


def results(
    index: RelatedIndex,
    fused: Any,
    comps: dict[str, Any],
    q: dict[str, Any],
    k: int,
    since: str | None,
    exclude_self: bool,
    explain: bool,
    use_sem: bool = False,
) -> list[dict[str, Any]]:
    """The result dicts of one query (id, headline, date, url, score, fused, scores, why)."""
    top, top_score, top_fused = ranked(index, fused, comps, q, k, since, exclude_self, use_sem)
    if not len(top):
        return []
    q_terms = q_ents = None
    if explain:
        q_terms = query_terms(index, q["_text"])
        q_ents = row_keys(
            index.store.rows[q["_pos"]].entities
            if q.get("_pos") is not None
            else q.get("_ents", [])
        )
    out = []
    for i, sc, fu in zip(top, top_score, top_fused, strict=True):
        r = index.store.rows[int(i)]
        item: dict[str, Any] = {
            "id": r.id,
            "headline": r.headline,
            "date": r.date,
            "url": r.url,
            "score": round(float(sc), 4),
            "fused": round(float(fu), 4),
            "scores": {n: round(float(c[i]), 4) for n, c in comps.items()},
        }
        if explain:
            item["shared_terms"] = shared_terms(index, q_terms, r)
            item["shared_entities"] = (
                [n for n, _ in r.entities if q_ents & set(entity_keys(n))]
                if index.entities and q_ents is not None
                else []
            )
        out.append(item)
    return out


def query_terms(index: RelatedIndex, text: str) -> dict[str, tuple[str, float]]:
    """Query terms: stem -> (first surface form, IDF), for terms in the word vocabulary."""
    vec = index.channel("word").vec_
    vocab, idf = vec.vocabulary_, vec.idf_
    stop = stop_words()
    out: dict[str, tuple[str, float]] = {}
    for word in TERM.findall(text.lower()):
        s = stem(word)
        if s in vocab and word not in stop and s not in out:
            out[s] = (word, float(idf[vocab[s]]))
    return out


def shared_terms(
    index: RelatedIndex, q_terms: dict[str, tuple[str, float]] | None, row: Row, n: int = 5
) -> list[str]:
    """Up to ``n`` query words the row shares, rarest first."""
    if not q_terms:
        return []
    mine = set(_word_terms(row.text(index.fields)))
    shared = [t for t in q_terms if t in mine]
    return [q_terms[t][0] for t in sorted(shared, key=lambda t: -q_terms[t][1])[:n]]


def plan(index: RelatedIndex, query: dict[str, Any]) -> dict[str, Any]:
    """A query dict with ``_pos`` (an indexed id) or ``_text``; bad queries raise."""
    q = dict(query)
    if q.get("id") not in (None, ""):
        q["_pos"] = index.store.pos(str(q["id"]))
        q["_text"] = index.store.rows[q["_pos"]].headline
        return q
    art = q.get("article")
    text = q.get("text")
    if art is not None:
        text = (
            art.title
            if index.fields == "headline" or not art.body
            else f"{art.title}\n{lead_from_body(art.body)}"
        )
        q.setdefault("self_id", art.id)
    if not text or not str(text).strip():
        raise RelatedError("empty query: give text, an id or an article")
    q["_text"] = str(text).strip()
    return q


def answer(
    index: RelatedIndex,
    batch: list[dict[str, Any]],
    k: int,
    since: str | None,
    exclude_self: bool,
    use_sem: bool,
    explain: bool,
    floor: float,
) -> Iterator[list[dict[str, Any]]]:
    """Results of a batch of planned queries: id queries together, text queries together."""
    weights = index.fusion_weights(use_sem)
    by_id = [q for q in batch if q.get("_pos") is not None]
    by_text = [q for q in batch if q.get("_pos") is None]
    if by_text and index.has("entity"):
        found = index.extract_entities(*split_leads([q["_text"] for q in by_text]))
        for q, ents in zip(by_text, found, strict=True):
            q["_ents"] = ents
    text_kw = {
        "texts": [q["_text"] for q in by_text],
        "entities": [[n for n, _ in q.get("_ents", [])] for q in by_text],
    }
    for group, kw in (
        (by_id, {"ids": [index.store.rows[q["_pos"]].id for q in by_id]}),
        (by_text, text_kw),
    ):
        if not group:
            continue
        with one_blas_thread():
            comps = index.components(semantic=use_sem, minilm_all=False, **kw)
            minilm_q = comps.get("_minilm_query")
            fused = fuse(comps, weights, index.minilm_)
            for qi, q in enumerate(group):
                q["_minilm"] = minilm_q[qi] if minilm_q is not None else None
                found = results(
                    index,
                    fused[qi],
                    {n: c[qi] for n, c in comps.items()},
                    q,
                    k,
                    since,
                    exclude_self,
                    explain,
                    use_sem,
                )
                q["_result"] = [r for r in found if r["score"] >= floor]
    for q in batch:
        yield q.pop("_result")


def split_leads(texts: list[str]) -> tuple[list[str], list[str]]:
    """Headlines (first lines) and leads (the rest) of query texts."""
    return (
        [t.split("\n", 1)[0] for t in texts],
        [t.split("\n", 1)[1] if "\n" in t else "" for t in texts],
    )
