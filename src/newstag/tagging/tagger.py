"""The Tagger: article -> entities -> candidate tags -> scores -> ranked, explained suggestions.

With a trained model (``newstag.tagging``) the model scores the candidates from its
classifier and the entity evidence; without one, tags come from the salient entities.
Either way :mod:`newstag.tagging.assemble` then lets the story's own entities compete with the
model's tags and applies the house rules (:mod:`newstag.tagging.house_rules`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newstag.io.article import Article, to_article
from newstag.nlp.entities import Entity, EntityExtractor
from newstag.nlp.pipeline import pipeline_for_bundle, pipelines_for_bundle

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from newstag.tagging import TagModel
    from newstag.tagging.house_rules import Rules

CITY_WEIGHT = 0.8
"""A city's own tag scores below its salience: the country usually matters more to editors."""
ROLL_UP_WEIGHT = 0.5
"""How much a city's salience supports its country's tag (noisy-or)."""


def entity_suggestions(
    entities: list[Entity], top_k: int = 10, min_score: float = 0.0
) -> list[dict[str, Any]]:
    """Tags from salient entities: people, organisations, places (cities roll up to countries)."""
    by_name: dict[str, Entity] = {}
    for entity in entities:  # one name typed two ways: the more central entity
        if entity.name not in by_name or entity.salience > by_name[entity.name].salience:
            by_name[entity.name] = entity
    tags: dict[str, dict[str, Any]] = {}
    for entity in by_name.values():
        if entity.type == "group":
            continue
        score = entity.salience
        if entity.type == "place" and entity.country and entity.country != entity.name:
            score *= CITY_WEIGHT
        tags[entity.name] = {
            "tag": entity.name,
            "type": entity.type,
            "score": score,
            "source": "entity",
            "evidence": [{"kind": "mention", **m.to_dict()} for m in entity.mentions],
        }
    for entity in entities:  # roll places up to their country
        country = entity.country
        if entity.type != "place" or not country or country == entity.name:
            continue
        tag = tags.get(country)
        if tag is None:
            own = by_name.get(country)
            tag = tags[country] = {
                "tag": country,
                "type": "place",
                "score": own.salience if own else 0.0,
                "source": "entity",
                "evidence": [],
            }
        tag["score"] = 1 - (1 - tag["score"]) * (1 - ROLL_UP_WEIGHT * entity.salience)
        tag["evidence"] += [
            {"kind": "mention", **m.to_dict(), "via": entity.name} for m in entity.mentions
        ]
    ranked = sorted(tags.values(), key=lambda t: (-t["score"], t["tag"]))
    for tag in ranked:
        tag["score"] = round(min(1.0, tag["score"]), 4)
    return [t for t in ranked if t["score"] >= min_score][:top_k]


class Tagger:
    """Suggest tags for articles, with a trained model or from entities alone."""

    def __init__(
        self,
        model: TagModel | None = None,
        extractor: EntityExtractor | None = None,
        rules: Rules | None = None,
    ) -> None:
        self.model = model
        self.extractor = extractor or EntityExtractor(
            pipeline_for_bundle(getattr(model, "pipeline", None))
        )
        self.rules = rules

    @classmethod
    def load(
        cls,
        model: str | Path | None = "default",
        pipeline: str | None = None,
        rules: str | Path | Rules | None = None,
    ) -> Tagger:
        """Load a tagger. ``model``: a bundle directory, ``"default"``/``None`` for the shipped
        model (a :class:`ModelError` when it is not installed), or ``"none"`` for entities only.
        ``rules``: house rules, a TOML file (:mod:`newstag.tagging.house_rules`) or parsed;
        ``None`` applies the bundle's own rules (if it carries any), ``"none"`` no rules."""
        from newstag.paths import model_dir
        from newstag.tagging.bundle_rules import effective_rules

        bundle: TagModel | None = None
        path = model_dir(model)
        if path is not None:
            from newstag.tagging import ModelError, load_model

            shipped = model is None or str(model) == "default"
            if shipped and not (path / "manifest.json").exists():
                raise ModelError(
                    f"{path}: the shipped model is not installed there; set "
                    "NEWSTAG_DEFAULT_MODEL to a model folder, or use --model none "
                    "for entity tags"
                )
            bundle = load_model(path)
            if pipeline and pipeline not in pipelines_for_bundle(bundle.pipeline):
                raise ModelError(
                    f"{path}: the model was trained with spaCy pipeline {bundle.pipeline!r}, "
                    f"not {pipeline!r}; retrain it or drop --pipeline"
                )
        house = effective_rules(
            rules, path if bundle is not None else None, getattr(bundle, "manifest_", None)
        )
        return cls(
            bundle,
            EntityExtractor(pipeline or pipeline_for_bundle(getattr(bundle, "pipeline", None))),
            house,
        )

    @property
    def mode(self) -> str:
        return "model" if self.model is not None else "entities"

    def entities(self, article: Article | str | dict[str, Any]) -> list[Entity]:
        return self.extractor.extract(to_article(article))

    def suggest(
        self, article: Article | str | dict[str, Any], top_k: int = 10, min_score: float = 0.0
    ) -> dict[str, Any]:
        """Ranked suggestions for one article, as the public JSON contract."""
        article = to_article(article)
        return self._results([(article, self.extractor.extract(article))], top_k, min_score)[0]

    def suggest_many(
        self,
        articles: Iterable[Article | str | dict[str, Any]],
        top_k: int = 10,
        min_score: float = 0.0,
        n_process: int = 1,
        batch_size: int = 64,
    ) -> Iterator[dict[str, Any]]:
        """Suggestions for many articles, in order; ``n_process`` > 1 runs spaCy on more cores.

        ``articles`` may be a stream: results come out as they are ready, ``batch_size`` at
        a time, with only a few batches read ahead (one pool of spaCy workers throughout)."""
        items: Iterable[Article] = (to_article(a) for a in articles)
        if isinstance(articles, Sequence):
            items = list(items)
        pairs = self.extractor.extract_pairs(items, batch_size=batch_size, n_process=n_process)
        for chunk in _batches(pairs, batch_size):
            yield from self._results(chunk, top_k, min_score)

    def _results(
        self, chunk: list[tuple[Article, list[Entity]]], top_k: int, min_score: float
    ) -> list[dict[str, Any]]:
        from newstag.tagging.assemble import assemble_batch

        if not chunk:
            return []
        # the model scores a batch at once; the story's entities and the rules join after
        tag_lists = assemble_batch(
            self.model, chunk, top_k=top_k, min_score=min_score, rules=self.rules
        )
        return [self._result(a, e, tags) for (a, e), tags in zip(chunk, tag_lists, strict=True)]

    def _result(
        self, article: Article, entities: list[Entity], tags: list[dict[str, Any]]
    ) -> dict[str, Any]:
        result: dict[str, Any] = {
            "title": article.title,
            "tags": tags,
            "entities": [e.to_dict() for e in entities],
            "warnings": list(article.warnings),
        }
        if article.id is not None:
            result["id"] = article.id
        return result

    def suggest_frame(self, df: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
        """Tag a DataFrame of articles (see :func:`newstag.jobs.frames.suggest_frame`)."""
        from newstag.jobs.frames import suggest_frame

        return suggest_frame(self, df, **kwargs)

    def entities_frame(self, df: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
        """Entities of a DataFrame of articles (see :func:`newstag.jobs.frames.entities_frame`)."""
        from newstag.jobs.frames import entities_frame

        return entities_frame(self, df, **kwargs)


def _batches(
    pairs: Iterable[tuple[Article, list[Entity]]], size: int
) -> Iterator[list[tuple[Article, list[Entity]]]]:
    """Consecutive lists of ``size`` pairs (the last may be shorter)."""
    pairs = iter(pairs)
    while chunk := list(islice(pairs, size)):
        yield chunk
