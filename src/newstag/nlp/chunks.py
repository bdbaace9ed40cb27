"""Long texts through the spaCy pipeline in pieces, with offsets kept right.

spaCy refuses texts over ``nlp.max_length`` (1,000,000 characters) and needs memory in
proportion to the text it parses at once. A long text is therefore cut into pieces at
paragraph breaks (else line breaks, sentence ends or spaces), the pieces go through
``nlp.pipe``, and their entity spans are shifted back into the whole text. Entity grouping
and salience then see one set of mentions, as for a short text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language

PIECE_CHARS = 5_000
"""Longest piece given to the pipeline at once. Peak memory follows the characters in one
``nlp.pipe`` batch (about 0.8 GB per million), not the piece size; 5,000 keeps a batch of 64
pieces (the batch size used throughout) at 320,000 characters, like 64 ordinary articles.
Entity spans are the same as parsing the whole text (the NER looks a few tokens around each
word), see ``benchmarks/long_article.py`` and ``tests/nlp/test_chunks.py``."""

BATCH_CHARS = 320_000
"""Pieces go through ``nlp.pipe`` in batches of at most this many characters."""

# Where a piece may end, best first: after a blank line, a line break, a sentence, a space.
_BREAKS = (
    re.compile(r"\n[^\S\n]*\n\s*"),
    re.compile(r"\n\s*"),
    re.compile(r"[.!?]\s+"),
    re.compile(r"\s+"),
)


@dataclass(frozen=True)
class Piece:
    """A stretch of a text: ``text == whole[start:start + len(text)]``."""

    start: int
    text: str


@dataclass(frozen=True)
class EntitySpan:
    """An entity span of the whole text (the attributes of a spaCy ``Span`` that we read)."""

    label_: str
    start_char: int
    end_char: int


@dataclass
class MergedDoc:
    """The entity spans of a text parsed in pieces, in text order (like ``Doc.ents``)."""

    ents: list[EntitySpan] = field(default_factory=list)


def _cut(window: str) -> int:
    """Where to end a piece that starts ``window``: the last good break in its second half."""
    for pattern in _BREAKS:
        ends = [m.end() for m in pattern.finditer(window, len(window) // 2)]
        if ends:
            return ends[-1]
    return len(window)


def split_paragraphs(text: str, max_chars: int = PIECE_CHARS) -> list[Piece]:
    """Cut ``text`` into consecutive pieces of at most ``max_chars`` characters.

    Pieces end at paragraph breaks where one falls in the second half of the piece, else at
    a line break, a sentence end or a space; a text without any is cut at ``max_chars``.
    The pieces cover the text exactly, in order; a short text is one piece.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    pieces: list[Piece] = []
    pos = 0
    while len(text) - pos > max_chars:
        end = pos + _cut(text[pos : pos + max_chars])
        pieces.append(Piece(pos, text[pos:end]))
        pos = end
    pieces.append(Piece(pos, text[pos:]))
    return pieces


def _merge(parsed: Iterable[tuple[Any, int]]) -> MergedDoc:
    """One :class:`MergedDoc` from the ``(doc, piece start)`` pairs of one text."""
    merged = MergedDoc()
    for doc, start in parsed:
        merged.ents.extend(
            EntitySpan(ent.label_, start + ent.start_char, start + ent.end_char) for ent in doc.ents
        )
    return merged


def parse_many(
    nlp: Language,
    texts: Iterable[str],
    batch_size: int = 64,
    n_process: int = 1,
    max_chars: int | None = None,
) -> Iterator[Any]:
    """Parse ``texts`` in order: a spaCy ``Doc`` for a short text, a :class:`MergedDoc` (its
    entity spans, offsets into the whole text) for one longer than ``max_chars``, and for
    every text when ``n_process`` > 1 (the workers send back only entity spans, see
    :mod:`newstag.nlp.span_pool`; spaCy's own workers where processes cannot be forked).

    All pieces of all texts go through one pipe, so with ``n_process`` > 1 one set of worker
    processes serves the whole input. ``texts`` may be a stream: it is read as the pipeline
    needs it (a few batches ahead), never held whole. When a batch of full pieces could hold
    more than :data:`BATCH_CHARS` characters (some text of a list is long, or any stream),
    the batch size shrinks to keep within it. ``max_chars`` defaults to :data:`PIECE_CHARS`.
    """
    max_chars = max_chars or PIECE_CHARS

    def pieces() -> Iterator[tuple[str, tuple[int, int, bool]]]:
        for i, text in enumerate(texts):
            parts = split_paragraphs(text, max_chars)
            for part in parts:
                yield part.text, (i, part.start, len(parts) > 1)

    size = _batch_size(texts, batch_size, max_chars)
    docs = _pipe(nlp, pieces(), size, n_process)
    for (_, split), group in groupby(docs, key=lambda item: (item[1][0], item[1][2])):
        if split:
            yield _merge((doc, start) for doc, (_, start, _) in group)
        else:
            yield next(group)[0]


def _pipe(
    nlp: Language, pieces: Iterator[tuple[str, Any]], batch_size: int, n_process: int
) -> Iterator[tuple[Any, Any]]:
    """``(doc, context)`` per piece: a spaCy ``Doc`` in this process, a :class:`MergedDoc` of
    the piece's spans from forked workers."""
    from newstag.nlp.span_pool import can_fork, pipe_spans

    if n_process <= 1 or not can_fork():
        yield from nlp.pipe(pieces, as_tuples=True, n_process=n_process, batch_size=batch_size)
        return
    for spans, context in pipe_spans(nlp, pieces, batch_size, n_process):
        yield MergedDoc([EntitySpan(*span) for span in spans]), context


def _batch_size(texts: Iterable[str], batch_size: int, max_chars: int) -> int:
    """``batch_size``, or fewer pieces when a batch of them could exceed :data:`BATCH_CHARS`."""
    may_be_long = not isinstance(texts, Sequence) or any(len(t) > max_chars for t in texts)
    return max(1, min(batch_size, BATCH_CHARS // max_chars)) if may_be_long else batch_size


def parse(nlp: Language, text: str, max_chars: int | None = None) -> Any:
    """``nlp(text)`` for a text of any length (see :func:`parse_many`)."""
    return next(parse_many(nlp, [text], max_chars=max_chars))
