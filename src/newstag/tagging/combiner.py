"""The combiner: one score per candidate tag from the candidate sources' features.

Each candidate (article, tag) gets a feature row, its features read by name from every
candidate source (:mod:`newstag.tagging.sources`): the classifier's score, rank and margin,
the neighbours' votes, the entity evidence (salience, mentions, headline/lead presence,
string-match quality, link confidence and support, country roll-up, where and how often the
entities naming the tag are mentioned), the tag's own name written in the text, the tag's
prior and whether it is new, and two figures of the article itself (how many tags its
neighbours carry, how many the classifier scores above zero). The column order is stored
at fit (``feature_names_``); bundles from before keep :data:`FEATURES`.
A gradient-boosted tree model, fitted on held-out folds of the training data, turns the
row into a probability; a global threshold tuned for micro-F1 decides what is suggested.

Per-tag thresholds: for tags with enough held-out positives, the F1-best cut-off of the
tag's own held-out rows, shrunk toward the global threshold by ``n / (n + shrink)`` (``n``:
the tag's held-out gold count). ``shrink`` is chosen on the held-out rows themselves by
cross-fitting (tune on one half of the articles, score the other half, and back; averaged
over ``crossfit_repeats`` random halvings), from a
grid that includes "no per-tag thresholds", by micro-F1 + macro-F1; per-tag thresholds are
used only when they gain at least ``min_gain`` on that sum. Scores are then remapped per
tag, monotonically, so that the tag's threshold lands on the global one:
``score >= threshold_`` keeps meaning "suggested" for every tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from newstag.tagging.estimator import Estimator

FEATURES = (
    "clf_score",
    "clf_rank",
    "has_clf",
    "knn_score",
    "knn_rank",
    "salience",
    "mentions",
    "in_headline",
    "in_lead",
    "str_quality",
    "link_conf",
    "link_support",
    "via_country",
    "n_entities",
    "prior",
    "is_new",
    "is_person",
    "is_place",
    "is_org",
    "has_entity",
    "str_salience",
    "str_in_headline",
    "link_weight",
    "free_link_weight",
    "shadow_weight",
    "str_mentions",
    "country_mentions",
    "first_pos",
    "first_of_type",
    "most_of_type",
    "type_share",
    "headline_any",
    "n_str_tags",
    "clf_margin",
    "knn_share",
    "label_in_headline",
    "label_mentions",
    "label_in_lead",
    "knn_tag_count",
    "clf_positives",
)
"""The columns of bundles that do not store theirs (trained before candidate sources)."""


def feature_vector(features: dict[str, float], names: Sequence[str]) -> list[float]:
    """The row of one candidate: its features (by name, from every source) in column order.

    Raises ``ValueError`` when a column has no feature or a feature has no column.
    """
    try:
        row = [features[n] for n in names]
    except KeyError as exc:
        raise ValueError(f"no candidate source gives the feature {exc.args[0]!r}") from None
    if len(features) != len(row):
        unknown = sorted(set(features) - set(names))
        raise ValueError(f"features {unknown} are not among the combiner's columns")
    return row


class Combiner(Estimator):
    """Gradient-boosted trees over candidate features, with an F1-tuned threshold.

    Parameters: ``max_iter``, ``learning_rate``, ``max_leaf_nodes``, ``random_state``,
    ``n_threads`` (OpenMP threads; 1 avoids oversubscription on shared machines).
    """

    def __init__(
        self,
        max_iter: int = 200,
        learning_rate: float = 0.08,
        max_leaf_nodes: int = 31,
        random_state: int = 0,
        n_threads: int = 1,
        tag_thresholds: bool = True,
        min_tag_positives: int = 3,
        shrink_grid: tuple[float, ...] = (30.0, 10.0, 3.0),
        min_gain: float = 0.005,
        crossfit_repeats: int = 3,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.random_state = random_state
        self.n_threads = n_threads
        self.tag_thresholds = tag_thresholds
        self.min_tag_positives = min_tag_positives
        self.shrink_grid = shrink_grid
        self.min_gain = min_gain
        self.crossfit_repeats = crossfit_repeats

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        doc_ids: np.ndarray,
        n_gold: int,
        tags: Any = None,
        gold: dict[int, Any] | None = None,
        feature_names: Sequence[str] | None = None,
    ) -> Combiner:
        """Fit on candidate rows; ``n_gold`` counts all gold tags (found or not) for recall.

        ``tags`` (the candidate tag of each row) and ``gold`` (each held-out article's gold
        tags, by doc id) enable per-tag thresholds. ``feature_names`` name the columns
        (default: :data:`FEATURES`, or ``f0``, ``f1``, ... when ``X`` has other widths).
        """
        from sklearn.model_selection import GroupKFold
        from threadpoolctl import threadpool_limits

        self.feature_names_ = _column_names(feature_names, np.shape(X))

        with threadpool_limits(self.n_threads):
            oof = self._fit(X, y, doc_ids, n_gold, GroupKFold)
        self.compile()
        self.tag_thresholds_: dict[str, float] = {}
        self.shrink_ = None
        self.crossfit_: dict[str, Any] = {}
        if self.tag_thresholds and tags is not None and gold is not None and len(y):
            self._fit_tag_thresholds(
                oof, np.asarray(tags, dtype=object), np.asarray(y), np.asarray(doc_ids), gold
            )
        return self

    def _fit(
        self, X: np.ndarray, y: np.ndarray, doc_ids: np.ndarray, n_gold: int, GroupKFold: Any
    ) -> np.ndarray:
        """Fit the model and the global threshold; returns the out-of-fold probabilities."""
        y = np.asarray(y)
        oof = np.zeros(len(y))
        n_groups = len(np.unique(doc_ids))
        if n_groups >= 3 and 0 < y.sum() < len(y):
            for tr, te in GroupKFold(n_splits=3).split(X, y, doc_ids):
                if 0 < y[tr].sum() < len(tr):
                    oof[te] = self._new_model().fit(X[tr], y[tr]).predict_proba(X[te])[:, 1]
                else:
                    oof[te] = y[tr].mean()
        self.model_ = self._new_model().fit(X, y) if 0 < y.sum() < len(y) else None
        self.base_rate_ = float(y.mean()) if len(y) else 0.0
        self.threshold_, self.oof_f1_ = tune_threshold(oof, y, n_gold)
        return oof

    def _fit_tag_thresholds(
        self,
        oof: np.ndarray,
        tags: np.ndarray,
        y: np.ndarray,
        doc_ids: np.ndarray,
        gold: dict[int, Any],
    ) -> None:
        """Choose ``shrink`` by cross-fitting on the held-out rows, then fit on all of them."""
        docs = np.unique(doc_ids)
        rng = np.random.default_rng(self.random_state)
        runs: dict[str, list[dict[str, float]]] = {}
        for _ in range(self.crossfit_repeats):  # several random halvings: a steadier choice
            half = set(rng.permutation(docs)[: len(docs) // 2].tolist())
            in_a = np.fromiter((d in half for d in doc_ids), dtype=bool, count=len(doc_ids))
            for shrink in (None, *self.shrink_grid):
                scored = np.empty(len(oof))
                for fit_rows in (in_a, ~in_a):
                    fit_docs = set(np.unique(doc_ids[fit_rows]).tolist())
                    g = {d: gold[d] for d in fit_docs if d in gold}
                    n_fit = sum(len(v) for v in g.values())
                    thr, _ = tune_threshold(oof[fit_rows], y[fit_rows], n_fit)
                    per_tag = (
                        {}
                        if shrink is None
                        else tag_thresholds(
                            oof[fit_rows],
                            y[fit_rows],
                            tags[fit_rows],
                            g,
                            thr,
                            shrink,
                            self.min_tag_positives,
                        )
                    )
                    scored[~fit_rows] = remap(oof[~fit_rows], tags[~fit_rows], per_tag, thr, 0.5)
                runs.setdefault("off" if shrink is None else f"{shrink:g}", []).append(
                    _scores(scored, 0.5, tags, y, doc_ids, gold)
                )
        results = {
            k: {m: round(float(np.mean([r[m] for r in v])), 4) for m in v[0]}
            for k, v in runs.items()
        }

        def gain(k: str) -> float:
            return results[k]["micro_f1"] + results[k]["macro_f1"]

        best = max(results, key=gain)
        self.crossfit_ = results
        if best != "off" and gain(best) - gain("off") >= self.min_gain:
            self.shrink_ = float(best)
            self.tag_thresholds_ = tag_thresholds(
                oof, y, tags, gold, self.threshold_, self.shrink_, self.min_tag_positives
            )

    def score(self, X: np.ndarray, tags: Any) -> np.ndarray:
        """Probabilities remapped per tag so that ``threshold_`` is every tag's cut-off."""
        p = self.predict_proba(X)
        per_tag = getattr(self, "tag_thresholds_", None)
        if not per_tag or len(p) == 0:
            return p
        return remap(p, np.asarray(tags, dtype=object), per_tag, self.threshold_, self.threshold_)

    def _new_model(self) -> Any:
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            early_stopping="auto",
            validation_fraction=0.1,
            n_iter_no_change=20,
            random_state=self.random_state,
        )

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if len(X) == 0:
            return np.zeros(0)
        if self.trees_ is None:
            return np.full(len(X), self.base_rate_)
        X = np.asarray(X, dtype=np.float64)
        n_in = self.trees_.n_features
        if X.shape[1] > n_in:  # a bundle trained before features were added: its columns
            X = X[:, :n_in]
        return self.trees_.predict_proba(X)

    def compile(self) -> None:
        """Keep the boosted trees as arrays (:class:`Trees`; also for old pickled bundles)."""
        model = self.__dict__.pop("model_", None)
        if model is not None:
            self.trees_ = Trees.from_sklearn(model)
        elif "trees_" not in self.__dict__:
            self.trees_ = None
        if "feature_names_" not in self.__dict__:  # pickled before features had names
            self.feature_names_ = FEATURES

    _STATE = ("base_rate_", "threshold_", "oof_f1_", "shrink_", "crossfit_")

    def save(self, folder: Path) -> list[Path]:
        """``meta.json`` (settings, threshold, per-tag thresholds) and ``trees.npz``."""
        from newstag.tagging.arrays import save_json

        folder.mkdir(parents=True, exist_ok=True)
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in self.init_params().items()}
        meta = {
            "params": params,
            **{k: getattr(self, k, None) for k in self._STATE},
            "tag_thresholds": getattr(self, "tag_thresholds_", {}),
            "trees": self.trees_ is not None,
        }
        if self.feature_names_ != FEATURES:  # FEATURES: left out, as bundles before names
            meta["features"] = list(self.feature_names_)
        files = [save_json(folder / "meta.json", meta)]
        if self.trees_ is not None:
            files.append(self.trees_.save(folder / "trees.npz"))
        return files

    @classmethod
    def load(cls, folder: Path) -> Combiner:
        from newstag.tagging.arrays import load_json

        meta = load_json(folder / "meta.json")
        combiner = cls(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in meta["params"].items()}
        )
        for k in cls._STATE:
            setattr(combiner, k, meta.get(k))
        combiner.tag_thresholds_ = meta.get("tag_thresholds") or {}
        combiner.feature_names_ = tuple(meta.get("features") or FEATURES)  # older: FEATURES
        combiner.trees_ = Trees.load(folder / "trees.npz") if meta.get("trees") else None
        return combiner


def _column_names(names: Sequence[str] | None, shape: tuple[int, ...]) -> tuple[str, ...]:
    if names is not None:
        if len(shape) == 2 and shape[1] != len(names):
            raise ValueError(f"{len(names)} feature names for {shape[1]} columns")
        return tuple(names)
    width = shape[1] if len(shape) == 2 else len(FEATURES)
    return FEATURES if width == len(FEATURES) else tuple(f"f{i}" for i in range(width))


class Trees:
    """A binary gradient-boosted tree ensemble as flat node arrays, evaluated with numpy.

    Nodes of all trees are concatenated (``left``/``right`` are global node numbers);
    ``roots`` holds each tree's first node. A row goes left when its feature is
    ``<= threshold`` (or missing and ``missing_left``); the raw score is ``baseline`` plus
    the leaves' values added tree by tree, the probability its logistic sigmoid, as in
    scikit-learn's ``HistGradientBoostingClassifier`` (numerical features only).
    """

    FIELDS = ("feature", "threshold", "missing_left", "left", "right", "is_leaf", "value", "roots")

    def __init__(self, arrays: dict[str, np.ndarray], baseline: float, n_features: int) -> None:
        self.arrays = arrays
        self.baseline = baseline
        self.n_features = n_features

    @classmethod
    def from_sklearn(cls, model: Any) -> Trees:
        """The trees of a fitted binary ``HistGradientBoostingClassifier``."""
        parts: dict[str, list[np.ndarray]] = {f: [] for f in cls.FIELDS}
        offset = 0
        for (predictor,) in model._predictors:
            nodes = predictor.nodes
            if nodes["is_categorical"].any():
                raise ValueError("categorical splits are not supported")
            parts["feature"].append(nodes["feature_idx"].astype(np.int32))
            parts["threshold"].append(nodes["num_threshold"].astype(np.float64))
            parts["missing_left"].append(nodes["missing_go_to_left"].astype(bool))
            parts["left"].append(nodes["left"].astype(np.int32) + offset)
            parts["right"].append(nodes["right"].astype(np.int32) + offset)
            parts["is_leaf"].append(nodes["is_leaf"].astype(bool))
            parts["value"].append(nodes["value"].astype(np.float64))
            parts["roots"].append(np.array([offset], dtype=np.int32))
            offset += len(nodes)
        arrays = {f: np.concatenate(v) for f, v in parts.items()}
        baseline = float(np.asarray(model._baseline_prediction).ravel()[0])
        return cls(arrays, baseline, int(model.n_features_in_))

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Raw scores (log-odds) of the rows of ``X`` (float64)."""
        a = self.arrays
        n_trees = len(a["roots"])
        X = np.ascontiguousarray(X, dtype=np.float64)
        flat = X.ravel()
        children = np.stack([a["left"], a["right"]], axis=1).ravel()  # node*2 + go_right
        has_nan = bool(np.isnan(flat).any())
        node = np.tile(a["roots"], len(X))  # (row, tree) pairs, row-major
        base = np.repeat(np.arange(len(X), dtype=np.int64) * X.shape[1], n_trees)
        active = np.arange(len(node))
        while len(active):  # step every pair not yet at a leaf one level down
            here = node.take(active)
            inner = ~a["is_leaf"].take(here)
            active, here = active[inner], here[inner]
            if not len(active):
                break
            x = flat.take(base.take(active) + a["feature"].take(here))
            right = x > a["threshold"].take(here)  # x <= threshold goes left
            if has_nan:  # missing values go where training sent them
                right = np.where(np.isnan(x), ~a["missing_left"].take(here), right)
            node[active] = children.take(here * 2 + right)
        values = np.concatenate(
            [np.full((len(X), 1), self.baseline), a["value"].take(node).reshape(len(X), n_trees)],
            axis=1,
        )
        return np.cumsum(values, axis=1)[:, -1]  # tree by tree, as scikit-learn adds them

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probability of the positive class for each row."""
        return 1.0 / (1.0 + np.exp(-np.clip(self.raw(X), -500.0, 500.0)))  # no overflow

    def save(self, path: Path) -> Path:
        from newstag.tagging.arrays import save_npz

        return save_npz(
            path,
            {
                "baseline": np.array([self.baseline]),
                "n_features": np.array([self.n_features]),
                **self.arrays,
            },
            compress=True,
        )

    @classmethod
    def load(cls, path: Path) -> Trees:
        with np.load(path, allow_pickle=False) as z:
            arrays = {f: z[f] for f in cls.FIELDS}
            return cls(arrays, float(z["baseline"][0]), int(z["n_features"][0]))


def tune_threshold(p: np.ndarray, y: np.ndarray, n_gold: int) -> tuple[float, float]:
    """The probability cut-off that maximises micro-F1 given ``n_gold`` gold tags."""
    if len(p) == 0 or n_gold == 0:
        return 0.5, 0.0
    order = np.argsort(-p)
    tp = np.cumsum(y[order])
    k = np.arange(1, len(p) + 1)
    f1 = 2 * tp / (k + n_gold)
    best = int(np.argmax(f1))
    return float(max(p[order][best], 0.05)), float(f1[best])


def tag_thresholds(
    p: np.ndarray,
    y: np.ndarray,
    tags: np.ndarray,
    gold: dict[int, Any],
    global_threshold: float,
    shrink: float,
    min_positives: int = 3,
) -> dict[str, float]:
    """Per-tag F1-best cut-offs, shrunk toward ``global_threshold`` by ``n / (n + shrink)``.

    ``gold`` maps each article to its gold tags (found among the candidates or not), so a
    tag's recall counts the gold tags its rows never reached. Tags with fewer than
    ``min_positives`` gold articles keep the global threshold.
    """
    from collections import Counter

    n_pos = Counter(t for ts in gold.values() for t in set(ts))
    order = np.argsort(tags, kind="stable")
    sorted_tags = tags[order]
    out: dict[str, float] = {}
    bounds = np.flatnonzero(sorted_tags[1:] != sorted_tags[:-1]) + 1
    for idx in np.split(order, bounds):
        if not len(idx):
            continue
        tag = tags[idx[0]]
        n = n_pos.get(tag, 0)
        if n < min_positives or not y[idx].any():
            continue
        pt, yt = p[idx], y[idx]
        o = np.argsort(-pt)
        tp = np.cumsum(yt[o])
        f1 = 2 * tp / (np.arange(1, len(o) + 1) + n)
        best = int(np.argmax(f1))
        cut = pt[o][best]
        if best + 1 < len(o):  # halfway to the next lower score: less brittle
            cut = (cut + pt[o][best + 1]) / 2
        w = n / (n + shrink)
        out[str(tag)] = float(np.clip(w * cut + (1 - w) * global_threshold, 0.02, 0.98))
    return out


def remap(
    p: np.ndarray,
    tags: np.ndarray,
    per_tag: dict[str, float],
    global_threshold: float,
    target: float,
) -> np.ndarray:
    """Map each row's probability monotonically so its tag's cut-off lands on ``target``.

    Rows of tags without their own threshold use ``global_threshold``. Piecewise linear:
    [0, t] -> [0, target] and [t, 1] -> [target, 1].
    """
    t = np.fromiter(
        (per_tag.get(tag, global_threshold) for tag in tags), dtype=np.float64, count=len(tags)
    )
    t = np.clip(t, 1e-6, 1 - 1e-6)
    low = p * target / t
    high = target + (p - t) * (1 - target) / (1 - t)
    return np.where(p <= t, low, high)


def _scores(
    p: np.ndarray,
    cut: float,
    tags: np.ndarray,
    y: np.ndarray,
    doc_ids: np.ndarray,
    gold: dict[int, Any],
) -> dict[str, float]:
    """Micro/macro F1 of ``p >= cut`` and P@5 against every gold tag of the articles."""
    from collections import Counter, defaultdict

    chosen = p >= cut
    tp = Counter(tags[chosen & (y == 1)].tolist())
    pred = Counter(tags[chosen].tolist())
    support = Counter(t for d in np.unique(doc_ids).tolist() for t in set(gold.get(d, ())))
    n_tp, n_pred, n_gold = sum(tp.values()), sum(pred.values()), sum(support.values())
    micro = 2 * n_tp / (n_pred + n_gold) if n_pred + n_gold else 0.0
    macro = (
        float(np.mean([2 * tp[t] / (pred[t] + n) for t, n in support.items()])) if support else 0.0
    )
    by_doc: dict[Any, list[tuple[float, int]]] = defaultdict(list)
    for d, s, hit in zip(doc_ids.tolist(), p.tolist(), y.tolist(), strict=True):
        by_doc[d].append((s, hit))
    p5 = (
        float(
            np.mean(
                [sum(h for _, h in sorted(v, key=lambda x: -x[0])[:5]) / 5 for v in by_doc.values()]
            )
        )
        if by_doc
        else 0.0
    )
    return {"micro_f1": round(micro, 4), "macro_f1": round(macro, 4), "p_at_5": round(p5, 4)}
