"""TagModel: the trained tag suggester that unites its candidate sources in one score.

Candidate sources (:mod:`.sources`, registered by name; ``sources`` lists the model's)
propose tags for an article and describe each candidate with named features: the
classifier's scores, the neighbours' votes, the entities linked to tags (and new salient
entities), the tag's own name written in the text. The combiner (:mod:`.combiner`) turns a
candidate's features, read by name, into one probability.

Training (:meth:`TagModel.fit`):

1. the feature builder (word + character TF-IDF + entity names) is fitted on all texts;
2. on ``folds`` held-out folds, the sources are fitted on the other folds, and every
   candidate tag of the held-out articles becomes a feature row labelled by the article's
   real tags (:mod:`.heldout`);
3. the combiner is fitted on those rows, its global threshold tuned for micro-F1 and,
   where the held-out rows support it, per-tag thresholds (see :mod:`.combiner`);
4. the sources are refitted on all articles.

``aliases`` (tag -> other names, e.g. from ``newstag train --tag-aliases FILE``) feed the
linker's string matching and the tag's word forms, in the held-out folds as in the final
model. Explanations of the suggestions live apart, in :mod:`.explain`.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from newstag.nlp.cache import entity_info
from newstag.tagging.estimator import Estimator
from newstag.tagging.linker import norm
from newstag.tagging.sources import (
    DEFAULT_SOURCES,
    Batch,
    CandidateSource,
    TrainingSet,
    feature_order,
    source_class,
)

TYPE_OF_ENTITY = {"person": "person", "place": "place", "organisation": "organisation"}

log = logging.getLogger(__name__)


def _names(ents: Sequence[dict[str, Any]]) -> list[str]:
    return [e["name"] for e in ents]


def _pick(dates: Sequence[str | None] | None, index: Any) -> list[str | None] | None:
    """The dates of the articles at ``index`` (None without dates)."""
    return [dates[i] for i in index] if dates is not None else None


def _latest(dates: Sequence[str | None] | None) -> str | None:
    """The latest readable date (ISO): undated held-out articles count as of then."""
    from newstag.tagging.folds import date_key

    keys = [k for k in map(date_key, dates or ()) if k is not None]
    return max(keys).isoformat() if keys else None


def _infos(entities: Sequence[Sequence[Any]]) -> list[list[dict[str, Any]]]:
    """Entity info dicts (:func:`entity_info`) of each article; info dicts pass as they are."""
    return [
        [e if isinstance(e, dict) and "aliases" in e else entity_info(e) for e in es]
        for es in entities
    ]


class TagModel(Estimator):
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
    surname alone matches the one person tag with that surname), ``sources`` (the
    registered candidate sources, :mod:`newstag.tagging.sources`), ``fold_split``
    (``"random"`` folds, or ``"date"``: held-out folds contiguous in time, see
    :mod:`newstag.tagging.folds`), ``archive`` (whose archive it learns: ``"own"``, the
    newsroom's, whose scores then lead, or ``"general"``, a vocabulary used on other
    newsrooms' stories, where the story's entities weigh as much; see
    :mod:`newstag.tagging.assemble`). A source's parameters
    take the values of the model's parameters of the same name. Training is
    deterministic: the same corpus and parameters give the same model.
    """

    def __init__(
        self,
        min_tag_count: int = 1,
        min_clf_count: int = 1,
        C: float = 1.0,
        max_clf_labels: int = 300,
        knn_k: int = 20,
        char_ngrams: tuple[int, int] | None = None,
        max_word_features: int | None = 200_000,
        max_char_features: int | None = 100_000,
        entity_weight: float = 0.1,
        n_candidates: int = 15,
        folds: int = 5,
        new_min_salience: float = 0.3,
        link_min_support: int = 2,
        prune: int = 2000,
        n_jobs: int = 1,
        random_state: int = 0,
        tag_thresholds: bool = True,
        country_links: bool = True,
        surname_links: bool = True,
        sources: tuple[str, ...] = DEFAULT_SOURCES,
        fold_split: str = "random",
        archive: str = "own",
    ) -> None:
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
        self.sources = sources
        self.fold_split = fold_split
        self.archive = archive

    # ------------------------------------------------------------------ parts

    def new_sources(self) -> list[CandidateSource]:
        """Unfitted candidate sources, configured from this model's parameters."""
        return [source_class(name).from_model(self) for name in self.sources]

    def _part(self, source: str, attr: str) -> Any:
        sources = self.__dict__.get("sources_") or {}
        return getattr(sources.get(source), attr, None)

    @property
    def clf_(self) -> Any:
        """The ``classifier`` source's :class:`LinearOvR` (None without one)."""
        return self._part("classifier", "clf_")

    @property
    def knn_(self) -> Any:
        """The ``knn`` source's :class:`KNNTags` (None without one)."""
        return self._part("knn", "knn_")

    @property
    def linker_(self) -> Any:
        """The ``linker`` source's :class:`TagLinker` (None without one)."""
        return self._part("linker", "linker_")

    @property
    def label_forms_(self) -> dict[str, tuple[str, ...]]:
        """Each known tag's word forms (the ``labels`` source's; empty without it)."""
        return self._part("labels", "forms_") or {}

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The combiner's features, in its column order."""
        return self.combiner_.feature_names_

    # ------------------------------------------------------------------ training

    def fit(
        self,
        texts: Sequence[str],
        entities: Sequence[Sequence[Any]],
        tags: Sequence[Sequence[str]],
        pipeline: str = "",
        aliases: dict[str, Sequence[str]] | None = None,
        dates: Sequence[str | None] | None = None,
    ) -> TagModel:
        """Fit on parallel lists of texts, entities (objects or dicts) and tag lists.

        ``aliases`` maps tags to other names the tag is written as (synonyms, full names).
        ``dates`` (the articles' dates, or None) place the held-out folds when
        ``fold_split="date"`` and date the tags' use for the ``period`` source.
        """
        from newstag.tagging.classifier import FeatureBuilder

        t0 = time.perf_counter()
        ents = _infos(entities)
        counts = Counter(t for ts in tags for t in set(ts))
        known = {t for t, n in counts.items() if n >= self.min_tag_count}
        tags = [[t for t in dict.fromkeys(ts) if t in known] for ts in tags]
        if not known:
            raise ValueError("no tag has enough articles to learn from")
        self.pipeline_ = pipeline
        self.features_ = FeatureBuilder(
            char_ngrams=self.char_ngrams,
            max_word_features=self.max_word_features,
            max_char_features=self.max_char_features,
            entity_weight=self.entity_weight,
        )
        X = self.features_.fit_transform(list(texts), [_names(e) for e in ents])
        log.info(
            f"features: {X.shape[0]:,} articles x {X.shape[1]:,} features "
            f"({time.perf_counter() - t0:.1f}s)"
        )
        data = TrainingSet(X, ents, tags, aliases, known, list(dates) if dates else None)
        self._fit_combiner(data, texts, t0, dates)
        self.sources_ = self._fit_sources(data)
        self.tag_counts_ = dict(Counter(t for ts in tags for t in ts))
        self.tag_types_ = self._tag_types(ents, tags)
        self.n_docs_ = len(tags)
        self.fit_seconds_ = round(time.perf_counter() - t0, 2)
        return self

    def _fit_sources(self, data: TrainingSet) -> dict[str, CandidateSource]:
        return {s.name: s.fit(data) for s in self.new_sources()}

    def _fit_combiner(
        self,
        data: TrainingSet,
        texts: Sequence[str],
        t0: float,
        dates: Sequence[str | None] | None = None,
    ) -> None:
        """Candidate rows of held-out folds (sources fitted on the other folds) -> combiner."""
        from newstag.tagging.combiner import Combiner
        from newstag.tagging.heldout import HeldoutRows

        names = feature_order(self.new_sources())
        rows = HeldoutRows()
        n = len(data.tags)
        k = min(self.folds, n)
        for f, (tr, te) in enumerate(self._folds(n, k, dates)):
            sources = self._fit_sources(
                TrainingSet(
                    data.X[tr],
                    [data.entities[i] for i in tr],
                    [data.tags[i] for i in tr],
                    data.aliases,
                    data.vocabulary,
                    _pick(data.dates, tr),
                )
            )
            batch = Batch(
                [texts[i] for i in te],
                [data.entities[i] for i in te],
                data.X[te],
                _pick(data.dates, te),
                _latest(_pick(data.dates, tr)),
            )
            for i, cands in zip(te, self._candidate_lists(sources, batch, names), strict=True):
                rows.add(int(i), data.tags[i], cands)
            log.info(
                f"fold {f + 1}/{k}: {len(rows):,} candidate rows ({time.perf_counter() - t0:.1f}s)"
            )
        self.combiner_ = Combiner(
            random_state=self.random_state, tag_thresholds=self.tag_thresholds
        )
        rows.fit(self.combiner_, names)
        self.threshold_ = self.combiner_.threshold_
        self.heldout_ = rows.report(self.combiner_, k)

    def _folds(self, n: int, k: int, dates: Sequence[str | None] | None = None) -> Any:
        """(train, held-out) index arrays of the ``k`` folds: shuffled, or by date."""
        if k < 2:
            return []
        if self.fold_split == "date":
            from newstag.tagging.folds import date_folds

            return date_folds(
                list(dates) if dates is not None else [None] * n, k, self.random_state
            )
        if self.fold_split != "random":
            raise ValueError(f"fold_split must be 'random' or 'date', not {self.fold_split!r}")
        from sklearn.model_selection import KFold

        return KFold(n_splits=k, shuffle=True, random_state=self.random_state).split(np.arange(n))

    # ------------------------------------------------------------------ candidates

    def _candidate_lists(
        self, sources: dict[str, CandidateSource], batch: Batch, names: Sequence[str]
    ) -> list[dict[str, dict[str, Any]]]:
        """Each article's candidate tags with their feature rows (in ``names`` order)."""
        from newstag.tagging.combiner import feature_vector

        scanned = [(s, s.scan(batch)) for s in sources.values()]
        out = []
        for i in range(len(batch.texts)):
            views = [(s, states[i]) for s, states in scanned]
            cands: dict[str, dict[str, Any]] = {}
            proposed = set().union(*(s.propose(st) for s, st in views))
            for tag in sorted(proposed):  # sorted: reproducible rows
                cands[tag] = {
                    "x": feature_vector(self._features(views, tag, False), names),
                    "ev": self._detail(views, tag),
                    "new": False,
                }
            for s, st in views:
                for tag, ev in s.new_tags(st, set(cands)).items():
                    cands[tag] = {
                        "x": feature_vector(self._features(views, tag, True), names),
                        "ev": ev,
                        "new": True,
                    }
            out.append(cands)
        return out

    @staticmethod
    def _features(
        views: list[tuple[CandidateSource, Any]], tag: str, new: bool
    ) -> dict[str, float]:
        merged: dict[str, float] = {}
        for source, state in views:
            merged.update(source.features(state, tag, new))
        return merged

    @staticmethod
    def _detail(views: list[tuple[CandidateSource, Any]], tag: str) -> dict[str, Any] | None:
        for source, state in views:
            detail = source.detail(state, tag)
            if detail is not None:
                return detail
        return None

    def _tag_types(
        self, ents: Sequence[list[dict[str, Any]]], tags: Sequence[list[str]]
    ) -> dict[str, str]:
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

    def rank_batch(
        self,
        texts: Sequence[str],
        entities: Sequence[Sequence[Any]],
        dates: Sequence[str | None] | None = None,
    ) -> list[list[dict[str, Any]]]:
        """All scored candidates for each article, best first (no threshold).

        ``dates``: the articles' dates (None, or None entries: today), for models that
        learned when tags were in use (the ``period`` source); others ignore them."""
        return self.rank_articles(texts, _infos(entities), dates)[0]

    def rank_articles(
        self,
        texts: Sequence[str],
        ents: Sequence[Sequence[dict[str, Any]]],
        dates: Sequence[str | None] | None = None,
    ) -> tuple[list[list[dict[str, Any]]], Any]:
        """:meth:`rank_batch` of entity infos, with the articles' feature matrix (rows for
        :meth:`explain` and :meth:`term_names`).

        Each candidate: ``tag``, ``score``, ``ev`` (entity evidence or None), ``new``,
        ``row`` (the article's row in the matrix).
        """
        X = self.features_.transform(list(texts), [_names(e) for e in ents])
        cand_lists = self._candidate_lists(
            self.sources_, Batch(texts, ents, X, dates), self.combiner_.feature_names_
        )
        rows = [c["x"] for cands in cand_lists for c in cands.values()]
        row_tags = [t for cands in cand_lists for t in cands]
        probs = self.combiner_.score(np.asarray(rows), row_tags) if rows else np.zeros(0)
        out = []
        pos = 0
        for i, cands in enumerate(cand_lists):
            tags = list(cands)
            p = probs[pos : pos + len(tags)]
            pos += len(tags)
            ranked = sorted(zip(tags, p, strict=True), key=lambda x: (-x[1], x[0]))
            out.append(
                [
                    {
                        "tag": t,
                        "score": float(s),
                        "ev": cands[t]["ev"],
                        "new": cands[t]["new"],
                        "row": i,
                    }
                    for t, s in ranked
                ]
            )
        return out, X

    def candidates(
        self,
        texts: Sequence[str],
        entities: Sequence[Sequence[Any]],
        dates: Sequence[str | None] | None = None,
    ) -> list[dict[str, dict[str, Any]]]:
        """Each article's candidate tags, unscored: ``features`` (name -> value, from every
        source), ``ev`` (entity evidence) and ``new``; ``dates`` as in :meth:`rank_batch`."""
        ents = _infos(entities)
        X = self.features_.transform(list(texts), [_names(e) for e in ents])
        names = self.combiner_.feature_names_
        return [
            {
                tag: {
                    "features": dict(zip(names, c["x"], strict=True)),
                    "ev": c["ev"],
                    "new": c["new"],
                }
                for tag, c in cands.items()
            }
            for cands in self._candidate_lists(self.sources_, Batch(texts, ents, X, dates), names)
        ]

    def suggest_batch(
        self,
        articles: Sequence[Any],
        entities: Sequence[Sequence[Any]],
        top_k: int = 10,
        min_score: float = 0.0,
        explain: bool = True,
        dates: Sequence[str | None] | None = None,
    ) -> list[list[dict[str, Any]]]:
        """Tag dicts (public contract) for each article: thresholded, ranked, explained.

        ``dates`` default to the articles' own (``Article.date``; texts: today)."""
        from newstag.tagging.explain import tag_dict

        texts = [a if isinstance(a, str) else a.text for a in articles]
        if dates is None:
            dates = [getattr(a, "date", None) for a in articles]
        ents = _infos(entities)
        ranked, X = self.rank_articles(texts, ents, dates)
        cut = max(self.threshold_, min_score)
        results = []
        for i, (cands, es) in enumerate(zip(ranked, ents, strict=True)):
            chosen = [c for c in cands if c["score"] >= cut][:top_k]
            if not chosen:
                results.append([])
                continue
            by_name = {e["name"]: e for e in es}
            row = X.row(i) if explain else None
            results.append([tag_dict(self, c, by_name, row) for c in chosen])
        return results

    def suggest(
        self, article: Any, entities: Sequence[Any], top_k: int = 10, min_score: float = 0.0
    ) -> list[dict[str, Any]]:
        """Suggestions for one article (``Article`` or text) given its entities."""
        return self.suggest_batch([article], [entities], top_k=top_k, min_score=min_score)[0]

    def explain(
        self,
        cand: dict[str, Any],
        by_name: dict[str, dict[str, Any]],
        x: tuple[np.ndarray, np.ndarray] | None,
    ) -> list[dict[str, Any]]:
        """Evidence of a ranked candidate: the classifier's terms in the article (``x``: its
        feature columns and values) and its entities' mentions (``by_name``: entity infos)."""
        from newstag.tagging.explain import candidate_evidence

        return candidate_evidence(self, cand, by_name, x)[0]

    def term_names(self) -> np.ndarray:
        """The name of each feature column of :meth:`rank_articles`' matrix."""
        names = self.__dict__.get("_names_cache")
        if names is None:
            names = self._names_cache = self.features_.feature_names()
        return names

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_names_cache", None)
        return state
