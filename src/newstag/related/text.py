"""Text helpers shared by the channels: word terms, entity keys, numbers, token matching."""

from __future__ import annotations

import re
from typing import Any

TERM = re.compile(r"(?u)\b\w\w+\b")
NUMBER = re.compile(r"\d+")
NAME_STOP = {"the", "of", "and", "for", "de", "al", "mr", "mrs", "ms", "dr", "st"}
_SUFFIXES = ("ings", "ing", "edly", "ed", "es", "s")
_STOP: frozenset[str] | None = None


def stop_words() -> frozenset[str]:
    """scikit-learn's English stop words (loaded on first use)."""
    global _STOP
    if _STOP is None:
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        _STOP = frozenset(ENGLISH_STOP_WORDS)
    return _STOP


def stem(word: str) -> str:
    """``word`` without its first matching suffix (-ings, -ing, -edly, -ed, -es, -s)."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def word_terms(text: str) -> list[str]:
    """Lower-cased, lightly stemmed words of ``text`` without English stop words."""
    stop = stop_words()
    return [stem(w) for w in TERM.findall(text.lower().replace("\u2019", "'")) if w not in stop]


def entity_key(name: str) -> str:
    """An entity name lower-cased with single spaces."""
    return " ".join(name.lower().split())


def entity_keys(name: str) -> list[str]:
    """Index keys of an entity: its full canonical name and each of its words.

    The words let "Kerry" match "John Kerry" and "Korea" match "North Korea" across articles
    (the extractor unifies such forms only within one article); IDF keeps "North" cheap.
    """
    full = entity_key(name)
    words = [w for w in TERM.findall(full) if w not in NAME_STOP]
    return [full] + [f"~{w}" for w in words if f"~{w}" != full]


def row_keys(entities: list[list[str]]) -> set[str]:
    """The entity keys of a row's ``[[name, type], ...]``."""
    return {key for name, *_ in entities for key in entity_keys(name)}


def norm_headline(text: str) -> str:
    """A headline lower-cased down to its words (to spot copies)."""
    return " ".join(TERM.findall(text.lower()))


def token_match(a: Any, b: Any) -> float:
    """BERTScore-style F1 of two texts' token vectors: each token's best cosine in the other
    text, averaged both ways."""
    sim = a @ b.T
    p, r = float(sim.max(axis=1).mean()), float(sim.max(axis=0).mean())
    return 0.0 if p + r <= 0 else 2 * p * r / (p + r)
