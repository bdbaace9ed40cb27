"""The service's scoring path: the kNN vote (``KNNTags.scores``) and the SVM scores
(``LinearOvR.decision_function``) must give exactly the scores of the plain products they
replaced (they now read only the postings of the query's terms through transposed copies)."""

from __future__ import annotations

import gzip
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from newstag.model.classifier import KNNTags, LinearOvR

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def reference_scores(knn: KNNTags, X: sp.csr_matrix, chunk: int = 512) -> sp.csr_matrix:
    """The kNN vote as computed before the speed-up: the full product against every
    training document."""
    from sklearn.preprocessing import normalize

    X = normalize(sp.csr_matrix(X, dtype=np.float32))
    out = []
    k = min(knn.k, knn.X_.shape[0])
    for start in range(0, X.shape[0], chunk):
        sims = (knn.X_ @ X[start:start + chunk].T).T.toarray()
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        rows = np.repeat(np.arange(sims.shape[0]), k)
        vals = np.take_along_axis(sims, top, axis=1)
        W = sp.csr_matrix((vals.ravel(), (rows, top.ravel())), shape=sims.shape)
        votes = W @ knn.Y_
        total = np.asarray(vals.sum(axis=1)).ravel()
        total[total == 0] = 1.0
        out.append(sp.csr_matrix(votes.multiply(1.0 / total[:, None])))
    return sp.vstack(out, format="csr") if out else sp.csr_matrix((0, len(knn.labels_)))


def assert_same_votes(new: sp.csr_matrix, old: sp.csr_matrix) -> None:
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


def test_knn_votes_equal_the_full_product_on_a_small_fit() -> None:
    rng = np.random.default_rng(0)
    X = sp.random(300, 2000, density=0.03, format="csr", dtype=np.float32, random_state=rng)
    tags = [[f"t{j}" for j in rng.choice(25, size=rng.integers(0, 4), replace=False)]
            for _ in range(300)]
    knn = KNNTags(k=7, max_terms=40).fit(X, tags)
    Q = sp.random(60, 2000, density=0.05, format="csr", dtype=np.float32, random_state=rng)
    Q = sp.vstack([Q, sp.csr_matrix((1, 2000), dtype=np.float32)], format="csr")  # empty query
    assert_same_votes(knn.scores(Q), reference_scores(knn, Q))
    assert_same_votes(knn.scores(Q, chunk=16), reference_scores(knn, Q, chunk=16))
    for i in (0, 5, 60):  # one at a time, as the service scores a request
        assert_same_votes(knn.scores(Q[i]), reference_scores(knn, Q[i]))
    # the transposed copy is a cache: not pickled, rebuilt after loading
    blob = pickle.dumps(knn)
    assert "_XT" in knn.__dict__ and "_XT" not in pickle.loads(blob).__dict__
    again = pickle.loads(blob)
    assert_same_votes(again.scores(Q), reference_scores(knn, Q))


def test_knn_votes_of_an_unsorted_training_matrix() -> None:
    """A bundle whose training matrix lost sorted term order still scores like before."""
    rng = np.random.default_rng(1)
    X = sp.random(200, 500, density=0.05, format="csr", dtype=np.float32, random_state=rng)
    knn = KNNTags(k=5).fit(X, [[f"t{i % 9}"] for i in range(200)])
    Q = sp.random(20, 500, density=0.1, format="csr", dtype=np.float32, random_state=rng)
    expected = knn.scores(Q)
    knn.X_.indices = knn.X_.indices.copy()
    for i in range(knn.X_.shape[0]):  # reverse each row's storage order
        lo, hi = knn.X_.indptr[i], knn.X_.indptr[i + 1]
        knn.X_.indices[lo:hi] = knn.X_.indices[lo:hi][::-1].copy()
        knn.X_.data[lo:hi] = knn.X_.data[lo:hi][::-1].copy()
    knn.X_.has_sorted_indices = False
    knn.__dict__.pop("_XT", None)
    assert np.abs(knn.scores(Q).toarray() - expected.toarray()).max() <= 1e-6


@pytest.mark.slow
def test_knn_votes_of_the_shipped_model_are_unchanged() -> None:
    from newstag.model import load_model
    from newstag.paths import default_model_dir

    folder = default_model_dir()
    if not (folder / "manifest.json").exists():
        pytest.skip("no shipped model in models/default")
    model = load_model(folder)
    texts = sample_texts()
    X = model.features_.transform(texts, [[] for _ in texts])
    knn = model.knn_
    assert_same_votes(knn.scores(X), reference_scores(knn, X))
    for i in range(0, len(texts), 7):
        assert_same_votes(knn.scores(X[i]), reference_scores(knn, X[i]))
    clf = model.clf_
    expected = np.asarray((clf.coef_ @ X.T).T.toarray() + clf.intercept_, dtype=np.float32)
    assert np.array_equal(clf.decision_function(X), expected)
    assert all(np.array_equal(clf.decision_function(X[i]), expected[i:i + 1])
               for i in range(0, len(texts), 5))


def test_svm_scores_equal_the_full_product() -> None:
    rng = np.random.default_rng(2)
    X = sp.random(120, 300, density=0.05, format="csr", dtype=np.float32, random_state=rng)
    Y = sp.csc_matrix((rng.random((120, 4)) < 0.3).astype(np.float32))
    clf = LinearOvR(C=1.0, prune=50).fit(X, Y, ["a", "b", "c", "d"])
    Q = sp.random(30, 300, density=0.1, format="csr", dtype=np.float32, random_state=rng)
    Q = Q[:, ::-1].tocsr()  # unsorted term order within rows
    expected = np.asarray((clf.coef_ @ Q.T).T.toarray() + clf.intercept_, dtype=np.float32)
    assert np.allclose(clf.decision_function(Q), expected, atol=1e-6)
    assert "_coef_T" in clf.__dict__ and "_coef_T" not in pickle.loads(pickle.dumps(clf)).__dict__
