"""TagModel: the trained tag suggester that unites the classifier with entity evidence.

Training (:meth:`TagModel.fit`):

1. the feature builder (word + character TF-IDF + entity names) is fitted on all texts;
2. on ``folds`` held-out folds, a classifier and a tag-entity linker are fitted on the
   other folds, and every candidate tag of the held-out articles (the classifier's top
   tags, the tags the entities link to, and new salient entities) becomes a feature row
   labelled by the article's real tags;
3. the combiner is fitted on those rows, its global threshold tuned for micro-F1 and,
   where the held-out rows support it, per-tag thresholds (see :mod:`.combiner`);
4. the classifier and linker are refitted on all articles.

Each known tag's own name and aliases, as word forms (:mod:`.labeltext`), are looked up in
the candidate's article: the combiner sees whether the tag is written in the headline, the
lead or the body.

``aliases`` (tag -> other names, e.g. from ``newstag train --tag-aliases FILE``) feed the
linker's string matching, in the held-out folds as in the final model.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from newstag.nlp.cache import entity_info
from newstag.tagging.combiner import Combiner, feature_row
from newstag.tagging.labeltext import LabelText, tag_label_forms
from newstag.tagging.linker import TagLinker, norm

log = logging.getLogger(__name__)

NEW_TYPES = ("person", "organisation", "place")
TYPE_OF_ENTITY = {"person": "person", "place": "place", "organisation": "organisation"}


def _row(votes: Any, i: int, knn: Any) -> dict[str, float]:
    lo, hi = votes.indptr[i], votes.indptr[i + 1]
    return {knn.labels_[j]: float(v) for j, v in zip(votes.indices[lo:hi], votes.data[lo:hi],
                                                     strict=True)}


def _names(ents: Sequence[dict[str, Any]]) -> list[str]:
    return [e["name"] for e in ents]


def _infos(entities: Sequence[Sequence[Any]]) -> list[list[dict[str, Any]]]:
    """Entity info dicts (:func:`entity_info`) of each article; info dicts pass as they are."""
    return [[e if isinstance(e, dict) and "aliases" in e else entity_info(e) for e in es]
            for es in entities]


class TagModel:
    """Suggest tags from text and entities; fitted on a tagged corpus.

    Hyper-parameters: ``min_tag_count`` (articles a tag needs to be known),
    ``min_clf_count`` (articles a tag needs for its own classifier), ``C``,
    ``max_clf_labels`` (most frequent tags that get their own SVM), ``knn_k`` (neighbours
    whose tags vote for every tag),
    ``char_ngrams``, ``max_word_features``, ``max_char_features``, ``entity_weight`` (scale
    of the entity-name block in the classifier's features; entities reach the combiner
    through the linker anyway),
    ``n_candidates`` (classifier tags considered per article), ``folds``,
    ``new_min_salience`` (for new-entity tags), ``link_min_support``, ``n_jobs``,
    ``tag_thresholds`` (allow per-tag thresholds when cross-fitting on the held-out rows
    shows a gain), ``country_links`` (tags that are country codes or other names match the
    gazetteer's country: "usa" / "United States"), ``surname_links`` (a person named by
    surname alone matches the one person tag with that surname). Training is
    deterministic: the same corpus and parameters give the same model.
    """

    country_links = True  # bundles saved before these options existed
    surname_links = True

    def __init__(self, min_tag_count: int = 1, min_clf_count: int = 1, C: float = 1.0,
                 max_clf_labels: int = 300, knn_k: int = 20,
                 char_ngrams: tuple[int, int] | None = None,
                 max_word_features: int | None = 200_000,
                 max_char_features: int | None = 100_000, entity_weight: float = 0.1,
                 n_candidates: int = 15, folds: int = 5, new_min_salience: float = 0.3,
                 link_min_support: int = 2, prune: int = 2000, n_jobs: int = 1,
                 random_state: int = 0, tag_thresholds: bool = True,
                 country_links: bool = True, surname_links: bool = True) -> None:
        self.min_tag_count = min_tag_count
        self.min_clf_count = min_clf_count
        self.C = C
        self.max_clf_labels = max_clf_labels
        self.knn_k = knn_k
        self.char_ngrams = char_ngrams
        self.max_word_features = max_word_features
        self.max_char_features = max_char_features
        self.entity_weight = entity_weight
        self.n_candidates = n_candidates
        self.folds = folds
        self.new_min_salience = new_min_salience
        self.link_min_support = link_min_support
        self.prune = prune
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.tag_thresholds = tag_thresholds
        self.country_links = country_links
        self.surname_links = surname_links

    # ------------------------------------------------------------------ training

    def get_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in (
            "min_tag_count", "min_clf_count", "C", "max_clf_labels", "knn_k", "char_ngrams",
            "max_word_features", "max_char_features", "entity_weight", "n_candidates", "folds",
            "new_min_salience", "link_min_support", "prune", "n_jobs", "random_state",
            "tag_thresholds", "country_links", "surname_links")}

    def fit(self, texts: Sequence[str], entities: Sequence[Sequence[Any]],
            tags: Sequence[Sequence[str]], pipeline: str = "",
            aliases: dict[str, Sequence[str]] | None = None) -> TagModel:
        """Fit on parallel lists of texts, entities (objects or dicts) and tag lists.

        ``aliases`` maps tags to other names the tag is written as (synonyms, full names).
        """
        from sklearn.model_selection import KFold

        from newstag.tagging.classifier import FeatureBuilder

        t0 = time.perf_counter()
        ents = _infos(entities)
        counts = Counter(t for ts in tags for t in set(ts))
        known = {t for t, n in counts.items() if n >= self.min_tag_count}
        tags = [[t for t in dict.fromkeys(ts) if t in known] for ts in tags]
        if not known:
            raise ValueError("no tag has enough articles to learn from")
        self.pipeline_ = pipeline
        self.label_forms_ = tag_label_forms(known, aliases)
        self.features_ = FeatureBuilder(
            char_ngrams=self.char_ngrams, max_word_features=self.max_word_features,
            max_char_features=self.max_char_features, entity_weight=self.entity_weight)
        X = self.features_.fit_transform(list(texts), [_names(e) for e in ents])
        log.info(f"features: {X.shape[0]:,} articles x {X.shape[1]:,} features "
            f"({time.perf_counter() - t0:.1f}s)")

        rows: list[list[float]] = []
        labels: list[int] = []
        groups: list[int] = []
        row_tags: list[str] = []
        gold_of: dict[int, list[str]] = {}
        n_gold = 0
        n = len(tags)
        k = min(self.folds, n)
        if k >= 2:
            splitter = KFold(n_splits=k, shuffle=True, random_state=self.random_state)
            for f, (tr, te) in enumerate(splitter.split(np.arange(n))):
                clf, knn, linker = self._fit_parts(X[tr], [ents[i] for i in tr],
                                                   [tags[i] for i in tr], aliases)
                scores = clf.decision_function(X[te]) if clf is not None else None
                votes = knn.scores(X[te])
                for j, i in enumerate(te):
                    cands = self._candidates(scores[j] if scores is not None else None, clf,
                                             _row(votes, j, knn), linker, ents[i], texts[i])
                    gold = set(tags[i])
                    n_gold += len(gold)
                    gold_of[int(i)] = sorted(gold)
                    for tag, row in cands.items():
                        rows.append(row["x"])
                        labels.append(int(tag in gold))
                        groups.append(int(i))
                        row_tags.append(tag)
                log.info(f"fold {f + 1}/{k}: {len(rows):,} candidate rows "
                    f"({time.perf_counter() - t0:.1f}s)")
        self.combiner_ = Combiner(random_state=self.random_state,
                                  tag_thresholds=self.tag_thresholds)
        self.combiner_.fit(np.asarray(rows, dtype=np.float64).reshape(-1, len(feature_row(
            None, None, None, 0.0, False))), np.asarray(labels), np.asarray(groups), n_gold,
            tags=row_tags, gold=gold_of)
        self.threshold_ = self.combiner_.threshold_
        recall_bound = sum(labels) / n_gold if n_gold else 0.0
        per_tag = self.combiner_.tag_thresholds_
        self.heldout_ = {"micro_f1": round(self.combiner_.oof_f1_, 4),
                         "candidate_recall": round(recall_bound, 4),
                         "threshold": round(self.threshold_, 4), "folds": k,
                         "tag_thresholds": len(per_tag),
                         "tag_threshold_shrink": self.combiner_.shrink_,
                         "crossfit": self.combiner_.crossfit_}
        log.info(f"combiner: held-out micro-F1 {self.combiner_.oof_f1_:.3f} at threshold "
            f"{self.threshold_:.3f} (candidates cover {recall_bound:.1%} of gold tags)")
        if self.combiner_.crossfit_:
            log.info("per-tag thresholds, cross-fitted on held-out rows (shrink: micro/macro/P@5): "
                + "; ".join(f"{k}: {v['micro_f1']:.3f}/{v['macro_f1']:.3f}/{v['p_at_5']:.3f}"
                            for k, v in self.combiner_.crossfit_.items())
                + f" -> {len(per_tag):,} tags with their own threshold "
                  f"(shrink {self.combiner_.shrink_})")
        self.clf_, self.knn_, self.linker_ = self._fit_parts(X, ents, tags, aliases)
        self.tag_counts_ = dict(Counter(t for ts in tags for t in ts))
        self.tag_types_ = self._tag_types(ents, tags)
        self.n_docs_ = n
        self.fit_seconds_ = round(time.perf_counter() - t0, 2)
        return self

    def _fit_parts(self, X: Any, ents: Sequence[list[dict[str, Any]]],
                   tags: Sequence[list[str]], aliases: dict[str, Sequence[str]] | None = None
                   ) -> tuple[Any, Any, TagLinker]:
        import scipy.sparse as sp

        from newstag.tagging.classifier import KNNTags, LinearOvR

        counts = Counter(t for ts in tags for t in ts)
        labels = sorted(t for t, c in counts.most_common(self.max_clf_labels)
                        if c >= self.min_clf_count)
        clf = None
        if labels:
            index = {t: j for j, t in enumerate(labels)}
            r, c = [], []
            for i, ts in enumerate(tags):
                for t in ts:
                    if t in index:
                        r.append(i)
                        c.append(index[t])
            Y = sp.csc_matrix((np.ones(len(r), dtype=np.int8), (r, c)),
                              shape=(X.shape[0], len(labels)))
            clf = LinearOvR(C=self.C, prune=self.prune, n_jobs=self.n_jobs).fit(X, Y, labels)
        linker = TagLinker(min_support=self.link_min_support,
                           country_forms=self.country_links, surnames=self.surname_links
                           ).fit(ents, tags, aliases=aliases)
        knn = KNNTags(k=self.knn_k).fit(X, tags)
        return clf, knn, linker

    def _candidates(self, scores: np.ndarray | None, clf: Any, votes: dict[str, float],
                    linker: TagLinker, ents: Sequence[dict[str, Any]],
                    text: str | None = None) -> dict[str, dict[str, Any]]:
        """Candidate tags for one article with their feature rows and evidence.

        ``text`` (headline, blank line, body) gives the linker the headline.
        """
        clf_info: dict[str, tuple[float, int]] = {}
        if scores is not None and len(scores):
            m = min(self.n_candidates, len(scores))
            top = np.argpartition(-scores, m - 1)[:m] if m < len(scores) else \
                np.arange(len(scores))
            top = top[np.argsort(-scores[top])]
            for rank, j in enumerate(top):
                clf_info[clf.labels_[j]] = (float(scores[j]), rank)
            label_index = getattr(clf, "_index", None)
            if label_index is None:
                label_index = clf._index = {t: j for j, t in enumerate(clf.labels_)}
        else:
            label_index = {}
        headline = text.split("\n\n", 1)[0] if text and "\n\n" in text else None
        evidence = linker.candidates(ents, headline=headline)
        knn_ranked = sorted(votes.items(), key=lambda x: (-x[1], x[0]))  # ties: by name
        knn_info = {t: (v, r) for r, (t, v) in enumerate(knn_ranked)}
        clf_top = float(scores.max()) if scores is not None and len(scores) else None
        knn_top = knn_ranked[0][1] if knn_ranked else None
        context = (sum(votes.values()),
                   int((scores > 0).sum()) if scores is not None and len(scores) else 0)
        forms = self.label_forms_  # set by fit and by load_model, for old bundles too
        label_text = LabelText(text) if forms and text else None
        out: dict[str, dict[str, Any]] = {}
        top_knn = {t for t, _ in knn_ranked[: self.n_candidates]}
        for tag in sorted(set(clf_info) | set(evidence) | top_knn):  # sorted: reproducible rows
            if tag in clf_info:
                score, rank = clf_info[tag]
            elif tag in label_index:
                j = label_index[tag]
                score = float(scores[j])
                rank = int((scores > score).sum())
            else:
                score, rank = None, None
            ev = evidence.get(tag)
            label = label_text.find(forms[tag]) if label_text and tag in forms else None
            out[tag] = {"x": feature_row(score, rank, ev, linker.prior(tag), False,
                                         knn_info.get(tag), clf_top, knn_top, label, context),
                        "ev": ev, "new": False}
        for e in ents:  # salient entities that match no known tag: a new tag
            if e.get("type") not in NEW_TYPES or e.get("salience", 0.0) < self.new_min_salience:
                continue
            if e["name"] in out or linker.known(e):
                continue
            ev = {"salience": e["salience"], "mentions": e.get("count", 0),
                  "in_headline": e.get("in_headline"), "in_lead": e.get("in_lead"),
                  "str_quality": 0.0, "link_conf": 0.0, "link_support": 0, "via_country": False,
                  "n_entities": 1, "entity_type": e.get("type", ""), "entities": [e["name"]]}
            out[e["name"]] = {"x": feature_row(None, None, ev, linker.prior(e["name"]), True,
                                               context=context),
                              "ev": ev, "new": True}
        return out

    def _tag_types(self, ents: Sequence[list[dict[str, Any]]],
                   tags: Sequence[list[str]]) -> dict[str, str]:
        """person/place/organisation for tags that name such entities, else topic."""
        votes: dict[str, Counter[str]] = {}
        index = self.linker_.string_index_
        for es, ts in zip(ents, tags, strict=True):
            gold = set(ts)
            for e in es:
                etype = TYPE_OF_ENTITY.get(e.get("type", ""))
                if not etype:
                    continue
                hit = index.get(norm(e["name"]))
                if hit and hit[0] in gold:
                    votes.setdefault(hit[0], Counter())[etype] += 1
        return {t: c.most_common(1)[0][0] for t, c in votes.items()}

    # ------------------------------------------------------------------ suggesting

    @property
    def pipeline(self) -> str:
        return self.pipeline_

    @property
    def labels(self) -> list[str]:
        return sorted(self.tag_counts_)

    def rank_batch(self, texts: Sequence[str], entities: Sequence[Sequence[Any]]
                   ) -> list[list[dict[str, Any]]]:
        """All scored candidates for each article, best first (no threshold)."""
        return self._rank(texts, _infos(entities))[0]

    def _rank(self, texts: Sequence[str], ents: Sequence[Sequence[dict[str, Any]]]
              ) -> tuple[list[list[dict[str, Any]]], Any]:
        """:meth:`rank_batch` of entity infos, with the articles' feature matrix."""
        X = self.features_.transform(list(texts), [_names(e) for e in ents])
        scores = self.clf_.decision_function(X) if self.clf_ is not None else None
        votes = self.knn_.scores(X)
        all_cands = []
        rows: list[list[float]] = []
        row_tags: list[str] = []
        for i, es in enumerate(ents):
            cands = self._candidates(scores[i] if scores is not None else None, self.clf_,
                                     _row(votes, i, self.knn_), self.linker_, es, texts[i])
            all_cands.append(cands)
            rows += [c["x"] for c in cands.values()]
            row_tags += list(cands)
        probs = self.combiner_.score(np.asarray(rows), row_tags) if rows else np.zeros(0)
        out = []
        pos = 0
        for i, cands in enumerate(all_cands):
            tags = list(cands)
            p = probs[pos:pos + len(tags)]
            pos += len(tags)
            ranked = sorted(zip(tags, p, strict=True), key=lambda x: (-x[1], x[0]))
            out.append([{"tag": t, "score": float(s), "ev": cands[t]["ev"],
                         "new": cands[t]["new"], "row": i} for t, s in ranked])
        return out, X

    def suggest_batch(self, articles: Sequence[Any], entities: Sequence[Sequence[Any]],
                      top_k: int = 10, min_score: float = 0.0,
                      explain: bool = True) -> list[list[dict[str, Any]]]:
        """Tag dicts (public contract) for each article: thresholded, ranked, explained."""
        texts = [a if isinstance(a, str) else a.text for a in articles]
        ents = _infos(entities)
        ranked, X = self._rank(texts, ents)
        cut = max(self.threshold_, min_score)
        results = []
        for i, (cands, es) in enumerate(zip(ranked, ents, strict=True)):
            chosen = [c for c in cands if c["score"] >= cut][:top_k]
            if not chosen:
                results.append([])
                continue
            by_name = {e["name"]: e for e in es}
            lo, hi = X.indptr[i], X.indptr[i + 1]
            row = (X.indices[lo:hi], X.data[lo:hi]) if explain else None
            results.append([self._tag_dict(c, by_name, row) for c in chosen])
        return results

    def suggest(self, article: Any, entities: Sequence[Any], top_k: int = 10,
                min_score: float = 0.0) -> list[dict[str, Any]]:
        """Suggestions for one article (``Article`` or text) given its entities."""
        return self.suggest_batch([article], [entities], top_k=top_k, min_score=min_score)[0]

    def _tag_dict(self, cand: dict[str, Any], by_name: dict[str, dict[str, Any]],
                  x: tuple[np.ndarray, np.ndarray] | None) -> dict[str, Any]:
        """The public tag dict of a chosen candidate; ``x``: the article's features
        (column indices and values) when the classifier's terms explain it."""
        tag = cand["tag"]
        ev = cand["ev"]
        evidence: list[dict[str, Any]] = []
        has_terms = False
        if x is not None and self.clf_ is not None and not cand["new"]:
            terms = self._terms(tag, x)
            has_terms = bool(terms)
            evidence += terms
        if ev:
            strength = ev.get("strength") or {}
            names = sorted(ev["entities"], key=lambda n: -strength.get(n, 1.0))
            shown = [n for n in names if strength.get(n, 1.0) >= 0.5][:3] or names[:1]
            for name in shown:
                info = by_name.get(name)
                if info is None:
                    continue
                for text, start, end in info["mentions"][:3]:
                    item = {"kind": "mention", "text": text, "start": start, "end": end}
                    if name != tag:
                        item["via"] = name
                    evidence.append(item)
        if cand["new"]:
            source = "entity"
        elif ev and has_terms:
            source = "classifier+entity"
        elif ev and not has_terms:
            source = "entity"
        else:
            source = "classifier"
        etype = ev.get("entity_type") if cand["new"] and ev else self.tag_types_.get(tag, "topic")
        out = {"tag": tag, "type": TYPE_OF_ENTITY.get(etype or "", "topic"),
               "score": round(float(cand["score"]), 4), "source": source,
               "evidence": evidence}
        if cand["new"]:
            out["new"] = True
        return out

    def _terms(self, tag: str, x: tuple[np.ndarray, np.ndarray], n: int = 5
               ) -> list[dict[str, Any]]:
        """The classifier's strongest positive terms for ``tag`` in this article.

        ``x``: the article's feature columns and values. The products with the tag's
        weights are taken in increasing column order, as the sparse product gives them.
        """
        index = getattr(self.clf_, "_index", None)
        if index is None:
            index = self.clf_._index = {t: j for j, t in enumerate(self.clf_.labels_)}
        j = index.get(tag)
        if j is None:
            return []
        coef = self.clf_.coef_
        lo, hi = coef.indptr[j], coef.indptr[j + 1]
        x_cols, x_vals = x
        cols, in_x, in_w = np.intersect1d(x_cols, coef.indices[lo:hi], assume_unique=True,
                                          return_indices=True)
        data = x_vals[in_x] * coef.data[lo:hi][in_w]
        nonzero = data != 0
        data, cols = data[nonzero], cols[nonzero]
        if not len(data):
            return []
        order = np.argsort(-data)[:n]
        names = self._feature_names()
        return [{"kind": "term", "text": str(names[cols[o]]), "weight": round(float(data[o]), 4)}
                for o in order if data[o] > 0]

    def _feature_names(self) -> np.ndarray:
        names = getattr(self, "_names_cache", None)
        if names is None:
            names = self._names_cache = self.features_.feature_names()
        return names

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_names_cache", None)
        return state

