"""Shared code of the tag-suggestion benchmarks: the baseline, our model, the report rows.

The baseline is TF-IDF (word 1-2 grams, sublinear) + one-vs-rest LinearSVC, run in the
same process on the same split as newstag's model. Nothing is tuned on the test set.
"""

from __future__ import annotations

import json
import logging
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@contextmanager
def print_log(name: str) -> Iterator[None]:
    """Print logger ``name``'s INFO lines to stdout, indented, while the block runs."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("   %(message)s"))
    logger = logging.getLogger(name)
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


def add_reuse_arg(ap: Any) -> None:
    """``--reuse-model DIR``: load the model saved there, else train and save it there."""
    ap.add_argument(
        "--reuse-model",
        default=None,
        help="A folder: load the model from it if an earlier run saved one there, else "
        "train and save it there (to compare suggestion code without retraining).",
    )


def add_time_args(ap: Any) -> None:
    """``--fold-split`` and ``--sources``: train the model with date folds or other sources."""
    ap.add_argument("--fold-split", default=None, help="Combiner folds: random or date.")
    ap.add_argument(
        "--sources",
        default=None,
        help="Comma-separated candidate sources (e.g. classifier,knn,linker,labels,period).",
    )


def time_params(args: Any) -> dict[str, Any]:
    """The TagModel parameters :func:`add_time_args` set (none when not given)."""
    params: dict[str, Any] = {}
    if args.fold_split:
        params["fold_split"] = args.fold_split
    if args.sources:
        params["sources"] = tuple(args.sources.split(","))
    return params


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline(
    train: Sequence[Any],
    test: Sequence[Any],
    min_count: int = 1,
    Cs: Sequence[float] = (1.0,),
    cv: int = 3,
) -> dict[str, Any]:
    """Fit the baseline (C picked by ``cv``-fold CV on train when several) and predict test."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import KFold
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer
    from sklearn.svm import LinearSVC

    counts = Counter(t for r in train for t in r.tags)
    labels = sorted(t for t, n in counts.items() if n >= min_count)
    mlb = MultiLabelBinarizer(classes=labels)
    Y = mlb.fit_transform(
        [[t for t in r.tags if t in counts and counts[t] >= min_count] for r in train]
    )
    texts = [r.text for r in train]

    def fit(tx: list[str], y: Any, C: float) -> tuple[Any, Any]:
        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
        X = vec.fit_transform(tx)
        keep = y.sum(axis=0) > 0
        clf = OneVsRestClassifier(LinearSVC(C=C), n_jobs=1).fit(X, y[:, keep])
        return vec, (clf, np.flatnonzero(keep))

    def predict(model: tuple[Any, Any], tx: list[str]) -> list[list[str]]:
        vec, (clf, cols) = model
        P = clf.predict(vec.transform(tx))
        P = P.toarray() if hasattr(P, "toarray") else P
        return [[labels[cols[j]] for j in np.flatnonzero(row)] for row in P]

    t0 = time.perf_counter()
    best_C = Cs[0]
    if len(Cs) > 1:
        scores = {}
        for C in Cs:
            tp = fp = fn = 0
            for tr, te in KFold(cv, shuffle=True, random_state=0).split(texts):
                model = fit([texts[i] for i in tr], Y[tr], C)
                for i, pred in zip(te, predict(model, [texts[i] for i in te]), strict=True):
                    g, p = set(train[i].tags), set(pred)
                    tp += len(g & p)
                    fp += len(p - g)
                    fn += len(g - p)
            scores[C] = 2 * tp / max(2 * tp + fp + fn, 1)
        best_C = max(scores, key=scores.get)
    model = fit(texts, Y, best_C)
    train_s = time.perf_counter() - t0
    vec, (clf, cols) = model
    X = vec.transform([r.text for r in test])
    D = clf.decision_function(X)
    D = D.reshape(len(test), -1)
    P = D > 0
    predicted = [[labels[cols[j]] for j in np.flatnonzero(row)] for row in P]
    ranked = [[labels[cols[j]] for j in np.argsort(-row)[:10]] for row in D]
    return {
        "predicted": predicted,
        "ranked": ranked,
        "C": best_C,
        "train_seconds": train_s,
        "n_labels": len(labels),
    }


def ours(
    train: Sequence[Any],
    test: Sequence[Any],
    n_process: int = 2,
    reuse: str | Path | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Train newstag's model (entities cached on disk) and rank the test articles.

    ``reuse``: a bundle folder; loaded when it holds a model (trained on the same split by
    an earlier run), else the model is trained and saved there (comparing suggestion code
    before and after a change without training twice). Trained and scored on one archive,
    the model is that newsroom's own (``archive = "own"``, whatever the config says)."""
    from newstag.nlp.cache import extract_entities
    from newstag.tagging import load_model
    from newstag.tagging.train import train_model

    t0 = time.perf_counter()
    if reuse is not None and (Path(reuse) / "manifest.json").exists():
        model = load_model(Path(reuse))
        model.archive = "own"
        print(f"   reused the model in {reuse}", flush=True)
    else:
        if reuse is not None:
            params["out"] = Path(reuse)
        with print_log("newstag.tagging"):
            model = train_model(train, n_process=n_process, **{**params, "archive": "own"})
    train_s = time.perf_counter() - t0
    entity_s = train_s - (model.fit_seconds_ or 0.0)
    ents = extract_entities(test, model.pipeline, n_process=n_process)
    times = []
    ranked: list[list[dict[str, Any]]] = []
    for _ in range(3):
        t1 = time.perf_counter()
        ranked = model.rank_batch([r.text for r in test], ents, [r.date for r in test])
        times.append(time.perf_counter() - t1)
    t1 = time.perf_counter()
    sample = min(len(test), 300)
    model.suggest_batch(
        [r.text for r in test[:sample]], ents[:sample], dates=[r.date for r in test[:sample]]
    )
    explain_s = time.perf_counter() - t1
    cut = model.threshold_
    t1 = time.perf_counter()
    shown = public_tags(model, test, ents)
    public_s = time.perf_counter() - t1
    return {
        "predicted": [[c["tag"] for c in cs if c["score"] >= cut] for cs in ranked],
        "ranked": [[c["tag"] for c in cs[:10]] for cs in ranked],
        "public": {"predicted": shown, "ranked": shown},
        "public_docs_per_s": len(test) / public_s,
        "train_seconds": train_s,
        "entity_seconds": round(entity_s, 1),
        "model": model,
        "rank_docs_per_s": len(test) / statistics.median(times),
        "suggest_docs_per_s": sample / explain_s,
    }


def public_tags(model: Any, test: Sequence[Any], ents: Sequence[Any]) -> list[list[str]]:
    """The public path: the tags ``newstag suggest`` prints for each test article (top 10,
    default options: the model's tags and the story's entities assembled)."""
    from newstag.tagging.evaluate import suggested_tags

    return [[c["tag"] for c in cs] for cs in suggested_tags(model, test, ents, top_k=10)]


def public_row(row: dict[str, Any], mine: dict[str, Any], scored: dict[str, Any]) -> dict[str, Any]:
    """The public-path row beside a model-alone ``row``: same split, same baseline."""
    return {
        **row,
        "what": f"{row['what']}, public path (newstag suggest)",
        "path": "public",
        "ours": scored,
        "public_docs_per_s": mine["public_docs_per_s"],
    }


def score(
    test: Sequence[Any], result: dict[str, Any], labels: Any = None, known: Any = None
) -> dict[str, Any]:
    from newstag.tagging.evaluate import evaluate

    ev = evaluate(
        [r.tags for r in test], result["predicted"], result["ranked"], labels=labels, known=known
    )
    return ev.metrics


def report(name: str, rows: list[dict[str, Any]], command: str) -> None:
    """Print a markdown table and save the raw figures to benchmarks/results/NAME.json."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(rows, indent=1, default=str) + "\n")
    print(f"\n### {name}\n\n`{command}`\n")
    print("| what | newstag | baseline | ratio |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        base = row.get("baseline") or {}
        for key in (
            "micro_f1",
            "macro_f1",
            "micro_precision",
            "micro_recall",
            "p_at_1",
            "p_at_5",
            "r_at_5",
        ):
            a, b = row["ours"][key], base.get(key)
            if b is None:
                print(f"| {row['what']} {key} | {a:.3f} | | |")
                continue
            ratio = a / b if b else float("nan")
            print(f"| {row['what']} {key} | {a:.3f} | {b:.3f} | {ratio:.2f} |")
        b_s = row.get("baseline_train_s")
        print(
            f"| {row['what']} train seconds | {row['ours_train_s']:.0f} | "
            f"{'' if b_s is None else f'{b_s:.0f}'} | |"
        )
