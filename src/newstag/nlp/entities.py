"""Named entities of an article: from the NER spans of a parsed text to grouped, typed and
scored entities.

Mentions (:mod:`newstag.nlp.mentions`) are typed and named by the normalisation rules
(:mod:`newstag.nlp.normalise`: nationalities and abbreviations to their country, cities to
the country they are in) and grouped into one :class:`Entity` per real-world thing within the
article ("Putin" joins "Vladimir Putin"). Each entity gets a salience score in [0, 1]
(:mod:`newstag.nlp.salience`). The spaCy pipeline is loaded by :mod:`newstag.nlp.pipeline`.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from newstag.io.article import Article
from newstag.nlp.gazetteer import Gazetteer
from newstag.nlp.grouping import is_region, org_short_form_of
from newstag.nlp.mentions import RawMention, raw_mentions
from newstag.nlp.normalise import ResolveContext, resolve
from newstag.nlp.pipeline import load_pipeline, resolve_pipeline_name
from newstag.nlp.salience import score_entities

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language
    from spacy.tokens import Doc


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
            "name": self.name,
            "type": self.type,
            "label": self.label,
            "count": self.count,
            "salience": round(self.salience, 4),
            "in_headline": self.in_headline,
            "in_lead": self.in_lead,
            "country": self.country,
            "aliases": sorted(self.aliases),
            "mentions": [m.to_dict() for m in self.mentions],
        }


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

    def extract_many(
        self, articles: Iterable[Article], batch_size: int = 64, n_process: int = 1
    ) -> Iterator[list[Entity]]:
        """Entities for each article, in input order; ``n_process`` > 1 uses several cores."""
        for _, found in self.extract_pairs(articles, batch_size, n_process):
            yield found

    def extract_pairs(
        self, articles: Iterable[Article], batch_size: int = 64, n_process: int = 1
    ) -> Iterator[tuple[Article, list[Entity]]]:
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


def entities_from_doc(doc: Doc, article: Article) -> list[Entity]:
    """Group and score the entities of ``doc`` (the parsed ``article.text``: a spaCy ``Doc``,
    or a :class:`newstag.nlp.chunks.MergedDoc` for a text parsed in pieces), most salient
    first."""
    from newstag.nlp import gazetteer

    gaz = gazetteer.load()
    raws = raw_mentions(doc, article, gaz)
    entities = _merge_short_forms(_group([r for r in raws if r.confirmed], gaz), gaz)
    _attach_doubtful([r for r in raws if not r.confirmed], entities, gaz)
    _find_in_headline(entities, article)
    for entity in entities:
        entity.mentions.sort(key=lambda m: m.start)
        entity.name = _canonical_name(entity)
    score_entities(entities, article)
    entities.sort(key=lambda e: (-e.salience, e.mentions[0].start))
    return entities


def _group(confirmed: list[RawMention], gaz: Gazetteer) -> list[Entity]:
    """One entity per (type, canonical name) of the resolved mentions, in order of first
    mention."""
    ctx = ResolveContext(
        gaz,
        person_words={
            w for r in confirmed if r.label == "PERSON" and " " in r.text for w in r.text.split()
        },
        alone={r.text for r in confirmed if " " not in r.text},
    )
    groups: dict[tuple[str, str], Entity] = {}
    for raw in confirmed:
        etype, name, label, country = resolve(raw.text, raw.label, ctx)
        entity = groups.get((etype, name.lower()))
        if entity is None:
            entity = groups[(etype, name.lower())] = Entity(name, etype, label, country=country)
        entity.mentions.append(Mention(raw.text, raw.start, raw.end))
        entity.aliases.add(raw.text)
    return list(groups.values())


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[\s\-]+", name.replace(".", "")) if t]


def _initials(name: str, gaz: Gazetteer) -> str:
    return "".join(t[0] for t in _tokens(name) if t.lower() not in gaz.particles).upper()


def _merge_short_forms(entities: list[Entity], gaz: Gazetteer) -> list[Entity]:
    """Join short forms to the full names used elsewhere ("Kim" -> "Kim Jong Un", "UN")."""
    merged: set[int] = set()
    _join_person_short_forms(entities, merged)
    _join_acronyms(entities, merged, gaz)
    _join_org_short_forms(entities, merged, gaz)
    return [e for e in entities if id(e) not in merged]


def _join(short: Entity, full: Entity, merged: set[int]) -> None:
    """Move the mentions and aliases of ``short`` to ``full``; ``short`` is merged."""
    full.mentions += short.mentions
    full.aliases |= short.aliases
    merged.add(id(short))


def _join_person_short_forms(entities: list[Entity], merged: set[int]) -> None:
    """A part of a person's full name ("Kim", "Putin") joins the most mentioned person it is
    part of; only one-word organisations and country-less places do."""
    persons = [e for e in entities if e.type == "person"]
    candidates = [
        e
        for e in entities
        if e.type in ("person", "organisation") or (e.type == "place" and e.country is None)
    ]
    # shortest first, so "Kim" joins "Kim Jong Un" rather than a two-word variant
    for short in sorted(candidates, key=lambda e: len(_tokens(e.name))):
        words = [t.lower() for t in _tokens(short.name)]
        targets = [
            full
            for full in persons
            if full is not short
            and id(full) not in merged
            and len(_tokens(full.name)) > len(words)
            and _contains(words, [t.lower() for t in _tokens(full.name)])
        ]
        if targets and (short.type == "person" or len(words) == 1):
            _join(short, max(targets, key=lambda e: e.count), merged)


def _join_acronyms(entities: list[Entity], merged: set[int], gaz: Gazetteer) -> None:
    """An organisation's acronym ("UN", "N.A.T.O.") joins the first organisation it is the
    initials of."""
    orgs = [e for e in entities if e.type == "organisation"]
    for short in orgs:
        squeezed = short.name.replace(".", "")
        if id(short) in merged or not (squeezed.isupper() and 2 <= len(squeezed) <= 6):
            continue
        for full in orgs:
            if (
                full is not short
                and id(full) not in merged
                and _initials(full.name, gaz) == squeezed
            ):
                _join(short, full, merged)
                break


def _join_org_short_forms(entities: list[Entity], merged: set[int], gaz: Gazetteer) -> None:
    """ "Senate" joins "US Senate", "Fed" "Federal Reserve" (see
    :func:`newstag.nlp.grouping.org_short_form_of`)."""
    orgs = [e for e in entities if e.type == "organisation"]
    for short in sorted(orgs, key=lambda e: len(_tokens(e.name))):
        targets = [
            full
            for full in orgs
            if full is not short
            and id(full) not in merged
            and id(short) not in merged
            and org_short_form_of(_tokens(short.name), _tokens(full.name), gaz)
        ]
        if targets:
            _join(short, max(targets, key=lambda e: e.count), merged)


def _contains(part: list[str], whole: list[str]) -> bool:
    """True if ``part`` is a prefix, suffix or the first+last tokens of ``whole``."""
    n = len(part)
    if whole[:n] == part or whole[-n:] == part:
        return True
    return n == 2 and part == [whole[0], whole[-1]]


def _attach_doubtful(raws: list[RawMention], entities: list[Entity], gaz: Gazetteer) -> None:
    """Keep Title Case headline spans only when they name an entity of the body or a place."""
    for raw in raws:
        words = [t.lower() for t in _tokens(raw.text)]
        acronym = raw.text.replace(".", "")
        target = next(
            (
                e
                for e in entities
                if raw.text.lower() in {a.lower() for a in e.aliases} | {e.name.lower()}
                or (e.type == "person" and _contains(words, [t.lower() for t in _tokens(e.name)]))
                or (
                    e.type == "organisation"
                    and acronym.isupper()
                    and _initials(e.name, gaz) == acronym
                )
            ),
            None,
        )
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
        target = Entity(
            name,
            "place",
            "LOC" if region else "GPE",
            country=None if region else country or place[1],
        )
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
