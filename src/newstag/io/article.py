"""Articles: reading them from files, records and pages, and removing page furniture.

An :class:`Article` is a headline plus a body. Scraped pages carry much more than the
story (share prompts, tag lines, comment forms, sidebars of other headlines); the
cleaner keeps the whole story (its tables, lists and dateline too) and records every
line it dropped and why, so that nothing from a sidebar or comment box becomes a tag or an
entity of the article.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from newstag import settings
from newstag.errors import InputError

DEFAULT_MAX_BYTES = settings.current().max_bytes  # $NEWSTAG_MAX_BYTES when imported
"""Largest input accepted by default (bytes); override with ``--max-bytes`` or the env var."""


class ArticleError(InputError, ValueError):
    """An input that cannot be read as an article. The message names the source."""


class NoStoryError(ArticleError):
    """A page with no story: every line is page furniture (menus, share prompts, bylines)."""


@dataclass
class DroppedLine:
    """A line the cleaner removed, with its 1-based line number and the reason."""

    line: int
    text: str
    reason: str


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
# Line classification for plain-text pages
# ---------------------------------------------------------------------------

_PROMPT = re.compile(
    r"^\W*(click here|read more|read also|also read|see also|related( articles| stories| coverage)?"
    r"|more from|recommended|most (read|popular|viewed)|trending|share( this( article| story)?)?"
    r"|share on \w+|tweet|print( this)?|email( this)?|copy link|follow us|subscribe|sign up"
    r"|sign in|log in|login|register|newsletter|advertisement|sponsored|watch|listen|download"
    r"|comments?|leave a comment|add a comment|post a comment|show comments|\d+ comments?"
    r"|facebook|twitter|whatsapp|telegram|linkedin|reddit|instagram|youtube|x\.com"
    r"|back to top|skip to (main )?content|menu|home|search|cookies?|accept( all)?( cookies)?"
    r"|privacy policy|terms of (use|service)|all rights reserved|©|copyright|photo:|image:|credit:"
    r"|getty images|reuters photo|ap photo|next article|previous article|load more)\b",
    re.IGNORECASE,
)
_CALL_TO_ACTION = re.compile(
    r"^\W*((click|tap) here|subscribe (to|now|today|for)|sign up (to|for|now|here|today)"
    r"|follow us|join us on|(download|get) (our|the) (free )?(app|newsletter)"
    r"|(don['’]t|never) miss|share (this|on)\b)",
    re.IGNORECASE,
)
"""A line that opens with a call to the reader: a prompt at any length (short prompts
such as "Facebook" or "Home" are caught by ``_PROMPT`` only when the line is short, since
those words also open real sentences)."""
_PROMPT_PREFIX = re.compile(
    r"^\W*(read more|read also|also read|related|see also|watch|listen|more|click here"
    r"|most (read|popular|viewed|shared)|trending|recommended|top stories|latest)"
    r"\s*[:>»\-–—|]",
    re.IGNORECASE,
)
_COMMENT_FORM = re.compile(
    r"(do not send comments|comments? (was|were|has been) sent|the comment was sent|your comment"
    r"|comments? (will|may) be (published|moderated|reviewed)|we reserve the right|comment policy"
    r"|required fields|your email address will not be published|name\s*\*|email\s*\*"
    r"|send comment|submit comment|post comment|thank you for your comment|talkbacks?"
    r"|include (links|profanity|incitement)|offensive (language|content)|captcha)",
    re.IGNORECASE,
)
_BYLINE = re.compile(
    r"^(by\s+)?[\w.'’\- ]{2,60}\s*[|•·,\-–—]\s*"
    r"(\d{1,2}[:.]\d{2}(\s*[ap]\.?m\.?)?|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}"
    r"|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\s+\d{1,2}[:.]\d{2}|\d+\s+(minutes?|hours?|days?) ago"
    r"|(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.? \d{1,2},? \d{4}.*)\s*$",
    re.IGNORECASE,
)
_DATELINE = re.compile(
    r"^((published|updated|posted|last updated)\s*:?\s*)?"
    r"(\d{1,2}[:.]\d{2}\s*[ap]?\.?m?\.?\s*)?[,|·]?\s*"
    r"(\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\w+day,? )?.{0,25}\d{4}\s*$|^\d{1,2}[:.]\d{2}$",
    re.IGNORECASE,
)
_MONTH = r"(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_WIRE_DATELINE = re.compile(
    r"^(?!(?i:published|updated|posted|last updated)\b)"
    r"[A-Z][A-Z.'’\-]+( [A-Z][A-Z.'’\-]+){0,3}"  # CITY in capitals
    r"(\s*,\s*[A-Z][\w.'’\-]+( [A-Z][\w.'’\-]+){0,2})?\s*,?\s*"  # , Country
    rf"(\d{{4}}-\d{{2}}-\d{{2}}|{_MONTH} \d{{1,2}}(,? \d{{4}})?)"  # 1996-12-07 | March 3
    r"\s*([-–—:]\s*)?$"
)
_TITLE_CASE_DATELINE = re.compile(
    r"^[A-Z][\w.'’\-]+( [A-Z][\w.'’\-]+){0,3}(\s*,\s*[A-Z][\w.'’\-]+( [A-Z][\w.'’\-]+){0,2})?"
    rf"\s*,\s*{_MONTH} \d{{1,2}}\s*[-–—]\s*$"
)
"""A wire dateline on a line of its own: ``HARARE 1996-12-07``, ``LONDON, March 3 -``
(``Toronto, Feb 26 -``: a city in Title Case needs the closing dash)."""
_LIST_ITEM = re.compile(r"^([-*•–·▪]|\(?\d{1,3}[.)])\s+\S")
_TABLE_CELLS = re.compile(r"^\|([^|]+\|){2,}\s*$")
"""A table row as HTML extraction writes it: ``| Sylhet | 210,000 |``."""
_ALIGNED = re.compile(r"\S(\t|\s{2,})\S")
_COLUMNS = re.compile(r"\S(\t|\s{3,})\S")
"""Columns set apart by a tab or 3+ spaces: a table row or column header."""
_NUMBER = re.compile(r"^([-+]?\d[\d,.:/-]*%?|-{2,3}|nil|n/a)$", re.IGNORECASE)
"""A table cell holding a number, or marking a missing one (``--``, ``nil``)."""
_TERMINAL = re.compile(r"[.!?…\"”’')\]]\s*$")
_WORD = re.compile(r"[^\W\d_][\w'’.-]*|\d[\d,.]*")
_CONNECTORS = {"and", "of", "the", "in", "on", "for", "to", "a", "de", "al", "&", "vs", "vs."}

PROSE, HEADING, FURNITURE, TOPICS, DATA = "prose", "heading", "furniture", "topics", "data"
"""Line kinds. DATA lines (table rows, list items, datelines) are story, not prose: they are
kept inside the story span and next to it, and never become the headline."""


def _words(line: str) -> list[str]:
    return _WORD.findall(line)


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper() or word[:1].isdigit() or word.lower() in _CONNECTORS


def _topic_list(line: str) -> bool:
    """A list of short topic words such as ``Hamas, Israel-Gaza War, IDF``."""
    if _TERMINAL.search(line) and not line.rstrip().endswith(")"):
        return False
    if line.upper() == line:  # an ALL-CAPS wire headline; site topics are not shouted
        return False
    parts = [p.strip() for p in re.split(r"\s*[,;|•·#]\s*", line) if p.strip()]
    if len(parts) < 2:
        return False
    return all(1 <= len(_words(p)) <= 5 and all(_is_capitalised(w) for w in _words(p))
               for p in parts)


def _run_on_tags(line: str) -> bool:
    """A run-on line of site tags: many capitalised words, no sentence punctuation."""
    if re.match(r"^\s*(tags?|topics?|keywords?|filed under|categories)\s*[:：]", line, re.I):
        return True
    from newstag.lazy import english_stop_words

    STOP_WORDS = english_stop_words()  # noqa: N806

    words = _words(line)
    if len(words) < 6 or _TERMINAL.search(line) or re.search(r"[,:;]", line):
        return False
    if line.upper() == line:  # an ALL-CAPS wire headline; site tags are not shouted
        return False
    # a Title Case headline has function words ("Will", "In", "To"); a tag line has none
    if any(w.lower() in STOP_WORDS and w.lower() not in ("of", "and", "the") for w in words):
        return False
    return sum(_is_capitalised(w) for w in words) / len(words) >= 0.95


def _cells(line: str) -> list[str]:
    return line.replace("(", " ").replace(")", " ").split()


def _number_cells(line: str) -> int:
    return sum(bool(_NUMBER.match(t)) for t in _cells(line))


def data_line(line: str) -> str:
    """Why ``line`` is a row of story data ("dateline", "list item", "table row"), or ``""``.

    Results tables, standings, schedules and lists are not prose but are part of the
    story: a table row is short and digit-heavy (``Fourie 69 73 71``) or laid out in
    tab/space-aligned columns.
    """
    stripped = line.strip()
    if _WIRE_DATELINE.match(stripped) or _TITLE_CASE_DATELINE.match(stripped):
        return "dateline"
    if _LIST_ITEM.match(stripped):
        return "list item"
    if _TABLE_CELLS.match(stripped):
        return "table row"
    tokens = _cells(stripped)
    numbers = _number_cells(stripped)
    if 2 <= len(tokens) <= 30 and numbers >= 2 and numbers / len(tokens) >= 0.3:
        return "table row"
    if len(tokens) <= 30 and (_COLUMNS.search(stripped) or
                              (numbers >= 2 and _ALIGNED.search(stripped))):
        return "table row"
    return ""


def classify_line(line: str) -> tuple[str, str]:
    """Classify one non-empty line: (kind, reason). Kinds: prose, heading, data, furniture,
    topics."""
    stripped = line.strip()
    words = _words(stripped)
    if _COMMENT_FORM.search(stripped):
        return FURNITURE, "comment form"
    data = data_line(stripped)
    if data == "dateline" or (data == "table row" and (
            _number_cells(stripped) >= 3 or _COLUMNS.search(stripped))):
        return DATA, data  # a byline or date line carries one time or date, not columns
    if _BYLINE.match(stripped) and len(words) <= 12:
        return TOPICS, "byline"
    if _PROMPT_PREFIX.match(stripped):
        return FURNITURE, "link prompt"
    if _CALL_TO_ACTION.match(stripped):
        return FURNITURE, "page prompt"
    if len(words) <= 6 and _PROMPT.match(stripped):
        return FURNITURE, "page prompt"
    if not words or (len(words) <= 8 and _DATELINE.match(stripped)):
        return FURNITURE, "date or symbols"
    if len(words) >= 6 and (_TERMINAL.search(stripped) or len(words) >= 25):
        return PROSE, ""
    if data:
        return DATA, data
    if _topic_list(stripped):
        return TOPICS, "topic list"
    if _run_on_tags(stripped):
        return TOPICS, "tag line"
    return HEADING, ""


def clean_text(text: str, source: str = "<text>", *, has_headline: bool = True) -> Article:
    """Split a plain-text page into headline and body, dropping page furniture.

    The story is the longest run of prose lines; headings, table rows, list items and
    datelines inside it are kept, and so are the data lines that run on from it (a
    results table after the last paragraph). Bylines, topic lists, comment forms and
    prompts end it. The headline is the first non-data line of the block that leads
    into the story, or the first story line when the story starts at the top. With
    ``has_headline=False`` (a body whose headline arrived as a field) no line becomes
    the headline: every story line stays in the body.
    """
    lines = [(i + 1, ln.rstrip()) for i, ln in enumerate(text.splitlines()) if ln.strip()]
    if not lines:
        raise ArticleError(f"{source}: no text")
    kinds = [classify_line(ln) for _, ln in lines]
    lines = [(no, ln.strip()) for no, ln in lines]
    if not any(kind in (PROSE, HEADING, DATA) for kind, _ in kinds):
        raise NoStoryError(f"{source}: no story found, only page furniture "
                           f"({_furniture_summary(kinds)})")
    start, end = _story_span(kinds, lines)
    head = _head(kinds, start)
    keep = set(head) | {j for j in range(start, end) if kinds[j][0] in (PROSE, HEADING, DATA)}
    title_idx = _headline(kinds, sorted(keep)) if has_headline else None
    keep.discard(title_idx)  # data lines above the headline stay in the body
    body_lines = [lines[j][1] for j in sorted(keep)]
    dropped = [DroppedLine(no, ln, kinds[j][1] or
                           ("outside the story" if j < start else "after the story"))
               for j, (no, ln) in enumerate(lines) if j not in keep and j != title_idx]
    title = lines[title_idx][1] if title_idx is not None else ""
    return Article(title=title, body="\n\n".join(body_lines), source=source, dropped=dropped)


def _head(kinds: list[tuple[str, str]], start: int) -> list[int]:
    """The lines that lead into the story: walk back over the article's own bylines and
    prompts, then collect headline, standfirst and dateline lines up to the previous
    piece of furniture."""
    head: list[int] = []
    i = start - 1
    while i >= 0 and kinds[i][0] in (FURNITURE, TOPICS):
        i -= 1
    while i >= 0 and kinds[i][0] in (HEADING, PROSE, DATA):
        head.insert(0, i)
        i -= 1
    return head


def _headline(kinds: list[tuple[str, str]], story: list[int]) -> int:
    """The first story line that is not data (a results row or dateline is never the
    headline); the first story line when every line is data."""
    return next((j for j in story if kinds[j][0] != DATA), story[0])


def _furniture_summary(kinds: list[tuple[str, str]]) -> str:
    """``"2 lines: page prompt, topic list"``: what the cleaner found instead of a story."""
    reasons = sorted({reason for _, reason in kinds})
    return f"{len(kinds)} line{'s' if len(kinds) != 1 else ''}: {', '.join(reasons)}"


def _prose_blocks(kinds: list[tuple[str, str]], lines: list[tuple[int, str]]) -> list[list[int]]:
    """Runs of prose as ``[start, end, prose_words]``. Headings and furniture between
    paragraphs count towards a gap of 3 that ends a run; a data line resets it (a results
    table with its headings sits between paragraphs) unless furniture came first; topic
    lines end it."""
    blocks: list[list[int]] = []
    current: list[int] | None = None
    gap, furniture_since = 0, False
    for i, (kind, _) in enumerate(kinds):
        if kind == PROSE:
            words = len(_words(lines[i][1]))
            if current is None:
                current = [i, i + 1, words]
            else:
                current[1], current[2] = i + 1, current[2] + words
            gap, furniture_since = 0, False
        elif kind == TOPICS or (current is not None and gap >= 3):
            if current is not None:
                blocks.append(current)
            current, gap, furniture_since = None, 0, False
        elif current is not None and kind == DATA and not furniture_since:
            gap = 0  # a table or list between paragraphs: its headings are no gap
        elif current is not None:
            gap += 1
            furniture_since = furniture_since or kind == FURNITURE
    if current is not None:
        blocks.append(current)
    return blocks


def _story_span(kinds: list[tuple[str, str]], lines: list[tuple[int, str]]) -> tuple[int, int]:
    """Return [start, end) of the main story block in ``lines``."""
    blocks = _prose_blocks(kinds, lines)
    if not blocks:  # no prose at all: a headline-only, list or results text
        first = next((i for i, k in enumerate(kinds) if k[0] in (HEADING, PROSE, DATA)), 0)
        return first, len(kinds)
    best = max(range(len(blocks)), key=lambda b: blocks[b][2])
    start, end, _ = blocks[best]
    # A story split by an inline card continues in the next block of real paragraphs.
    for nxt in blocks[best + 1:]:
        if nxt[0] - end <= 4 and nxt[2] >= 30 and nxt[1] - nxt[0] >= 2:
            end = nxt[1]
        else:
            break
    return start, _data_run_end(kinds, end)


def _data_run_end(kinds: list[tuple[str, str]], end: int) -> int:
    """Extend the story over the data that runs on from it: table rows and list items,
    with the headings between them ("Standings:"), up to the first furniture line."""
    i = end
    while i < len(kinds) and kinds[i][0] in (DATA, HEADING):
        if kinds[i][0] == HEADING:  # a heading belongs to the story only if data follows
            j = i
            while j < len(kinds) and kinds[j][0] == HEADING:
                j += 1
            if j - i > 2 or j == len(kinds) or kinds[j][0] != DATA:
                break
            i = j
        end = i = i + 1
    return end


# ---------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------


def looks_english(text: str) -> bool:
    """False only for text that is confidently in another language (the rule of
    :mod:`newstag.nlp.language`, shared by the CLI, batch jobs and the service)."""
    from newstag.nlp.language import is_confidently_not_english

    return not is_confidently_not_english(text)


def parse_html(html: str, source: str = "<html>") -> Article:
    """Extract the main content of an HTML page (trafilatura) and its headline."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        html, include_comments=False, include_tables=True, favor_precision=True,
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
        article.dropped = [DroppedLine(no, ln.strip(), classify_line(ln)[1])
                           for no, ln in enumerate(body.splitlines(), 1) if ln.strip()]
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
            f"probability {guess.score:.2f}); entities and tags may be poor")


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
                    "(raise it with --max-bytes or NEWSTAG_MAX_BYTES)")
            data = p.read_bytes()
        except OSError as exc:
            raise ArticleError(f"{source}: cannot read ({exc.strerror})") from exc
    if len(data) > max_bytes:
        raise ArticleError(f"{source}: input is over the {max_bytes:,}-byte cap "
                           "(raise it with --max-bytes or NEWSTAG_MAX_BYTES)")
    return data


def read_article(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES,
                 fmt: str | None = None) -> Article:
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

            raise ArticleError(f"{where(source, exc.lineno, column=exc.colno)}: "
                               f"{json_reason(exc)}") from exc
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
        if not rec.ok:
            yield rec.line, ArticleError(rec.problem)
            continue
        try:
            yield rec.line, from_record(rec.data, rec.where)
        except ArticleError as exc:
            yield rec.line, exc
