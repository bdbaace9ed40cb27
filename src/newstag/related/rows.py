"""Rows of the related-headlines index and reading them from files, dicts or DataFrames."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newstag.related.errors import RelatedError


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

        place = (
            where(self.source, self.line, column=self.column)
            if self.source
            else f"line {self.line}"
        )
        return f"{place}: {self.message}"


@dataclass
class AddReport:
    """What :meth:`RelatedIndex.add` did."""

    added: int = 0
    replaced: int = 0
    skipped: list[Problem] = field(default_factory=list)


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


def as_str(value: Any) -> str:
    """A cell as stripped text ("" for missing or NaN)."""
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


def lead_from_body(body: str, limit: int = 300) -> str:
    """The first sentences of a body, up to about ``limit`` characters."""
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
    rid = as_str(record.get(names.id))
    if not rid:
        return Problem(line, f"missing id (field {names.id!r})")
    headline_keys = [names.headline] + [k for k in _HEADLINE_FALLBACKS if k != names.headline]
    if names.headline != "headline":
        headline_keys = [names.headline]
    headline = next((as_str(record.get(k)) for k in headline_keys if as_str(record.get(k))), "")
    if not headline:
        return Problem(line, f"empty headline for id {rid!r} (field {names.headline!r})")
    lead = as_str(record.get(names.lead)) or lead_from_body(as_str(record.get(names.body)))
    date = as_str(record.get(names.date)) or None
    if date is not None:
        date = date[:10]
        if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", date):
            return Problem(
                line, f"bad date {record.get(names.date)!r} for id {rid!r} (expected YYYY-MM-DD)"
            )
    return Row(
        id=rid,
        headline=" ".join(headline.split()),
        lead=lead,
        date=date,
        url=as_str(record.get(names.url)) or None,
        tags=_as_tags(record.get(names.tags)),
    )


def iter_records(
    path: str | Path, fmt: str | None = None, stream: Any = None
) -> Iterator[tuple[int, dict[str, Any] | Problem]]:
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


def read_rows(
    path: str | Path, names: FieldNames | None = None, fmt: str | None = None
) -> tuple[list[tuple[int, Row]], list[Problem]]:
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


def coerce_rows(
    rows: Iterable[Any], names: FieldNames | None = None
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


def parse_queries(
    path: str | Path, fmt: str | None = None
) -> tuple[list[tuple[int, dict]], list[Problem]]:
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
        rid = as_str(rec.get("id"))
        text = as_str(rec.get("text") or rec.get("headline") or rec.get("title"))
        if not rid and not text:
            problems.append(Problem(line, "a query needs id or text", source))
            continue
        out.append((line, {"id": rid or None, "text": None if rid else text}))
    return out, problems


def to_text_io(data: str) -> io.StringIO:
    """A text stream over ``data`` (handy for tests and notebooks)."""
    return io.StringIO(data)
