"""Page cleaning: which lines of a scraped page are the story, and which are furniture.

Scraped pages carry much more than the story (share prompts, tag lines, comment forms,
sidebars of other headlines). Each line is classified (:func:`classify_line`: prose,
heading, story data such as table rows, list items and datelines, furniture, topic lines);
the story is the longest run of prose with the headings and data inside and after it, and
the lines that lead into it give the headline (:func:`clean_page`). Every dropped line is
recorded with the reason, so that nothing from a sidebar or comment box becomes a tag or an
entity of the article. :func:`newstag.io.article.clean_text` turns the result into an
:class:`~newstag.io.article.Article`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class DroppedLine:
    """A line the cleaner removed, with its 1-based line number and the reason."""

    line: int
    text: str
    reason: str


@dataclass
class CleanedPage:
    """A page after cleaning: the headline, the story body (paragraphs joined by blank lines)
    and the lines dropped."""

    title: str
    body: str
    dropped: list[DroppedLine]


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
    return all(
        1 <= len(_words(p)) <= 5 and all(_is_capitalised(w) for w in _words(p)) for p in parts
    )


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
    if len(tokens) <= 30 and (
        _COLUMNS.search(stripped) or (numbers >= 2 and _ALIGNED.search(stripped))
    ):
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
    if data == "dateline" or (
        data == "table row" and (_number_cells(stripped) >= 3 or _COLUMNS.search(stripped))
    ):
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


# ---------------------------------------------------------------------------
# The story of a page
# ---------------------------------------------------------------------------


def numbered_lines(text: str) -> list[tuple[int, str]]:
    """The non-empty lines of ``text``, stripped, with their 1-based line numbers."""
    return [(i + 1, ln.strip()) for i, ln in enumerate(text.splitlines()) if ln.strip()]


def has_story(kinds: list[tuple[str, str]]) -> bool:
    """True unless every line is furniture or topics."""
    return any(kind in (PROSE, HEADING, DATA) for kind, _ in kinds)


def clean_page(
    lines: list[tuple[int, str]], kinds: list[tuple[str, str]], *, has_headline: bool = True
) -> CleanedPage:
    """Split classified ``lines`` (:func:`numbered_lines`, :func:`classify_line`; a page that
    :func:`has_story`) into headline, story and dropped lines.

    The story is the longest run of prose lines; headings, table rows, list items and
    datelines inside it are kept, and so are the data lines that run on from it (a
    results table after the last paragraph). Bylines, topic lists, comment forms and
    prompts end it. The headline is the first non-data line of the block that leads
    into the story, or the first story line when the story starts at the top. With
    ``has_headline=False`` (a body whose headline arrived as a field) no line becomes
    the headline: every story line stays in the body.
    """
    kinds = _headline_not_tags(kinds)
    start, end = _story_span(kinds, lines)
    keep = set(_head(kinds, start)) | {
        j for j in range(start, end) if kinds[j][0] in (PROSE, HEADING, DATA)
    }
    title_idx = _headline(kinds, sorted(keep)) if has_headline else None
    keep.discard(title_idx)  # data lines above the headline stay in the body
    dropped = [
        DroppedLine(
            no, ln, kinds[j][1] or ("outside the story" if j < start else "after the story")
        )
        for j, (no, ln) in enumerate(lines)
        if j not in keep and j != title_idx
    ]
    return CleanedPage(
        title=lines[title_idx][1] if title_idx is not None else "",
        body="\n\n".join(lines[j][1] for j in sorted(keep)),
        dropped=dropped,
    )


def _headline_not_tags(kinds: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A "tag line" or "topic list" right above the first paragraph, with no heading or prose
    above it, is the headline: Title Case without function words ("Rishi Sunak Calls Early
    General Election") or with commas ("Sudan Blocks Migrants' Path, Aiding Europe"). Site
    tags come after the story or below its headline."""
    first = next((j for j, (kind, _) in enumerate(kinds) if kind == PROSE), 0)
    if (
        first > 0
        and kinds[first - 1] in ((TOPICS, "tag line"), (TOPICS, "topic list"))
        and all(kind not in (HEADING, PROSE) for kind, _ in kinds[: first - 1])
    ):
        kinds = [*kinds[: first - 1], (HEADING, ""), *kinds[first:]]
    return kinds


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


def furniture_summary(kinds: list[tuple[str, str]]) -> str:
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
    for nxt in blocks[best + 1 :]:
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
