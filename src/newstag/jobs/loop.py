"""Tag a batch of articles at once; when that fails, tag them one by one and report the bad.

The model scores a batch faster than one article at a time, but one article that breaks
the tagger must not lose the others. :func:`tag_batch` tries the batch and, on failure,
tags each article on its own: the good ones get their results, each bad one a
:class:`TagFailure` in its place. Batch jobs, Dask partitions and the service's grouped
requests all go through it; :func:`tag_rows` pairs results with row ids for jobs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from newstag.errors import NewstagError


class TagFailure(Exception):
    """Why one article could not be tagged: the exception's type and the first line of its
    message (picklable, so worker processes can send it back); ``error`` keeps a
    :class:`~newstag.errors.NewstagError` itself, whose message and status callers report."""

    def __init__(self, kind: str, message: str = "", error: NewstagError | None = None) -> None:
        super().__init__(kind, message, error)
        self.kind, self.message, self.error = kind, message, error

    @classmethod
    def of(cls, exc: BaseException) -> TagFailure:
        lines = str(exc).strip().splitlines()
        known = exc if isinstance(exc, NewstagError) else None
        return cls(type(exc).__name__, lines[0] if lines else "", known)

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}" if self.message else self.kind


Result = dict[str, Any]


def tag_batch(
    tagger: Any, articles: Sequence[Any], top_k: int = 10, min_score: float = 0.0
) -> list[Result | TagFailure]:
    """One result per article, in order: ``tagger.suggest_many`` over the whole batch, or,
    when that raises, ``tagger.suggest`` on each article with a :class:`TagFailure` for each
    one that raises."""
    if not articles:
        return []
    try:
        return list(tagger.suggest_many(articles, top_k=top_k, min_score=min_score))
    except Exception:  # noqa: BLE001 (find the article that fails, keep the rest)
        return [_tag_one(tagger, article, top_k, min_score) for article in articles]


def _tag_one(tagger: Any, article: Any, top_k: int, min_score: float) -> Result | TagFailure:
    try:
        return tagger.suggest(article, top_k=top_k, min_score=min_score)
    except Exception as exc:  # noqa: BLE001 (reported for this article only)
        return TagFailure.of(exc)


@dataclass
class Tagged:
    """What :func:`tag_rows` made of a batch: results and failures by row id, in order."""

    results: list[tuple[Any, Result]]
    failures: list[tuple[Any, TagFailure]]


def tag_rows(
    tagger: Any, rows: Sequence[tuple[Any, Any]], top_k: int = 10, min_score: float = 0.0
) -> Tagged:
    """Tag ``(row id, article)`` pairs with :func:`tag_batch`; each failure keeps its id."""
    tagged = Tagged([], [])
    outcomes = tag_batch(tagger, [article for _, article in rows], top_k, min_score)
    for (row_id, _), outcome in zip(rows, outcomes, strict=True):
        if isinstance(outcome, TagFailure):
            tagged.failures.append((row_id, outcome))
        else:
            tagged.results.append((row_id, outcome))
    return tagged
