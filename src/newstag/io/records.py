"""One reader for files of records: CSV, TSV, JSON lines (also gzipped), Parquet and stdin.

Every command that reads records (``batch``, ``index build``/``add``, ``related --queries``,
``train``/``eval`` corpora, ``batch --dask``, ``suggest --jsonl``) reads them here, under one
set of rules:

* **Encoding**: UTF-8; a leading byte-order mark is dropped (Excel saves "CSV UTF-8" with
  one). A line that is not UTF-8 makes its record bad; the other records are still read.
* **Missing values**: an empty CSV cell, a JSON ``null`` and a NaN are missing: the field is
  left out of the record, so ``record.get(name)`` is ``None`` for all three.
* **Numbering**: ``row`` counts records from 1 (a CSV header and blank lines are not
  records); ``line`` is the file line where the record starts (the CSV header is line 1).
  Parquet has rows but no lines.
* **Bad records** are yielded, not raised, with a reason; :attr:`Record.problem` reports
  them as ``FILE: line N: reason`` (``FILE: line N, column C: reason`` for malformed JSON,
  ``FILE: row N: reason`` in Parquet). A file that cannot be read at all raises
  :class:`RecordError` with a one-line message naming the file.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from newstag.errors import InputError

FORMATS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
BOM = b"\xef\xbb\xbf"
STDIN = "-"


class RecordError(InputError, ValueError):
    """A record file that cannot be read at all; the message is one line naming the file."""


@dataclass
class Position:
    """Where a record starts in an uncompressed text file (to read a file in parts)."""

    offset: int  # byte offset
    row: int
    line: int


@dataclass(slots=True)
class Record:
    """One record of a file: its fields, or the reason it could not be read."""

    source: str
    row: int
    line: int | None
    data: dict[str, Any] | None = None
    error: str | None = None
    column: int | None = None
    offset: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def position(self) -> Position:
        """Where the record starts, to read the file from here on (see :func:`read_records`)."""
        assert self.offset is not None and self.line is not None
        return Position(self.offset, self.row, self.line)

    @property
    def where(self) -> str:
        """``FILE: line N`` (``FILE: row N`` in Parquet)."""
        return where(self.source, self.line, self.row, self.column)

    @property
    def problem(self) -> str:
        """The one-line report of a bad record: ``FILE: line N: reason``."""
        return f"{self.where}: {self.error}"


def where(source: str, line: int | None, row: int | None = None, column: int | None = None) -> str:
    """``FILE: line N``, ``FILE: line N, column C`` or ``FILE: row N``."""
    if line is None:
        return f"{source}: row {row}"
    return f"{source}: line {line}" + (f", column {column}" if column is not None else "")


def source_name(path: str | Path) -> str:
    """The name errors use for ``path`` (``<stdin>`` for ``-``)."""
    return "<stdin>" if str(path) == STDIN else str(path)


def record_format(path: str | Path, fmt: str | None = None) -> str:
    """``jsonl``, ``csv``, ``tsv`` or ``parquet``: ``fmt`` if given, else from the suffix."""
    if fmt is not None:
        if fmt not in set(FORMATS.values()):
            raise RecordError(
                f"{source_name(path)}: unknown format {fmt!r}; use jsonl, csv, tsv or parquet"
            )
        return fmt
    suffixes = [s.lower() for s in Path(str(path)).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    found = FORMATS.get(suffixes[-1]) if suffixes else None
    if found is None:
        raise RecordError(
            f"{source_name(path)}: unknown input format; use .jsonl, .csv, .tsv or .parquet"
        )
    return found


def is_missing(value: Any) -> bool:
    """None, NaN (float or pandas NA) and the empty string are missing values."""
    if value is None or (isinstance(value, str) and value == ""):
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in ("NAType", "NaTType")


def clean(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without its missing values (see :func:`is_missing`)."""
    # strings, the common case, are checked inline: a function call per cell costs 10%
    return {k: v for k, v in data.items() if (v if v.__class__ is str else not is_missing(v))}


def json_reason(exc: json.JSONDecodeError) -> str:
    """A JSON error as a short phrase: ``Unterminated string starting at`` -> ``unterminated
    string`` (the position is reported separately, as line and column)."""
    msg = exc.msg
    for tail in (" at", " starting"):
        msg = msg.removesuffix(tail)
    return f"malformed JSON: {msg[:1].lower()}{msg[1:]}"


def parse_json_object(text: str) -> tuple[dict[str, Any] | None, str | None, int | None]:
    """``(object, None, None)`` or ``(None, reason, column)`` for one JSON text."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if text.endswith(("\n", "\r")):  # a string cut at the line end is "unterminated"
            return parse_json_object(text.rstrip("\r\n"))
        return None, json_reason(exc), exc.colno
    except RecursionError:
        return None, "malformed JSON: nested too deeply", None
    if not isinstance(value, dict):
        return None, f"expected a JSON object, got {_json_kind(value)}", None
    return value, None, None


def _json_kind(value: Any) -> str:
    kinds = {list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return kinds.get(type(value), "a number")


# ---------------------------------------------------------------------------
# Lines
# ---------------------------------------------------------------------------


class _Lines:
    """Decoded lines of a byte or text stream, counting lines and bytes, BOM dropped."""

    def __init__(self, stream: Iterable[Any], line: int = 0, offset: int = 0) -> None:
        self.stream = iter(stream)
        self.line, self.offset = line, offset  # lines and bytes consumed so far
        self.bad: str | None = None  # why a line read since the last reset is not UTF-8
        self.first = line == 0

    def reset(self) -> None:
        self.bad = None

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        raw = next(self.stream)
        self.line += 1
        if isinstance(raw, str):
            text = raw.removeprefix("\ufeff") if self.first else raw
            self.offset += len(raw.encode("utf-8", "surrogatepass"))
        else:
            self.offset += len(raw)
            if self.first:
                raw = raw.removeprefix(BOM)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.bad = self.bad or (
                    f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
                )
                text = raw.decode("utf-8", "replace")
        self.first = False
        return text


def _open_binary(path: str | Path) -> BinaryIO:
    """The file's bytes (gunzipped for ``.gz``); stdin's bytes for ``-``."""
    if str(path) == STDIN:
        return sys.stdin.buffer
    p = Path(path)
    if not p.exists():
        raise RecordError(f"{path}: no such file")
    if p.is_dir():
        raise RecordError(f"{path}: is a directory, not a file")
    try:
        if p.suffix.lower() == ".gz":
            return gzip.open(p, "rb")  # type: ignore[return-value]
        return open(p, "rb")  # noqa: SIM115
    except OSError as exc:
        raise RecordError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def read_lines(path: str | Path) -> Iterator[tuple[int, str, str | None]]:
    """``(line number, text without its end of line, why it is not UTF-8 or None)`` for
    each line of a text file (gunzipped for ``.gz``), BOM dropped: for line-based files
    that are not records, such as tag alias files."""
    with _open_binary(path) as handle:
        lines = _Lines(handle)
        for text in lines:
            yield lines.line, text.rstrip("\r\n"), lines.bad
            lines.reset()


# ---------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------


def read_records(
    path: str | Path,
    fmt: str | None = None,
    *,
    skip: int = 0,
    stream: Iterable[Any] | None = None,
    start: Position | None = None,
    limit: int | None = None,
) -> Iterator[Record]:
    """Yield the :class:`Record` s of ``path`` after the first ``skip`` records.

    ``path`` ``-`` reads stdin (JSON lines if it starts with ``{``, else CSV, unless ``fmt``
    says). ``stream`` reads lines (bytes or text) from another source named ``path``.
    ``start`` (a :attr:`Record.position` of an earlier read) and ``limit`` read a part of an
    uncompressed file. Raises :class:`RecordError` for a file that cannot be read at all.
    """
    source = source_name(path)
    if fmt is None and str(path) == STDIN and stream is None:
        fmt, stream = _sniff_stdin()
    fmt = record_format(path, fmt) if fmt or str(path) != STDIN else "jsonl"
    if fmt == "parquet":
        yield from _limited(_read_parquet(path, skip), limit)
        return
    own = stream is None
    handle = _open_binary(path) if own else stream
    try:
        yield from _limited(_read_text(handle, fmt, source, start, skip), limit)
    except (OSError, EOFError) as exc:
        raise RecordError(f"{source}: cannot read ({exc})") from exc
    finally:
        if own and str(path) != STDIN:
            handle.close()  # type: ignore[union-attr]


def _read_text(
    handle: Any, fmt: str, source: str, start: Position | None, skip: int
) -> Iterator[Record]:
    delimiter = "\t" if fmt == "tsv" else ","
    lines = _Lines(handle)
    header: list[str] | None = None
    if fmt != "jsonl":
        header = _header(lines, source, delimiter)
        if header is None:
            return
    row = 0
    if start is not None:
        if not hasattr(handle, "seek"):
            raise RecordError(f"{source}: cannot read a part of a stream")
        handle.seek(start.offset)
        lines, row = _Lines(handle, line=start.line - 1, offset=start.offset), start.row - 1
    if fmt == "jsonl":
        records = _read_jsonl(lines, source, row)
    else:
        assert header is not None
        records = _csv_rows(csv.reader(lines, delimiter=delimiter), lines, source, header, row)
    if not skip:
        yield from records
        return
    for rec in records:
        if rec.row > skip:
            yield rec


def _limited(records: Iterator[Record], limit: int | None) -> Iterator[Record]:
    if limit is None:
        yield from records
        return
    for n, record in enumerate(records):
        if n >= limit:
            return
        yield record


def _sniff_stdin() -> tuple[str, Iterator[bytes]]:
    """Stdin's format (JSON lines when its first non-blank byte is ``{``) and its lines."""
    import itertools

    head: list[bytes] = []
    for raw in sys.stdin.buffer:
        head.append(raw)
        text = raw.removeprefix(BOM).strip() if len(head) == 1 else raw.strip()
        if text:
            fmt = "jsonl" if text.startswith(b"{") else "csv"
            return fmt, itertools.chain(head, sys.stdin.buffer)
    return "jsonl", iter(head)


def _read_jsonl(lines: _Lines, source: str, row: int = 0) -> Iterator[Record]:
    while True:
        lines.reset()
        offset = lines.offset
        try:
            text = next(lines)
        except StopIteration:
            return
        if text.isspace() or not text:
            continue
        row += 1
        rec = Record(source, row, lines.line, offset=offset)
        if lines.bad:
            rec.error = lines.bad
        else:
            data, rec.error, rec.column = parse_json_object(text)
            rec.data = clean(data) if data is not None else None
        yield rec


def read_header(path: str | Path, fmt: str | None = None) -> list[str]:
    """The column names of a CSV/TSV file (empty for an empty file)."""
    fmt = record_format(path, fmt)
    with _open_binary(path) as handle:
        return _header(_Lines(handle), source_name(path), "\t" if fmt == "tsv" else ",") or []


def _header(lines: _Lines, source: str, delimiter: str) -> list[str] | None:
    """The first line's column names, or None for an empty file."""
    csv.field_size_limit(2**31 - 1)
    try:
        first = next(csv.reader(lines, delimiter=delimiter), None)
    except csv.Error as exc:
        raise RecordError(f"{source}: line 1: malformed CSV header ({exc})") from exc
    if lines.bad:
        raise RecordError(f"{source}: line 1: {lines.bad}")
    return None if first is None else [h.strip() for h in first]


def _csv_rows(
    reader: Any, lines: _Lines, source: str, header: list[str] | None, row: int
) -> Iterator[Record]:
    while True:
        lines.reset()
        line, offset = lines.line + 1, lines.offset
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row += 1
            yield Record(source, row, line, error=f"malformed CSV ({exc})", offset=offset)
            continue
        if not values or (len(values) == 1 and not values[0].strip()):
            continue  # a blank line
        row += 1
        rec = Record(source, row, line, offset=offset)
        if lines.bad:
            rec.error = lines.bad
        elif header is None:
            rec.error = "no header"
        elif len(values) != len(header):
            rec.error = (
                f"has {len(values)} field{'s' * (len(values) != 1)}, the header has {len(header)}"
            )
        else:
            rec.data = clean(dict(zip(header, values, strict=True)))
        yield rec


def _read_parquet(path: str | Path, skip: int) -> Iterator[Record]:
    import pyarrow.parquet as pq

    source = source_name(path)
    if not Path(path).is_file():
        _open_binary(path)  # raises the one-line error
    try:
        pfile = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RecordError(f"{source}: not a readable Parquet file ({first})") from exc
    row = 0
    for batch in pfile.iter_batches(batch_size=1024):
        if row + batch.num_rows <= skip:
            row += batch.num_rows
            continue
        for data in batch.to_pylist():
            row += 1
            if row > skip:
                yield Record(source, row, None, data=clean(data))


def count_records(path: str | Path, fmt: str | None = None) -> int:
    """How many records :func:`read_records` yields (Parquet: from its metadata)."""
    if record_format(path, fmt) == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return sum(1 for _ in read_records(path, fmt))
