"""The TF-IDF channels' shared part: sparse rows, postings, fast query vectors, persistence."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from newstag.related.channels import Channel
from newstag.related.errors import RelatedError

if TYPE_CHECKING:
    from newstag.related.index import RelatedIndex
    from newstag.related.rows import Row


class TfidfChannel(Channel):
    """Cosine of TF-IDF rows; subclasses give the vectoriser (:meth:`vectorizer`).

    min_df: a term's minimum document frequency when fitting.
    query_max_df: query terms found in more than this share of the rows are left out
        (at 1,000 rows and more; see :meth:`similarities`).
    """

    stored_files: ClassVar[tuple[str, ...]] = ()

    def __init__(self, min_df: int = 1, query_max_df: float = 0.1) -> None:
        self.min_df = min_df
        self.query_max_df = query_max_df

    @classmethod
    def wanted(cls, params: dict[str, Any]) -> bool:
        return True

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Channel:
        return cls(min_df=params.get("min_df", 1), query_max_df=params.get("query_max_df", 0.1))

    def vectorizer(self) -> Any:  # pragma: no cover - abstract
        """A new scikit-learn ``TfidfVectorizer``."""
        raise NotImplementedError

    # -- rows --------------------------------------------------------------------

    def fit(self, texts: list[str], index: RelatedIndex | None = None) -> Channel:
        self.vec_ = self.vectorizer()
        try:
            self.vec_.fit(texts)
        except ValueError as exc:  # e.g. only stop words
            raise RelatedError(f"cannot index these headlines: {exc}") from exc
        self.start(index)
        return self

    def start(self, index: RelatedIndex | None) -> None:
        import numpy as np
        import scipy.sparse as sp

        self.rows_ = sp.csr_matrix((0, len(self.vec_.vocabulary_)), dtype=np.float32)
        self.reset()

    def append(self, rows: list[Row], texts: list[str], index: RelatedIndex) -> None:
        import scipy.sparse as sp

        self.rows_ = sp.vstack([self.rows_, self.vec_.transform(texts)], format="csr")
        self.reset()

    def n_rows(self) -> int:
        return int(self.rows_.shape[0])

    def n_features(self) -> int:
        """The vocabulary size."""
        return int(self.rows_.shape[1])

    def prepared(self) -> dict[str, Any]:
        """Query-time structures: the rows transposed (postings) and the analyzer."""
        if getattr(self, "prepared_", None) is None:
            self.prepared_ = {
                "postings": self.rows_.T.tocsr(),
                "analyzer": self.vec_.build_analyzer(),
            }
        return self.prepared_

    # -- querying ------------------------------------------------------------------

    def query_ids(self, pos: list[int], index: RelatedIndex) -> Any:
        return self.rows_[pos]

    def query_texts(self, texts: list[str], entities: list[list[str]], index: RelatedIndex) -> Any:
        """TF-IDF rows like ``TfidfVectorizer.transform`` without its per-call overhead."""
        import numpy as np
        import scipy.sparse as sp

        vec = self.vec_
        analyze, vocab, idf = self.prepared()["analyzer"], vec.vocabulary_, vec.idf_
        indptr, indices, data = [0], [], []
        for text in texts:
            counts: dict[int, int] = {}
            for term in analyze(text):
                j = vocab.get(term)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            cols = np.fromiter(counts, dtype=np.int32, count=len(counts))
            vals = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
            if vec.sublinear_tf:
                vals = 1.0 + np.log(vals)
            vals = vals * idf[cols]
            norm = float(np.sqrt((vals**2).sum()))
            indices.append(cols)
            data.append(vals / norm if norm else vals)
            indptr.append(indptr[-1] + len(cols))
        return sp.csr_matrix(
            (
                np.concatenate(data) if data else [],
                np.concatenate(indices) if indices else [],
                indptr,
            ),
            shape=(len(texts), len(vocab)),
            dtype=np.float32,
        )

    def similarities(self, queries: Any, index: RelatedIndex) -> Any:
        """Cosines of TF-IDF query rows with every row.

        Query terms found in more than ``query_max_df`` of the rows are left out: they carry
        little weight and make up most of the work at 100k headlines (the rows' norms are
        unchanged, so scores are slightly lower, never reordered by much).
        """
        import numpy as np

        q, postings = queries, self.prepared()["postings"]
        limit = self.query_max_df * postings.shape[1]
        if self.query_max_df < 1.0 and postings.shape[1] >= 1000:
            df = np.diff(postings.indptr)
            q = q.tocsr(copy=True)
            q.data[df[q.indices] > limit] = 0.0
            q.eliminate_zeros()
        if q.shape[0] == 1:  # one query: add up the postings of its terms
            rows = postings[q.indices]
            return np.asarray(rows.T @ q.data, dtype=np.float32)[None, :]
        return np.asarray((q @ postings).todense())

    def block(self, cand: Any, m: int, index: RelatedIndex) -> Any:
        import numpy as np

        x = dense_rows(self.rows_, cand)[1]
        return (x @ x[:m].T).astype(np.float32)

    # -- persistence ------------------------------------------------------------------

    def save(self, out: Path, tmp: Any) -> list[str]:
        import scipy.sparse as sp

        from newstag.related.vectorizers import save_vectorizers

        files = save_vectorizers(out, {self.name: self.vec_}, tmp)
        sp.save_npz(tmp(f"{self.name}.npz"), self.rows_, compressed=False)
        return files + [f"{self.name}.npz"]

    @classmethod
    def load(
        cls, src: Path, manifest: dict[str, Any], params: dict[str, Any], index: RelatedIndex
    ) -> Channel | None:
        from newstag.related.vectorizers import load_npz, load_vectorizer

        channel = cls.from_params(params)
        channel.rows_ = load_npz(src / f"{cls.name}.npz")
        channel.vec_ = load_vectorizer(src, cls.name)
        channel.reset()
        return channel

    def info(self) -> dict[str, Any]:
        return {f"{self.name}_features": self.n_features()}


def dense_rows(x: Any, pos: Any) -> tuple[Any, Any]:
    """Rows ``pos`` of a CSR matrix as a dense array over the columns they use, and those columns.

    Much faster than scipy's row indexing and product for a few dozen rows.
    """
    import numpy as np

    starts, ends = x.indptr[pos], x.indptr[np.asarray(pos) + 1]
    lens = ends - starts
    row = np.repeat(np.arange(len(lens)), lens)
    offs = (
        np.arange(int(lens.sum()))
        - np.repeat(np.cumsum(lens) - lens, lens)
        + np.repeat(starts, lens)
    )
    cols, inv = np.unique(x.indices[offs], return_inverse=True)
    dense = np.zeros((len(lens), len(cols)), dtype=np.float32)
    np.add.at(dense, (row, inv), x.data[offs])
    return cols, dense
