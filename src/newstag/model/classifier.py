"""The text classifier: word and character n-gram TF-IDF plus entity features, one-vs-rest.

The vectoriser and the linear models are separate so the combiner's held-out folds can
refit the linear part on a fixed feature matrix. Weights are kept as a sparse float32
matrix (small weights pruned), so a bundle with thousands of tags stays small.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp


def _entity_tokens(names: list[str]) -> list[str]:
    return names


class FeatureBuilder:
    """Turn texts and entity names into one sparse TF-IDF matrix.

    Parameters: ``word_ngrams``, ``char_ngrams`` (``None`` turns characters off),
    ``max_word_features``, ``max_char_features``, ``min_df``, ``entity_weight``
    (scale of the entity block relative to the text blocks).
    """

    def __init__(self, word_ngrams: tuple[int, int] = (1, 2),
                 char_ngrams: tuple[int, int] | None = (3, 5),
                 max_word_features: int | None = 200_000, max_char_features: int | None = 100_000,
                 min_df: int = 2, entity_weight: float = 0.5) -> None:
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.max_word_features = max_word_features
        self.max_char_features = max_char_features
        self.min_df = min_df
        self.entity_weight = entity_weight

    def fit(self, texts: Sequence[str], entity_names: Sequence[list[str]]) -> FeatureBuilder:
        self.fit_transform(texts, entity_names)
        return self

    def fit_transform(self, texts: Sequence[str],
                      entity_names: Sequence[list[str]]) -> sp.csr_matrix:
        from sklearn.feature_extraction.text import TfidfVectorizer

        min_df = self.min_df if len(texts) >= 10 * self.min_df else 1
        self.word_ = TfidfVectorizer(ngram_range=self.word_ngrams, sublinear_tf=True,
                                     min_df=min_df, max_features=self.max_word_features,
                                     dtype=np.float32, strip_accents="unicode")
        blocks = [self.word_.fit_transform(texts)]
        self.char_ = None
        if self.char_ngrams:
            self.char_ = TfidfVectorizer(analyzer="char_wb", ngram_range=self.char_ngrams,
                                         sublinear_tf=True, min_df=min_df,
                                         max_features=self.max_char_features, dtype=np.float32,
                                         lowercase=True)
            blocks.append(self.char_.fit_transform(texts))
        self.ent_ = TfidfVectorizer(analyzer=_entity_tokens, min_df=1, dtype=np.float32,
                                    sublinear_tf=True)
        blocks.append(self.ent_.fit_transform(entity_names) * self.entity_weight)
        return self._stack(blocks)

    def transform(self, texts: Sequence[str], entity_names: Sequence[list[str]]) -> sp.csr_matrix:
        blocks = [self.word_.transform(texts)]
        if self.char_ is not None:
            blocks.append(self.char_.transform(texts))
        blocks.append(self.ent_.transform(entity_names) * self.entity_weight)
        return self._stack(blocks)

    @staticmethod
    def _stack(blocks: list[Any]) -> sp.csr_matrix:
        n = len(blocks) - 1
        scale = 1.0 / np.sqrt(max(n, 1))  # text blocks share unit norm
        scaled = [b * scale for b in blocks[:-1]] + [blocks[-1]]
        return sp.hstack(scaled, format="csr", dtype=np.float32)

    def feature_names(self) -> np.ndarray:
        names = [np.asarray(self.word_.get_feature_names_out(), dtype=object)]
        if self.char_ is not None:
            names.append(np.asarray([f"“{n}”" for n in self.char_.get_feature_names_out()],
                                    dtype=object))
        names.append(np.asarray([f"entity:{n}" for n in self.ent_.get_feature_names_out()],
                                dtype=object))
        return np.concatenate(names)


class LinearOvR:
    """One linear SVM per label on a fixed feature matrix; weights pruned and sparse.

    Parameters: ``C``, ``class_weight``, ``prune`` (keep only this many largest weights per
    label; 0 keeps all), ``n_jobs``.
    """

    def __init__(self, C: float = 0.5, class_weight: str | None = None, prune: int = 2000,
                 n_jobs: int = 1) -> None:
        self.C = C
        self.class_weight = class_weight
        self.prune = prune
        self.n_jobs = n_jobs

    def fit(self, X: sp.csr_matrix, Y: sp.csc_matrix, labels: Sequence[str]) -> LinearOvR:
        from joblib import Parallel, delayed

        Y = sp.csc_matrix(Y)
        cols = [np.asarray(Y[:, j].toarray()).ravel() for j in range(Y.shape[1])]
        chunks = [list(range(i, len(cols), max(self.n_jobs, 1))) for i in
                  range(max(self.n_jobs, 1))]
        results = Parallel(n_jobs=self.n_jobs, prefer="threads" if self.n_jobs == 1 else None)(
            delayed(_fit_many)(X, [cols[j] for j in chunk], self.C, self.class_weight,
                               self.prune) for chunk in chunks)
        rows: list[Any] = [None] * len(cols)
        bias = np.zeros(len(cols), dtype=np.float32)
        for chunk, (ws, bs) in zip(chunks, results, strict=True):
            for j, w, b in zip(chunk, ws, bs, strict=True):
                rows[j], bias[j] = w, b
        self.coef_ = sp.vstack(rows, format="csr", dtype=np.float32) if rows else \
            sp.csr_matrix((0, X.shape[1]), dtype=np.float32)
        self.intercept_ = bias
        self.labels_ = list(labels)
        return self

    def decision_function(self, X: sp.csr_matrix) -> np.ndarray:
        # X @ coef_.T reads only the weights of the article's own terms; with sorted terms on
        # both sides each label's sum adds up in the same order as coef_ @ X.T did
        X = sp.csr_matrix(X)
        if not X.has_sorted_indices:
            X = X.sorted_indices()
        if "_coef_T" not in self.__dict__:
            self._coef_T = transposed(self.coef_)
        scores = (X @ self._coef_T).toarray()
        return np.asarray(scores + self.intercept_, dtype=np.float32)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_coef_T", None)  # rebuilt after loading
        return state


def transposed(M: sp.csr_matrix) -> sp.csr_matrix:
    """``M`` transposed as CSR with sorted indices (a product's postings, built once)."""
    if not M.has_canonical_format:
        M = M.copy()
        M.sum_duplicates()
    return M.T.tocsr()


def _fit_many(X: sp.csr_matrix, ys: list[np.ndarray], C: float, class_weight: str | None,
              prune: int) -> tuple[list[sp.csr_matrix], list[float]]:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    ws, bs = [], []
    for y in ys:
        if y.min() == y.max():
            ws.append(sp.csr_matrix((1, X.shape[1]), dtype=np.float32))
            bs.append(1.0 if y.max() else -1.0)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            svm = LinearSVC(C=C, class_weight=class_weight, max_iter=2000,
                            random_state=0).fit(X, y)
        w = svm.coef_.ravel().astype(np.float32)
        if prune and prune < len(w):
            cut = np.partition(np.abs(w), len(w) - prune)[len(w) - prune]
            w[np.abs(w) < cut] = 0.0
        ws.append(sp.csr_matrix(w))
        bs.append(float(svm.intercept_[0]))
    return ws, bs


class KNNTags:
    """Tag votes of the ``k`` most similar training articles (cosine on TF-IDF).

    Training vectors keep only their ``max_terms`` largest weights, so the bundle stays small.
    Scoring multiplies the query by the transposed training matrix (terms x documents, built
    once per process and not pickled), so a query reads only the postings of its own terms.
    """

    def __init__(self, k: int = 20, max_terms: int = 100) -> None:
        self.k = k
        self.max_terms = max_terms

    def fit(self, X: sp.csr_matrix, tags: Sequence[Sequence[str]]) -> KNNTags:
        from sklearn.preprocessing import normalize

        X = sp.csr_matrix(X, dtype=np.float32, copy=True)
        for i in range(X.shape[0]):
            lo, hi = X.indptr[i], X.indptr[i + 1]
            if hi - lo > self.max_terms:
                row = X.data[lo:hi]
                cut = np.partition(row, hi - lo - self.max_terms)[hi - lo - self.max_terms]
                row[row < cut] = 0.0
        X.eliminate_zeros()
        self.X_ = normalize(X).astype(np.float32)
        self.X_.sum_duplicates()  # canonical: sorted terms per document
        self.__dict__.pop("_XT", None)
        self.labels_ = sorted({t for ts in tags for t in ts})
        index = {t: j for j, t in enumerate(self.labels_)}
        r = [i for i, ts in enumerate(tags) for t in ts]
        c = [index[t] for ts in tags for t in ts]
        self.Y_ = sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)),
                                shape=(len(tags), len(self.labels_)))
        return self

    def scores(self, X: sp.csr_matrix, chunk: int = 512) -> sp.csr_matrix:
        """Similarity-weighted share of the ``k`` neighbours carrying each tag (sparse)."""
        X = self._normalized(X)
        X.sum_duplicates()  # sorted terms: each similarity adds up in the order of X_'s rows
        XT = self._transposed()
        out = []
        k = min(self.k, self.X_.shape[0])
        for start in range(0, X.shape[0], chunk):
            # block @ X_.T visits only the training documents that share a term with the
            # block; it adds each document's products in increasing term order in float32,
            # as X_ @ block.T did, so the similarities are bit-for-bit the same
            sims = (X[start:start + chunk] @ XT).toarray()
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            rows = np.repeat(np.arange(sims.shape[0]), k)
            vals = np.take_along_axis(sims, top, axis=1)
            W = sp.csr_matrix((vals.ravel(), (rows, top.ravel())), shape=sims.shape)
            votes = W @ self.Y_
            total = np.asarray(vals.sum(axis=1)).ravel()
            total[total == 0] = 1.0
            out.append(sp.csr_matrix(votes.multiply(1.0 / total[:, None])))
        if len(out) == 1:
            return out[0]
        return sp.vstack(out, format="csr") if out else sp.csr_matrix((0, len(self.labels_)))

    @staticmethod
    def _normalized(X: Any) -> sp.csr_matrix:
        """A float32 CSR copy of ``X`` with unit rows: sklearn's ``normalize`` without its
        input checks (~0.3 ms a call, more than the normalising itself)."""
        try:
            from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2
        except ImportError:  # pragma: no cover (a future scikit-learn)
            from sklearn.preprocessing import normalize

            return normalize(sp.csr_matrix(X, dtype=np.float32))
        X = sp.csr_matrix(X, dtype=np.float32, copy=True)
        inplace_csr_row_normalize_l2(X)
        return X

    def _transposed(self) -> sp.csr_matrix:
        """``X_`` transposed as CSR (terms x documents), built on first use (~0.1 s)."""
        XT = self.__dict__.get("_XT")
        if XT is None:
            XT = self._XT = transposed(self.X_)
        return XT

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_XT", None)  # rebuilt from X_ after loading
        return state
