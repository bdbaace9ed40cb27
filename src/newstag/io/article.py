"""Articles: the :class:`Article` model, and reading articles from files, records and pages.

An :class:`Article` is a headline plus a body. Plain-text pages, HTML pages and record
fields are read here; the page furniture they carry is removed by :mod:`newstag.io.cleaning`,
which records every line it dropped and why. :func:`to_article` is the one way from whatever
a caller holds (an article, a text, a record dict, a record of a file) to an article.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from newstag import settings
from newstag.errors import InputError
from newstag.io.cleaning import (
    DATA,
    DroppedLine,
    classify_line,
    clean_page,
    furniture_summary,
    has_story,
    numbered_lines,
)
from newstag.io.records import Record

__all__ = [  # DATA, DroppedLine and classify_line come from newstag.io.cleaning
    "DATA",
    "DEFAULT_MAX_BYTES",
    "Article",
    "ArticleError",
    "DroppedLine",
    "NoStoryError",
    "classify_line",
    "clean_text",
    "decode",
    "from_record",
    "iter_jsonl",
    "looks_english",
    "parse_html",
    "parse_text",
    "read_article",
    "read_bytes",
    "to_article",
]

DEFAULT_MAX_BYTES = settings.current().max_bytes  # $NEWSTAG_MAX_BYTES when imported
"""Largest input accepted by default (bytes); override with ``--max-bytes`` or the env var."""


class ArticleError(InputError, ValueError):
    """An input that cannot be read as an article. The message names the source."""


class NoStoryError(ArticleError):
    """A page with no story: every line is page furniture (menus, share prompts, bylines)."""


@dataclass
class Article:
    """A news article: headline and body. ``text`` is what the NLP pipeline reads."""

    title: str
    body: str
    id: str | None = None
    source: str = "<text>"
    date: str | None = None
    dropped: list[DroppedLine] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Headline and body joined; the headline spans ``[0, len(title))``."""
        if not self.title:
            return self.body
        return f"{self.title}\n\n{self.body}" if self.body else self.title

    @property
    def headline_end(self) -> int:
        return len(self.title)

    def cleaning_report(self) -> dict[str, Any]:
        return {"source": self.source, "dropped": [asdict(d) for d in self.dropped]}


# ---------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------


def clean_text(text: str, source: str = "<text>", *, has_headline: bool = True) -> Article:
    """Split a plain-text page into headline and body, dropping page furniture (see
    :func:`newstag.io.cleaning.clean_page`). With ``has_headline=False`` (a body whose
    headline arrived as a field) no line becomes the headline."""
    lines = numbered_lines(text)
    if not lines:
        raise ArticleError(f"{source}: no text")
    kinds = [classify_line(ln) for _, ln in lines]
    if not has_story(kinds):
        raise NoStoryError(
            f"{source}: no story found, only page furniture ({furniture_summary(kinds)})"
        )
    page = clean_page(lines, kinds, has_headline=has_headline)
    return Article(title=page.title, body=page.body, source=source, dropped=page.dropped)


def to_article(item: Article | str | dict[str, Any] | Record, source: str = "<text>") -> Article:
    """The article of what a caller holds: an :class:`Article` (as it is), a plain text (first
    line the headline, cleaned), a record (``{"title", "body"}``: :func:`from_record`) or a
    :class:`~newstag.io.records.Record` of a file (errors name its line)."""
    if isinstance(item, Article):
        return item
    if isinstance(item, str):
        return parse_text(item, source)
    if isinstance(item, Record):
        if not item.ok:
            raise ArticleError(item.problem)
        return from_record(item.data, item.where)
    return from_record(item, source)


def looks_english(text: str) -> bool:
    """False only for text that is confidently in another language (the rule of
    :mod:`newstag.nlp.language`, shared by the CLI, batch jobs and the service)."""
    from newstag.nlp.language import is_confidently_not_english

    return not is_confidently_not_english(text)


def parse_html(html: str, source: str = "<html>") -> Article:
    """Extract the main content of an HTML page (trafilatura) and its headline."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        html,
        include_comments=False,
        include_tables=True,
        favor_precision=True,
        with_metadata=True,
    )
    body = (getattr(doc, "text", None) or "") if doc is not None else ""
    title = (getattr(doc, "title", None) or "") if doc is not None else ""
    if not body.strip():
        raise NoStoryError(f"{source}: no story found in the HTML page (no article text)")
    title = title.strip()
    first, _, rest = body.strip().partition("\n")
    if title and first.strip() == title:  # some pages repeat the headline in the text
        body = rest
    if not title:
        return clean_text(body, source)
    article = Article(title=title, body="", source=source)  # the page's headline is the headline
    _clean_body(article, body, source)
    return article


def from_record(record: Any, source: str = "<json>") -> Article:
    """Build an article from ``{"title", "body"}`` (or ``text``/``html``, ``id``, ``date``)."""
    if not isinstance(record, dict):
        raise ArticleError(f"{source}: expected a JSON object with title and body")
    for key in ("title", "body", "text", "html", "headline"):
        if record.get(key) is not None and not isinstance(record[key], str):
            raise ArticleError(f"{source}: field {key!r} must be a string")
    if record.get("html"):
        article = parse_html(record["html"], source)
    else:
        title = (record.get("title") or record.get("headline") or "").strip()
        body = (record.get("body") or record.get("text") or "").strip()
        if not title and not body:
            raise ArticleError(f"{source}: empty article (no title or body)")
        if title:
            article = Article(title=title, body=body, source=source)
            if body:  # scraped bodies may still carry furniture
                _clean_body(article, body, source)
        else:
            article = clean_text(body, source)
    if record.get("id") is not None:
        article.id = str(record["id"])
    if record.get("date") is not None:
        article.date = str(record["date"])
    _check_language(article)
    return article


def _clean_body(article: Article, body: str, source: str) -> None:
    """Remove furniture from the body of an article whose headline arrived as a field
    (JSON title, CMS field, DataFrame column, page title): no body line replaces it.
    A body of furniture only leaves the headline."""
    try:
        cleaned = clean_text(body, source, has_headline=False)
    except NoStoryError:
        article.body = ""
        article.dropped = [
            DroppedLine(no, ln.strip(), classify_line(ln)[1])
            for no, ln in enumerate(body.splitlines(), 1)
            if ln.strip()
        ]
        return
    article.body = cleaned.body if cleaned.dropped else body.strip()
    article.dropped = cleaned.dropped


def parse_text(text: str, source: str = "<text>") -> Article:
    """Parse a plain-text page (first non-empty line is the headline) and clean it."""
    if not text.strip():
        raise ArticleError(f"{source}: empty or whitespace-only text")
    article = clean_text(text, source)
    _check_language(article)
    return article


def _check_language(article: Article) -> None:
    from newstag.nlp.language import other_language

    guess = other_language(article.text)
    if guess is not None:
        article.warnings.append(
            f"{article.source}: text does not look like English (language {guess.lang!r}, "
            f"probability {guess.score:.2f}); entities and tags may be poor"
        )


def decode(data: bytes, source: str) -> tuple[str, list[str]]:
    """Decode bytes as UTF-8, falling back to cp1252/latin-1 with a warning."""
    if b"\x00" in data[:8192]:
        raise ArticleError(f"{source}: binary file, not text")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if sum(not (c.isprintable() or c.isspace()) for c in text) > len(text) * 0.05:
            break
        return text, [f"{source}: not valid UTF-8; decoded as {encoding}"]
    raise ArticleError(f"{source}: binary file, not text")


def read_bytes(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a file (``-`` for stdin) with the size cap; errors name the file."""
    import sys

    if str(path) == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
        source = "<stdin>"
    else:
        p = Path(path)
        source = str(path)
        if not p.exists():
            raise ArticleError(f"{source}: no such file")
        if p.is_dir():
            raise ArticleError(f"{source}: is a directory, not a file")
        try:
            size = p.stat().st_size
            if size > max_bytes:
                raise ArticleError(
                    f"{source}: file is {size:,} bytes, over the {max_bytes:,}-byte cap "
                    "(raise it with --max-bytes or NEWSTAG_MAX_BYTES)"
                )
            data = p.read_bytes()
        except OSError as exc:
            raise ArticleError(f"{source}: cannot read ({exc.strerror})") from exc
    if len(data) > max_bytes:
        raise ArticleError(
            f"{source}: input is over the {max_bytes:,}-byte cap "
            "(raise it with --max-bytes or NEWSTAG_MAX_BYTES)"
        )
    return data


def read_article(
    path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES, fmt: str | None = None
) -> Article:
    """Read one article from ``.txt``, ``.html``/``.htm``, ``.json`` or ``-`` (stdin).

    ``fmt`` forces a format (``txt``, ``html``, ``json``); otherwise the suffix decides,
    and stdin is sniffed (JSON object, HTML, else plain text).
    """
    source = "<stdin>" if str(path) == "-" else str(path)
    data = read_bytes(path, max_bytes)
    text, warnings = decode(data, source)
    if not text.strip():
        raise ArticleError(f"{source}: empty or whitespace-only file")
    kind = fmt or _sniff(Path(str(path)).suffix.lower(), text)
    if kind == "json":
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            from newstag.io.records import json_reason, where

            raise ArticleError(
                f"{where(source, exc.lineno, column=exc.colno)}: {json_reason(exc)}"
            ) from exc
        article = from_record(record, source)
    elif kind == "html":
        article = parse_html(text, source)
        _check_language(article)
    else:
        article = parse_text(text, source)
    article.warnings[:0] = warnings
    return article


def _sniff(suffix: str, text: str) -> str:
    if suffix in (".json",):
        return "json"
    if suffix in (".html", ".htm", ".xhtml"):
        return "html"
    if suffix in (".txt", ".text", ".md"):
        return "txt"
    head = text.lstrip()[:200].lower()
    if head.startswith("{"):
        return "json"
    if head.startswith(("<!doctype html", "<html", "<head", "<body", "<article", "<div")):
        return "html"
    return "txt"


def iter_jsonl(stream: Any, source: str = "<stdin>") -> Any:
    """Yield ``(line_no, Article | ArticleError)`` for each non-empty JSON line of ``stream``
    (lines as text or bytes), read by :func:`newstag.io.records.read_records`."""
    from newstag.io.records import read_records

    for rec in read_records(source, "jsonl", stream=stream):
        try:
            yield rec.line, to_article(rec)
        except ArticleError as exc:
            yield rec.line, exc
