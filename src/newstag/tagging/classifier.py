"""The text classifier: word and character n-gram TF-IDF plus entity features, one-vs-rest.

The vectoriser and the linear models are separate so the combiner's held-out folds can
refit the linear part on a fixed feature matrix. Weights are kept as a sparse float32
matrix (small weights pruned), so a bundle with thousands of tags stays small.

Training uses scikit-learn and SciPy; a fitted part keeps what scoring needs as numpy
arrays (:mod:`.arrays`, :mod:`.tfidf`), saves them as ``.npy`` + JSON and scores new
articles with numpy alone, with the same float32 arithmetic as the SciPy products.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from newstag.tagging.arrays import (
    CSR,
    load_array,
    load_json,
    normalize_rows,
    postings_sum,
    save_array,
    save_json,
)
from newstag.tagging.estimator import Estimator
from newstag.tagging.tfidf import TfidfTable

BLOCKS = ("word", "char", "ent")


def _entity_tokens(names: list[str]) -> list[str]:
    return names


def _is_scipy(X: Any) -> bool:
    return hasattr(X, "tocsr")


class FeatureBuilder(Estimator):
    """Turn texts and entity names into one sparse TF-IDF matrix.

    Parameters: ``word_ngrams``, ``char_ngrams`` (``None`` turns characters off),
    ``max_word_features``, ``max_char_features``, ``min_df``, ``entity_weight``
    (scale of the entity block relative to the text blocks).
    """

    def __init__(
        self,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] | None = None,
        max_word_features: int | None = 200_000,
        max_char_features: int | None = 100_000,
        min_df: int = 2,
        entity_weight: float = 0.1,
    ) -> None:
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.max_word_features = max_word_features
        self.max_char_features = max_char_features
        self.min_df = min_df
        self.entity_weight = entity_weight

    def fit(self, texts: Sequence[str], entity_names: Sequence[list[str]]) -> FeatureBuilder:
        self.fit_transform(texts, entity_names)
        return self

    def fit_transform(self, texts: Sequence[str], entity_names: Sequence[list[str]]) -> Any:
        """Fit the vectorisers (scikit-learn) and return the SciPy feature matrix."""
        import scipy.sparse as sp
        from sklearn.feature_extraction.text import TfidfVectorizer

        min_df = self.min_df if len(texts) >= 10 * self.min_df else 1
        self.word_ = TfidfVectorizer(
            ngram_range=self.word_ngrams,
            sublinear_tf=True,
            min_df=min_df,
            max_features=self.max_word_features,
            dtype=np.float32,
            strip_accents="unicode",
        )
        blocks = [self.word_.fit_transform(texts)]
        self.char_ = None
        if self.char_ngrams:
            self.char_ = TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=self.char_ngrams,
                sublinear_tf=True,
                min_df=min_df,
                max_features=self.max_char_features,
                dtype=np.float32,
                lowercase=True,
            )
            blocks.append(self.char_.fit_transform(texts))
        self.ent_ = TfidfVectorizer(
            analyzer=_entity_tokens, min_df=1, dtype=np.float32, sublinear_tf=True
        )
        blocks.append(self.ent_.fit_transform(entity_names) * self.entity_weight)
        self.compile()
        n = len(blocks) - 1
        scale = 1.0 / np.sqrt(max(n, 1))  # text blocks share unit norm
        scaled = [b * scale for b in blocks[:-1]] + [blocks[-1]]
        return sp.hstack(scaled, format="csr", dtype=np.float32)

    def compile(self) -> None:
        """Keep the fitted vectorisers as :class:`TfidfTable` data (also for old bundles)."""
        if "word_" not in self.__dict__:  # compiled already
            return
        tables = {"word": TfidfTable.from_sklearn(self.word_)}
        if getattr(self, "char_", None) is not None:
            tables["char"] = TfidfTable.from_sklearn(self.char_)
        tables["ent"] = TfidfTable.from_sklearn(self.ent_, analyzer="names")
        self.tables_ = tables
        for attr in ("word_", "char_", "ent_", "_names_cache"):
            self.__dict__.pop(attr, None)

    def transform(self, texts: Sequence[str], entity_names: Sequence[list[str]]) -> CSR:
        """The feature rows of articles (numpy CSR), as the training matrix was built."""
        text_blocks = [
            self.tables_[b].transform(texts) for b in ("word", "char") if b in self.tables_
        ]
        ent = self.tables_["ent"].transform(entity_names)
        scale = 1.0 / np.sqrt(max(len(text_blocks), 1))
        blocks = [(X, lambda d: (d * scale).astype(np.float32)) for X in text_blocks]
        blocks.append((ent, lambda d: (d * self.entity_weight).astype(np.float32)))
        return _hstack(blocks, len(texts))

    def feature_names(self) -> np.ndarray:
        names = [np.asarray(self.tables_["word"].terms, dtype=object)]
        if "char" in self.tables_:
            names.append(np.asarray([f"“{n}”" for n in self.tables_["char"].terms], dtype=object))
        names.append(np.asarray([f"entity:{n}" for n in self.tables_["ent"].terms], dtype=object))
        return np.concatenate(names)

    @property
    def n_features(self) -> int:
        return sum(len(t) for t in self.tables_.values())

    def save(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in self.init_params().items()}
        files = [save_json(folder / "meta.json", {"params": params, "blocks": list(self.tables_)})]
        for name, table in self.tables_.items():
            files += table.save(folder, name)
        return files

    @classmethod
    def load(cls, folder: Path) -> FeatureBuilder:
        meta = load_json(folder / "meta.json")
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["params"].items()}
        builder = cls(**params)
        builder.tables_ = {name: TfidfTable.load(folder, name) for name in meta["blocks"]}
        return builder


def _hstack(blocks: list[tuple[CSR, Any]], n_rows: int) -> CSR:
    """Rows of the blocks side by side (columns offset), each block's values scaled."""
    rows = []
    for i in range(n_rows):
        cols, vals, offset = [], [], 0
        for X, scale in blocks:
            c, v = X.row(i)
            cols.append(c.astype(np.int32) + offset)
            vals.append(scale(v))
            offset += X.shape[1]
        rows.append((np.concatenate(cols), np.concatenate(vals)))
    return CSR.from_rows(rows, sum(X.shape[1] for X, _ in blocks))


class LinearOvR(Estimator):
    """One linear SVM per label on a fixed feature matrix; weights pruned and sparse.

    Parameters: ``C``, ``class_weight``, ``prune`` (keep only this many largest weights per
    label; 0 keeps all), ``n_jobs``. ``coef_`` is a numpy :class:`CSR` (labels x features).
    """

    def __init__(
        self, C: float = 1.0, class_weight: str | None = None, prune: int = 2000, n_jobs: int = 1
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.prune = prune
        self.n_jobs = n_jobs

    def fit(self, X: Any, Y: Any, labels: Sequence[str]) -> LinearOvR:
        import scipy.sparse as sp
        from joblib import Parallel, delayed

        Y = sp.csc_matrix(Y)
        cols = [np.asarray(Y[:, j].toarray()).ravel() for j in range(Y.shape[1])]
        chunks = [
            list(range(i, len(cols), max(self.n_jobs, 1))) for i in range(max(self.n_jobs, 1))
        ]
        results = Parallel(n_jobs=self.n_jobs, prefer="threads" if self.n_jobs == 1 else None)(
            delayed(_fit_many)(X, [cols[j] for j in chunk], self.C, self.class_weight, self.prune)
            for chunk in chunks
        )
        rows: list[Any] = [None] * len(cols)
        bias = np.zeros(len(cols), dtype=np.float32)
        for chunk, (ws, bs) in zip(chunks, results, strict=True):
            for j, w, b in zip(chunk, ws, bs, strict=True):
                rows[j], bias[j] = w, b
        self.coef_ = (
            sp.vstack(rows, format="csr", dtype=np.float32)
            if rows
            else sp.csr_matrix((0, X.shape[1]), dtype=np.float32)
        )
        self.intercept_ = bias
        self.labels_ = list(labels)
        self.compile()
        return self

    def compile(self) -> None:
        """Keep the weights as a numpy CSR (also for a bundle saved as a pickle)."""
        if _is_scipy(self.coef_):
            self.coef_ = CSR.from_scipy(self.coef_)
        self.intercept_ = np.asarray(self.intercept_, dtype=np.float32)
        for attr in ("_coef_T", "_index", "_coef_postings"):
            self.__dict__.pop(attr, None)

    def label_index(self) -> dict[str, int]:
        """Label -> row of ``coef_`` (built on first use)."""
        index = self.__dict__.get("_index")
        if index is None:
            index = self._index = {t: j for j, t in enumerate(self.labels_)}
        return index

    def decision_function(self, X: Any) -> np.ndarray:
        """Scores (articles x labels); SciPy input (training) takes the SciPy product."""
        if _is_scipy(X):
            return self._decision_scipy(X)
        weights = self._postings()
        out = np.zeros((X.shape[0], len(self.labels_)), dtype=np.float32)
        for i in range(X.shape[0]):
            # each label adds the products of the article's terms in increasing term order,
            # as SciPy's product did
            out[i] = postings_sum(*X.row(i), weights)
        return np.asarray(out + self.intercept_, dtype=np.float32)

    def _postings(self) -> CSR:
        """The weights transposed (term -> labels), built on first use (a few ms)."""
        weights = self.__dict__.get("_coef_postings")
        if weights is None:
            coef = self.coef_
            order = np.argsort(coef.indices, kind="stable")  # by term, then label
            labels = np.repeat(np.arange(coef.shape[0], dtype=np.int32), np.diff(coef.indptr))
            indptr = np.zeros(coef.shape[1] + 1, dtype=np.int64)
            np.cumsum(np.bincount(coef.indices, minlength=coef.shape[1]), out=indptr[1:])
            weights = self._coef_postings = CSR(
                indptr, labels[order], np.asarray(coef.data)[order], (coef.shape[1], coef.shape[0])
            )
        return weights

    def _decision_scipy(self, X: Any) -> np.ndarray:
        import scipy.sparse as sp

        # X @ coef_.T reads only the weights of the article's own terms; with sorted terms on
        # both sides each label's sum adds up in the same order as coef_ @ X.T did
        X = sp.csr_matrix(X)
        if not X.has_sorted_indices:
            X = X.sorted_indices()
        if "_coef_T" not in self.__dict__:
            self._coef_T = transposed(self.coef_.to_scipy())
        scores = (X @ self._coef_T).toarray()
        return np.asarray(scores + self.intercept_, dtype=np.float32)

    def save(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "params": self.init_params(),
            "labels": self.labels_,
            "shape": list(self.coef_.shape),
        }
        return [
            save_json(folder / "meta.json", meta),
            *self.coef_.save(folder, "coef"),
            save_array(folder / "intercept.npy", self.intercept_),
        ]

    @classmethod
    def load(cls, folder: Path) -> LinearOvR:
        meta = load_json(folder / "meta.json")
        clf = cls(**meta["params"])
        clf.labels_ = list(meta["labels"])
        clf.coef_ = CSR.load(folder, "coef", tuple(meta["shape"]))
        clf.intercept_ = load_array(folder / "intercept.npy")
        return clf


def transposed(M: Any) -> Any:
    """``M`` (SciPy CSR) transposed as CSR with sorted indices (a product's postings)."""
    if not M.has_canonical_format:
        M = M.copy()
        M.sum_duplicates()
    return M.T.tocsr()


def _fit_many(
    X: Any, ys: list[np.ndarray], C: float, class_weight: str | None, prune: int
) -> tuple[list[Any], list[float]]:
    import warnings

    import scipy.sparse as sp
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
            svm = LinearSVC(C=C, class_weight=class_weight, max_iter=2000, random_state=0).fit(X, y)
        w = svm.coef_.ravel().astype(np.float32)
        if prune and prune < len(w):
            cut = np.partition(np.abs(w), len(w) - prune)[len(w) - prune]
            w[np.abs(w) < cut] = 0.0
        ws.append(sp.csr_matrix(w))
        bs.append(float(svm.intercept_[0]))
    return ws, bs


class KNNTags(Estimator):
    """Tag votes of the ``k`` most similar training articles (cosine on TF-IDF).

    Training vectors keep only their ``max_terms`` largest weights, so the bundle stays small.
    They are kept transposed (``postings_``: terms x documents, memory-mapped when loaded),
    so a query reads only the postings of its own terms; ``tags_`` is documents x labels.
    """

    def __init__(self, k: int = 20, max_terms: int = 100) -> None:
        self.k = k
        self.max_terms = max_terms

    def fit(self, X: Any, tags: Sequence[Sequence[str]]) -> KNNTags:
        import scipy.sparse as sp
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
        self.labels_ = sorted({t for ts in tags for t in ts})
        index = {t: j for j, t in enumerate(self.labels_)}
        r = [i for i, ts in enumerate(tags) for t in ts]
        c = [index[t] for ts in tags for t in ts]
        self.Y_ = sp.csr_matrix(
            (np.ones(len(r), dtype=np.float32), (r, c)), shape=(len(tags), len(self.labels_))
        )
        self.compile()
        return self

    def compile(self) -> None:
        """Keep the training vectors as postings and the tags as numpy CSR."""
        if "X_" not in self.__dict__:  # compiled already
            return
        n_docs = self.X_.shape[0]
        doc_dtype = np.uint16 if n_docs <= np.iinfo(np.uint16).max else np.int32
        self.postings_ = CSR.from_scipy(transposed(self.X_), index_dtype=doc_dtype)
        label_dtype = np.uint16 if self.Y_.shape[1] <= np.iinfo(np.uint16).max else np.int32
        self.tags_ = CSR.from_scipy(self.Y_, index_dtype=label_dtype)
        for attr in ("X_", "Y_", "_XT", "_scipy"):
            self.__dict__.pop(attr, None)

    @property
    def n_docs(self) -> int:
        return self.postings_.shape[1]

    def scores(self, X: Any, chunk: int = 512) -> Any:
        """Similarity-weighted share of the ``k`` neighbours carrying each tag (sparse)."""
        if _is_scipy(X):
            return self._scores_scipy(X, chunk)
        X = normalize_rows(X)
        k = min(self.k, self.n_docs)
        rows = []
        for start in range(0, X.shape[0], chunk):
            stop = min(start + chunk, X.shape[0])
            sims = np.stack([postings_sum(*X.row(i), self.postings_) for i in range(start, stop)])
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            vals = np.take_along_axis(sims, top, axis=1)
            total = np.asarray(vals.sum(axis=1)).ravel()
            total[total == 0] = 1.0
            inverse = 1.0 / total
            for r in range(stop - start):
                order = np.argsort(top[r])  # neighbours in document order, as SciPy's product
                votes = postings_sum(top[r][order], vals[r][order], self.tags_)
                labels = np.flatnonzero(votes)
                rows.append((labels, votes[labels] * inverse[r]))
        return CSR.from_rows(rows, len(self.labels_))

    def _scores_scipy(self, X: Any, chunk: int) -> Any:
        """:meth:`scores` of a SciPy matrix with SciPy products (training folds)."""
        import scipy.sparse as sp
        from sklearn.preprocessing import normalize

        XT, Y = self._scipy_parts()
        X = normalize(sp.csr_matrix(X, dtype=np.float32, copy=True))
        X.sum_duplicates()  # sorted terms: each similarity adds up in the order of X_'s rows
        out = []
        k = min(self.k, self.n_docs)
        for start in range(0, X.shape[0], chunk):
            # block @ X_.T visits only the training documents that share a term with the
            # block; it adds each document's products in increasing term order in float32
            sims = (X[start : start + chunk] @ XT).toarray()
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            rows = np.repeat(np.arange(sims.shape[0]), k)
            vals = np.take_along_axis(sims, top, axis=1)
            W = sp.csr_matrix((vals.ravel(), (rows, top.ravel())), shape=sims.shape)
            votes = W @ Y
            total = np.asarray(vals.sum(axis=1)).ravel()
            total[total == 0] = 1.0
            out.append(sp.csr_matrix(votes.multiply(1.0 / total[:, None])))
        if len(out) == 1:
            return out[0]
        return sp.vstack(out, format="csr") if out else sp.csr_matrix((0, len(self.labels_)))

    def _scipy_parts(self) -> tuple[Any, Any]:
        parts = self.__dict__.get("_scipy")
        if parts is None:
            XT = self.postings_.to_scipy()
            XT.indices = XT.indices.astype(np.int32)
            parts = self._scipy = (XT, self.tags_.to_scipy())
        return parts

    def save(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "params": self.init_params(),
            "labels": self.labels_,
            "postings_shape": list(self.postings_.shape),
            "tags_shape": list(self.tags_.shape),
        }
        return [
            save_json(folder / "meta.json", meta),
            *self.postings_.save(folder, "postings"),
            *self.tags_.save(folder, "tags"),
        ]

    @classmethod
    def load(cls, folder: Path) -> KNNTags:
        meta = load_json(folder / "meta.json")
        knn = cls(**meta["params"])
        knn.labels_ = list(meta["labels"])
        knn.postings_ = CSR.load(folder, "postings", tuple(meta["postings_shape"]))
        knn.tags_ = CSR.load(folder, "tags", tuple(meta["tags_shape"]))
        return knn
