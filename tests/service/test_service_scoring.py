"""The service's scoring path: the kNN vote (``KNNTags.scores``) and the SVM scores
(``LinearOvR.decision_function``) must give exactly the scores of the plain SciPy products they
replaced, both on SciPy input (training) and on numpy :class:`CSR` input (suggesting, with
numpy alone)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from newstag.tagging.arrays import CSR
from newstag.tagging.classifier import KNNTags, LinearOvR

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"


def reference_scores(knn: KNNTags, X: sp.csr_matrix, chunk: int = 512) -> sp.csr_matrix:
    """The kNN vote as computed before the speed-up: the full product against every
    training document."""
    from sklearn.preprocessing import normalize

    X = normalize(sp.csr_matrix(X, dtype=np.float32))
    X_ = knn.postings_.to_scipy().T.tocsr()
    Y_ = knn.tags_.to_scipy()
    out = []
    k = min(knn.k, X_.shape[0])
    for start in range(0, X.shape[0], chunk):
        sims = (X_ @ X[start : start + chunk].T).T.toarray()
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        rows = np.repeat(np.arange(sims.shape[0]), k)
        vals = np.take_along_axis(sims, top, axis=1)
        W = sp.csr_matrix((vals.ravel(), (rows, top.ravel())), shape=sims.shape)
        votes = W @ Y_
        total = np.asarray(vals.sum(axis=1)).ravel()
        total[total == 0] = 1.0
        out.append(sp.csr_matrix(votes.multiply(1.0 / total[:, None])))
    return sp.vstack(out, format="csr") if out else sp.csr_matrix((0, len(knn.labels_)))


def numpy_rows(X: sp.csr_matrix) -> CSR:
    """``X`` as the numpy CSR the suggest path scores (sorted terms)."""
    return CSR.from_scipy(sp.csr_matrix(X))


def assert_same_votes(new: sp.csr_matrix | CSR, old: sp.csr_matrix) -> None:
    if isinstance(new, CSR):
        new = new.to_scipy()
    assert new.shape == old.shape
    for i in range(old.shape[0]):  # same tags voted for (no explicit zeros gained or lost)
        assert sorted(new[i].indices) == sorted(old[i].indices), i
    assert np.abs(new.toarray() - old.toarray()).max(initial=0.0) <= 1e-9


def sample_texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(SAMPLE.glob("*.txt"))]
    from newstag.paths import shared_data

    path = shared_data("wikinews", "wikinews_en_part00.jsonl.gz")
    if path is not None:  # 600-word Wikinews articles, as benchmarks/load.py sends
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                words = json.loads(line).get("text", "").split()
                if len(words) >= 600:
                    texts.append(" ".join(words[:600]))
                if len(texts) >= 40:
                    break
    return texts + ["", "Putin", "the of and", "Kim Jong Un met Vladimir Putin in Vladivostok."]


def test_knn_votes_equal_the_full_product_on_a_small_fit(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = sp.random(300, 2000, density=0.03, format="csr", dtype=np.float32, random_state=rng)
    tags = [
        [f"t{j}" for j in rng.choice(25, size=rng.integers(0, 4), replace=False)]
        for _ in range(300)
    ]
    knn = KNNTags(k=7, max_terms=40).fit(X, tags)
    Q = sp.random(60, 2000, density=0.05, format="csr", dtype=np.float32, random_state=rng)
    Q = sp.vstack([Q, sp.csr_matrix((1, 2000), dtype=np.float32)], format="csr")  # empty query
    assert_same_votes(knn.scores(Q), reference_scores(knn, Q))
    assert_same_votes(knn.scores(Q, chunk=16), reference_scores(knn, Q, chunk=16))
    assert_same_votes(knn.scores(numpy_rows(Q)), reference_scores(knn, Q))
    assert_same_votes(knn.scores(numpy_rows(Q), chunk=16), reference_scores(knn, Q, chunk=16))
    for i in (0, 5, 60):  # one at a time, as the service scores a request
        assert_same_votes(knn.scores(Q[i]), reference_scores(knn, Q[i]))
        assert_same_votes(knn.scores(numpy_rows(Q[i])), reference_scores(knn, Q[i]))
    # saved as arrays and loaded back (memory-mapped when large): the same votes
    knn.save(tmp_path / "knn")
    again = KNNTags.load(tmp_path / "knn")
    assert_same_votes(again.scores(numpy_rows(Q)), reference_scores(knn, Q))


def test_knn_votes_of_an_unsorted_training_matrix() -> None:
    """A training matrix without sorted term order gives the same votes."""
    rng = np.random.default_rng(1)
    X = sp.random(200, 500, density=0.05, format="csr", dtype=np.float32, random_state=rng)
    tags = [[f"t{i % 9}"] for i in range(200)]
    Q = sp.random(20, 500, density=0.1, format="csr", dtype=np.float32, random_state=rng)
    expected = KNNTags(k=5).fit(X, tags).scores(numpy_rows(Q)).to_scipy()
    X = X.copy()
    for i in range(X.shape[0]):  # reverse each row's storage order
        lo, hi = X.indptr[i], X.indptr[i + 1]
        X.indices[lo:hi] = X.indices[lo:hi][::-1].copy()
        X.data[lo:hi] = X.data[lo:hi][::-1].copy()
    X.has_sorted_indices = False
    got = KNNTags(k=5).fit(X, tags).scores(numpy_rows(Q)).to_scipy()
    assert np.abs(got.toarray() - expected.toarray()).max() <= 1e-6


@pytest.mark.slow
def test_knn_votes_of_the_shipped_model_are_unchanged() -> None:
    from newstag.paths import default_model_dir
    from newstag.tagging import load_model

    folder = default_model_dir()
    if not (folder / "manifest.json").exists():
        pytest.skip("no shipped model in models/default")
    model = load_model(folder)
    texts = sample_texts()
    X = model.features_.transform(texts, [[] for _ in texts])  # numpy CSR
    Xs = X.to_scipy()
    knn = model.knn_
    assert_same_votes(knn.scores(X), reference_scores(knn, Xs))
    for i in range(0, len(texts), 7):
        assert_same_votes(knn.scores(numpy_rows(Xs[i])), reference_scores(knn, Xs[i]))
    clf = model.clf_
    coef = clf.coef_.to_scipy()
    expected = np.asarray((Xs @ coef.T).toarray() + clf.intercept_, dtype=np.float32)
    assert np.array_equal(clf.decision_function(X), expected)
    assert all(
        np.array_equal(clf.decision_function(numpy_rows(Xs[i])), expected[i : i + 1])
        for i in range(0, len(texts), 5)
    )


def test_svm_scores_equal_the_full_product() -> None:
    rng = np.random.default_rng(2)
    X = sp.random(120, 300, density=0.05, format="csr", dtype=np.float32, random_state=rng)
    Y = sp.csc_matrix((rng.random((120, 4)) < 0.3).astype(np.float32))
    clf = LinearOvR(C=1.0, prune=50).fit(X, Y, ["a", "b", "c", "d"])
    Q = sp.random(30, 300, density=0.1, format="csr", dtype=np.float32, random_state=rng)
    Q = Q[:, ::-1].tocsr()  # unsorted term order within rows
    coef = clf.coef_.to_scipy()
    expected = np.asarray((coef @ Q.T).T.toarray() + clf.intercept_, dtype=np.float32)
    assert np.allclose(clf.decision_function(Q), expected, atol=1e-6)
    sorted_q = Q.sorted_indices()
    exact = np.asarray((sorted_q @ coef.T).toarray() + clf.intercept_, dtype=np.float32)
    assert np.array_equal(clf.decision_function(numpy_rows(Q)), exact)
