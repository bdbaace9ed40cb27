"""pandas adapters: tag or extract entities for every row of a DataFrame.

The results keep the input's index (repeated once per tag or entity in the long form) so
they join back with ``df.join(result)``; the input frame is never modified. Rows that
cannot be read as articles (no title and no body) raise a ``ValueError`` naming their index
labels, or with ``errors="coerce"`` give a row of missing values and a warning.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from newstag import settings
from newstag.io.article import Article, ArticleError, from_record

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

TAG_COLUMNS = ["tag", "type", "score", "source", "rank"]
WIDE_TAG_COLUMNS = ["tags", "types", "scores", "sources"]
ENTITY_COLUMNS = [
    "entity",
    "type",
    "label",
    "count",
    "salience",
    "in_headline",
    "in_lead",
    "country",
]


def progress_enabled(progress: bool | None) -> bool:
    """``progress`` if given; by default on in a terminal or a Jupyter kernel, off otherwise."""
    if progress is not None:
        return bool(progress)
    if settings.current().no_progress:
        return False
    try:
        if sys.stderr is not None and sys.stderr.isatty():
            return True
    except (AttributeError, ValueError):
        return False
    return "ipykernel" in sys.modules and _in_kernel()


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


def _progress_bar(iterable: Any, total: int, enabled: bool | None, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(
        iterable,
        total=total,
        unit="article",
        desc=desc,
        disable=not progress_enabled(enabled),
        file=sys.stderr,
    )


def _cell(value: Any) -> str | None:
    """A cell as text; missing values (None, NaN, pandas NA/NaT, "") as None, as
    :func:`newstag.io.records.is_missing` decides for every reader."""
    from newstag.io.records import is_missing

    if is_missing(value):
        return None
    return value if isinstance(value, str) else str(value)


def frame_articles(
    df: pd.DataFrame,
    title_col: str | None = "title",
    body_col: str | None = "body",
    text_col: str | None = None,
    errors: str = "raise",
) -> list[Article | None]:
    """One :class:`Article` per row of ``df`` (``None`` for unreadable rows when coercing).

    With ``text_col`` the column holds whole texts (headline on the first line) and
    ``title_col``/``body_col`` are ignored.
    """
    if errors not in ("raise", "coerce"):
        raise ValueError(f"errors must be 'raise' or 'coerce', not {errors!r}")
    wanted = [text_col] if text_col is not None else [c for c in (title_col, body_col) if c]
    if not wanted:
        raise ValueError("give title_col and/or body_col, or text_col")
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise KeyError(
            f"column(s) not in the frame: {', '.join(map(repr, missing))}; "
            f"columns are {list(df.columns)!r}"
        )
    articles: list[Article | None] = []
    bad: list[tuple[Any, str]] = []
    columns = [df[c].tolist() for c in wanted]
    for pos, label in enumerate(df.index):
        source = f"row {label!r}"
        try:
            if text_col is not None:
                record = {"body": _cell(columns[0][pos])}
            else:
                values = {c: _cell(col[pos]) for c, col in zip(wanted, columns, strict=True)}
                record = {
                    "title": values.get(title_col) if title_col else None,
                    "body": values.get(body_col) if body_col else None,
                }
            articles.append(from_record(record, source))
        except ArticleError as exc:
            bad.append((label, str(exc)))
            articles.append(None)
    if bad:
        shown = "; ".join(msg for _, msg in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        if errors == "raise":
            raise ValueError(
                f"{len(bad)} row(s) cannot be read as articles: {shown}{more}; "
                "pass errors='coerce' to give them missing values"
            )
        warnings.warn(
            f"{len(bad)} row(s) cannot be read as articles and have missing values: {shown}{more}",
            stacklevel=3,
        )
    return articles


def _suggest_iter(
    tagger: Any, articles: list[Article | None], top_k: int, min_score: float, n_process: int
) -> Iterator[dict[str, Any] | None]:
    good = [a for a in articles if a is not None]
    if n_process > 1:
        results = tagger.suggest_many(good, top_k=top_k, min_score=min_score, n_process=n_process)
    else:
        results = tagger.suggest_many(good, top_k=top_k, min_score=min_score)
    results = iter(results)
    for article in articles:
        yield None if article is None else next(results)


def suggest_frame(
    tagger: Any,
    df: pd.DataFrame,
    title_col: str | None = "title",
    body_col: str | None = "body",
    text_col: str | None = None,
    top_k: int = 5,
    wide: bool = False,
    progress: bool | None = None,
    n_process: int = 1,
    min_score: float = 0.0,
    errors: str = "raise",
) -> pd.DataFrame:
    """Suggested tags for every row of ``df``.

    Long form (default): one row per article and tag, columns ``tag, type, score, source,
    rank`` (rank 1 = best), indexed by the input's index; an article without tags keeps one
    row of missing values (as ``DataFrame.explode`` does). ``wide=True``: one row per
    article with list columns ``tags, types, scores, sources``.
    """
    import pandas as pd

    articles = frame_articles(df, title_col, body_col, text_col, errors)
    results = _progress_bar(
        _suggest_iter(tagger, articles, top_k, min_score, n_process),
        len(articles),
        progress,
        "tagging",
    )
    labels: list[Any] = []
    records: list[dict[str, Any]] = []
    for label, result in zip(df.index, results, strict=True):
        tags = (result or {}).get("tags") or []
        if wide:
            labels.append(label)
            records.append(
                {
                    "tags": [t["tag"] for t in tags] if result is not None else None,
                    "types": [t["type"] for t in tags] if result is not None else None,
                    "scores": [float(t["score"]) for t in tags] if result is not None else None,
                    "sources": [t["source"] for t in tags] if result is not None else None,
                }
            )
            continue
        if not tags:
            labels.append(label)
            records.append(dict.fromkeys(TAG_COLUMNS))
        for rank, t in enumerate(tags, 1):
            labels.append(label)
            records.append(
                {
                    "tag": t["tag"],
                    "type": t["type"],
                    "score": float(t["score"]),
                    "source": t["source"],
                    "rank": rank,
                }
            )
    columns = WIDE_TAG_COLUMNS if wide else TAG_COLUMNS
    index = _index_like(df.index, labels)
    out = pd.DataFrame.from_records(records, columns=columns, index=index)
    if not wide:
        out = out.astype(
            {
                "tag": "string",
                "type": "category",
                "score": "float64",
                "source": "category",
                "rank": "Int64",
            }
        )
    return out


def entities_frame(
    tagger: Any,
    df: pd.DataFrame,
    title_col: str | None = "title",
    body_col: str | None = "body",
    text_col: str | None = None,
    progress: bool | None = None,
    n_process: int = 1,
    errors: str = "raise",
) -> pd.DataFrame:
    """Named entities of every row of ``df``: one row per article and entity.

    Columns ``entity, type, label, count, salience, in_headline, in_lead, country``, indexed
    by the input's index, entities in salience order; an article without entities keeps
    one row of missing values. ``tagger`` is a Tagger or an EntityExtractor.
    """
    import pandas as pd

    articles = frame_articles(df, title_col, body_col, text_col, errors)
    extractor = _extractor(tagger)
    good = [a for a in articles if a is not None]
    if extractor is not None and hasattr(extractor, "extract_many"):
        found: Iterator[list[Any]] = iter(extractor.extract_many(good, n_process=n_process))
    else:
        found = (tagger.entities(a) for a in good)

    def per_row() -> Iterator[list[Any] | None]:
        for article in articles:
            yield None if article is None else next(found)

    labels: list[Any] = []
    records: list[dict[str, Any]] = []
    for label, ents in zip(
        df.index, _progress_bar(per_row(), len(articles), progress, "entities"), strict=True
    ):
        if not ents:
            labels.append(label)
            records.append(dict.fromkeys(ENTITY_COLUMNS))
        for e in ents or []:
            labels.append(label)
            records.append(
                {
                    "entity": e.name,
                    "type": e.type,
                    "label": e.label,
                    "count": e.count,
                    "salience": float(e.salience),
                    "in_headline": bool(e.in_headline),
                    "in_lead": bool(e.in_lead),
                    "country": e.country,
                }
            )
    out = pd.DataFrame.from_records(
        records, columns=ENTITY_COLUMNS, index=_index_like(df.index, labels)
    )
    return out.astype(
        {
            "entity": "string",
            "type": "category",
            "label": "category",
            "count": "Int64",
            "salience": "float64",
            "in_headline": "boolean",
            "in_lead": "boolean",
            "country": "string",
        }
    )


def _extractor(tagger: Any) -> Any:
    if hasattr(tagger, "extract_many"):
        return tagger
    return getattr(tagger, "extractor", None)


def _index_like(index: pd.Index, labels: list[Any]) -> pd.Index:
    """An index of ``labels`` with the names (and levels) of ``index``."""
    import pandas as pd

    if isinstance(index, pd.MultiIndex):
        return pd.MultiIndex.from_tuples(labels, names=index.names) if labels else index[:0]
    return pd.Index(labels, name=index.name, dtype=index.dtype if labels else index.dtype)
