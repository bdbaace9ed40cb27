"""TF-IDF vectorising from stored vocabularies, without scikit-learn.

:class:`TfidfTable` holds what a fitted ``TfidfVectorizer`` needs to transform text (its
analyser settings, vocabulary and IDF) as JSON and an array, and transforms text exactly
as ``TfidfVectorizer.transform`` does for the analysers newstag uses: ``word`` (lower
case, optional accent stripping, token pattern, word n-grams), ``char_wb`` (character
n-grams inside word boundaries), ``names`` (a list of strings taken as they are) and
``related_words`` (:func:`newstag.related.word_terms`).
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from newstag.tagging.arrays import CSR, load_array, load_json, save_array, save_json

_WHITE_SPACES = re.compile(r"\s\s+")
ANALYZERS = ("word", "char_wb", "names", "related_words")


def strip_accents_unicode(text: str) -> str:
    """Decompose and drop combining marks (scikit-learn's ``strip_accents="unicode"``)."""
    if text.isascii():
        return text
    normalized = unicodedata.normalize("NFKD", text)
    return "".join(c for c in normalized if not unicodedata.combining(c))


def word_ngrams(tokens: list[str], ngram_range: tuple[int, int]) -> list[str]:
    """Tokens and their n-grams, in scikit-learn's order."""
    min_n, max_n = ngram_range
    if max_n == 1:
        return tokens
    out = list(tokens) if min_n == 1 else []
    for n in range(max(min_n, 2), min(max_n + 1, len(tokens) + 1)):
        out += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return out


def char_wb_ngrams(text: str, ngram_range: tuple[int, int]) -> list[str]:
    """Character n-grams within space-padded words (scikit-learn's ``char_wb``)."""
    min_n, max_n = ngram_range
    out: list[str] = []
    for w in _WHITE_SPACES.sub(" ", text).split():
        w = f" {w} "
        for n in range(min_n, max_n + 1):
            offset = 0
            out.append(w[:n])
            while offset + n < len(w):
                offset += 1
                out.append(w[offset : offset + n])
            if offset == 0:  # a short word counts once
                break
    return out


class TfidfTable:
    """A fitted TF-IDF vectoriser as data: settings, vocabulary (sorted terms) and IDF."""

    def __init__(self, settings: dict[str, Any], terms: list[str], idf: np.ndarray) -> None:
        if settings.get("analyzer") not in ANALYZERS:
            raise ValueError(f"unknown analyzer {settings.get('analyzer')!r}")
        self.settings = settings
        self.terms = terms
        self.idf = idf
        self._vocab: dict[str, int] | None = None
        self._analyze: Callable[[Any], list[str]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Without the caches (the analyser is a closure): picklable for process pools."""
        return {**self.__dict__, "_vocab": None, "_analyze": None}

    @classmethod
    def from_sklearn(cls, vec: Any, analyzer: str | None = None) -> TfidfTable:
        """The table of a fitted ``TfidfVectorizer``; ``analyzer`` names a callable one."""
        name = analyzer or vec.analyzer
        settings = {
            "analyzer": name,
            "ngram_range": list(vec.ngram_range),
            "lowercase": bool(vec.lowercase),
            "strip_accents": vec.strip_accents,
            "token_pattern": vec.token_pattern,
            "sublinear_tf": bool(vec.sublinear_tf),
            "norm": vec.norm,
            "use_idf": bool(vec.use_idf),
            "dtype": "float32",
        }
        vocab = vec.vocabulary_
        terms = [""] * len(vocab)
        for term, j in vocab.items():
            terms[j] = term
        return cls(settings, terms, np.asarray(vec.idf_, dtype=np.float32))

    @property
    def vocabulary(self) -> dict[str, int]:
        if self._vocab is None:
            self._vocab = dict(zip(self.terms, range(len(self.terms)), strict=True))
        return self._vocab

    def __len__(self) -> int:
        return len(self.terms)

    def analyzer(self) -> Callable[[Any], list[str]]:
        """The function from a document to its terms."""
        if self._analyze is None:
            self._analyze = self._build_analyzer()
        return self._analyze

    def _build_analyzer(self) -> Callable[[Any], list[str]]:
        s = self.settings
        kind = s["analyzer"]
        if kind == "names":
            return list
        if kind == "related_words":
            from newstag.related import word_terms

            return word_terms
        lower = s.get("lowercase", True)
        accents = strip_accents_unicode if s.get("strip_accents") == "unicode" else None
        if s.get("strip_accents") not in (None, "unicode"):
            raise ValueError(f"unsupported strip_accents {s.get('strip_accents')!r}")
        ngram_range = (int(s["ngram_range"][0]), int(s["ngram_range"][1]))

        def prepare(doc: str) -> str:
            doc = doc.lower() if lower else doc
            return accents(doc) if accents else doc

        if kind == "char_wb":
            return lambda doc: char_wb_ngrams(prepare(doc), ngram_range)
        token = re.compile(s["token_pattern"])
        return lambda doc: word_ngrams(token.findall(prepare(doc)), ngram_range)

    def counts(self, doc: Any) -> tuple[np.ndarray, np.ndarray]:
        """Sorted vocabulary columns of a document's terms and their counts."""
        vocab = self.vocabulary
        found: dict[int, int] = {}
        for term in self.analyzer()(doc):
            j = vocab.get(term)
            if j is not None:
                found[j] = found.get(j, 0) + 1
        cols = np.fromiter(found, dtype=np.int32, count=len(found))
        vals = np.fromiter(found.values(), dtype=np.float32, count=len(found))
        order = np.argsort(cols, kind="stable")
        return cols[order], vals[order]

    def transform(self, docs: Sequence[Any]) -> CSR:
        """TF-IDF rows (float32, sorted columns), as ``TfidfVectorizer.transform``."""
        from newstag.tagging.arrays import normalize_rows

        rows = []
        for doc in docs:
            cols, vals = self.counts(doc)
            if self.settings.get("sublinear_tf"):
                vals = np.log(vals) + np.float32(1.0)
            if self.settings.get("use_idf", True):
                vals = vals * self.idf[cols]
            rows.append((cols, vals))
        X = CSR.from_rows(rows, len(self.terms))
        return normalize_rows(X) if self.settings.get("norm") == "l2" else X

    def save(self, folder: Path, name: str) -> list[Path]:
        """``name.json`` (settings), ``name.idf.npy`` and the terms in column order in
        ``name.terms.txt.gz``, one a line (or split by U+001F when a term holds a line
        break; JSON if one holds both)."""
        sep = next((c for c in ("\n", "\x1f") if not any(c in t for t in self.terms)), None)
        files = [
            save_json(folder / f"{name}.json", {**self.settings, "terms_separator": sep}),
            save_array(folder / f"{name}.idf.npy", self.idf),
        ]
        if sep is None:
            return [*files, save_json(folder / f"{name}.terms.json.gz", self.terms)]
        path = folder / f"{name}.terms.txt.gz"
        with gzip.GzipFile(path, "wb", compresslevel=6, mtime=0) as fh:
            fh.write(sep.join(self.terms).encode("utf-8"))
        return [*files, path]

    @classmethod
    def load(cls, folder: Path, name: str) -> TfidfTable:
        settings = load_json(folder / f"{name}.json")
        sep = settings.pop("terms_separator", None)
        if sep is None:
            terms = load_json(folder / f"{name}.terms.json.gz")
        else:
            with gzip.open(folder / f"{name}.terms.txt.gz", "rb") as fh:
                data = fh.read().decode("utf-8")
            terms = data.split(sep) if data else []
        return cls(settings, terms, load_array(folder / f"{name}.idf.npy"))
