"""TF-IDF vectorisers kept as data (no pickle), and reading sparse matrices."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


class StoredVectorizer:
    """A fitted TF-IDF vectoriser kept as data (:class:`~newstag.tagging.tfidf.TfidfTable`),
    with the attributes of scikit-learn's ``TfidfVectorizer`` this module uses."""

    def __init__(self, table: Any) -> None:
        self.table = table

    @property
    def vocabulary_(self) -> dict[str, int]:
        return self.table.vocabulary

    @property
    def idf_(self) -> Any:
        return self.table.idf

    @property
    def sublinear_tf(self) -> bool:
        return bool(self.table.settings.get("sublinear_tf"))

    def build_analyzer(self) -> Any:
        return self.table.analyzer()

    def transform(self, texts: list[str]) -> Any:
        """TF-IDF rows as SciPy CSR, as ``TfidfVectorizer.transform``."""
        return self.table.transform(texts).to_scipy()


def vectorizer_table(vec: Any, name: str) -> Any:
    """The :class:`~newstag.tagging.tfidf.TfidfTable` of a fitted or stored vectoriser."""
    from newstag.tagging.tfidf import TfidfTable

    if isinstance(vec, StoredVectorizer):
        return vec.table
    return TfidfTable.from_sklearn(vec, analyzer="related_words" if name == "word" else None)


def save_vectorizers(out: Path, vecs: dict[str, Any], tmp: Any) -> list[str]:
    """Write each vectoriser as ``vocab-NAME.*`` (settings JSON, terms, IDF array) through
    temporary names; returns the final names (moved into place by the caller)."""
    names = []
    staging = out / ".tmp-vocab"
    staging.mkdir(exist_ok=True)
    for name, vec in vecs.items():
        for path in vectorizer_table(vec, name).save(staging, f"vocab-{name}"):
            os.replace(path, tmp(path.name))
            names.append(path.name)
    staging.rmdir()
    return names


def load_vectorizer(src: Path, name: str) -> StoredVectorizer:
    """The vectoriser ``vocab-NAME.*`` of an index directory."""
    from newstag.tagging.tfidf import TfidfTable

    return StoredVectorizer(TfidfTable.load(src, f"vocab-{name}"))


def load_npz(path: Path) -> Any:
    """A SciPy sparse matrix saved by ``save_npz``, read without unpickling."""
    import scipy.sparse as sp

    return sp.load_npz(path).tocsr()  # load_npz reads with allow_pickle=False
