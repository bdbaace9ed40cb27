"""Mentions: NER spans of a parsed article, split, cleaned and checked before grouping.

A span is split into its members (coordinations, "of STATE" suffixes: see
:mod:`newstag.nlp.grouping`), cleaned by :func:`newstag.nlp.normalise.clean_mention` and given
one sense per article. Title Case headlines fool NER ("Trump Will Meet Xi"): their spans are
split at common words and kept only if the body confirms them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from newstag.nlp.gazetteer import Gazetteer
from newstag.nlp.grouping import in_place_context, split_span
from newstag.nlp.normalise import LABELS, clean_mention

if TYPE_CHECKING:  # pragma: no cover
    from spacy.tokens import Doc

    from newstag.io.article import Article


@dataclass
class RawMention:
    """A cleaned mention before grouping; ``confirmed`` is False for Title Case headline spans."""

    text: str
    start: int
    end: int
    label: str
    confirmed: bool = True
    lone_member: bool = False


def _spans(doc: Doc, text: str, particles: set[str]) -> list[tuple[str, int, int, str]]:
    """NER spans, joining a name split at its particles ("Ursula von" + "der" + "Leyen").

    ``text`` is the doc's text (``doc.text`` would rebuild it from the tokens)."""
    spans: list[tuple[str, int, int, str]] = []
    for ent in doc.ents:
        if ent.label_ not in LABELS:
            continue
        if spans and spans[-1][3] == "PERSON":
            gap = text[spans[-1][2] : ent.start_char].split()
            prev_last = spans[-1][0].split()[-1].lower()
            if all(w.lower() in particles for w in gap) and (gap or prev_last in particles):
                start = spans[-1][1]
                spans[-1] = (text[start : ent.end_char], start, ent.end_char, "PERSON")
                continue
        spans.append(
            (text[ent.start_char : ent.end_char], ent.start_char, ent.end_char, ent.label_)
        )
    return spans


def _title_case(headline: str) -> bool:
    """True for a headline of four words or more, 70 % of them capitalised."""
    words = [w for w in headline.split() if w[:1].isalpha()]
    return len(words) >= 4 and sum(w[0].isupper() for w in words) / len(words) >= 0.7


def raw_mentions(doc: Doc, article: Article, gaz: Gazetteer) -> list[RawMention]:
    """Cleaned mentions, coordinations and "of STATE" suffixes split (see
    :mod:`newstag.nlp.grouping`). Title Case headlines fool NER ("Trump Will Meet Xi", "Price
    Cap"): their spans are split at common words and kept only if the body confirms them."""
    headline_end = article.headline_end
    full_text = article.text  # a property that joins strings: read it once
    doubtful = _title_case(article.title) and len(article.body) >= 200
    raws: list[RawMention] = []
    for span_text, span_start, _, span_label in _spans(doc, full_text, gaz.particles):
        for part in split_span(span_text, span_start, span_label, gaz):
            label = part.label
            if label in ("ORG", "PERSON") and in_place_context(full_text, part.start):
                label = "GPE"  # "the island of Rhodes"
            cleaned = clean_mention(part.text, part.start, label, gaz)
            if cleaned is None:
                continue
            text, start = cleaned
            if start >= headline_end:
                raws.append(
                    RawMention(
                        text, start, start + len(text), label, part.confirmed, part.lone_member
                    )
                )
            else:
                raws += _headline_pieces(
                    text, start, label, full_text, part.confirmed and not doubtful, gaz
                )
    _vote_place_types(raws)
    _doubt_common_members(raws, full_text)
    return raws


def _doubt_common_members(raws: list[RawMention], full_text: str) -> None:
    """A one-word member of a person coordination ("... and Senate") that the article also
    uses outside any person name is a common word: keep it only if the article confirms it."""
    person_spans = [(r.start, r.end) for r in raws if r.label == "PERSON"]
    for raw in raws:
        if not (raw.lone_member and raw.confirmed and raw.label == "PERSON"):
            continue
        for match in re.finditer(rf"(?<!\w){re.escape(raw.text)}(?!\w)", full_text):
            if not any(s <= match.start() < e for s, e in person_spans):
                raw.confirmed = False
                break


def _headline_pieces(
    text: str, start: int, label: str, full_text: str, confirmed: bool, gaz: Gazetteer
) -> list[RawMention]:
    """A headline span split at common words ("Trump Will Meet Xi" -> "Trump", "Xi")."""
    from newstag.lazy import english_stop_words

    stop_words = english_stop_words()
    pieces: list[RawMention] = []
    pos = start
    part: list[str] = []
    for word in [*text.split(), ""]:
        if word and not (word.lower() in stop_words and word.lower() not in gaz.particles):
            part.append(word)
        elif part:
            piece = " ".join(part)
            p_start = full_text.find(piece, pos)
            pieces.append(RawMention(piece, p_start, p_start + len(piece), label, confirmed))
            pos, part = p_start + len(piece), []
    return pieces


def _vote_place_types(raws: list[RawMention]) -> None:
    """One sense per article: a name NER calls a place is a place wherever NER calls it an
    organisation, and wherever it calls it a person unless it mostly does ("Rhodes")."""
    place_label = {r.text: r.label for r in raws if r.label in ("GPE", "LOC")}
    votes = Counter((r.text, r.label in ("GPE", "LOC")) for r in raws)
    for raw in raws:
        if raw.text not in place_label:
            continue
        if raw.label == "ORG" or (
            raw.label == "PERSON"
            and " " not in raw.text
            and votes[(raw.text, True)] >= votes[(raw.text, False)]
        ):
            raw.label = place_label[raw.text]
