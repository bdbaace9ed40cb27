"""Which entities stand for which tags, learned from a tagged corpus.

Two kinds of link:

* string links: a tag and an entity name that normalise to the same key
  ("Kim Jong-un" / "Kim Jong Un", NYT style "Putin, Vladimir V" / "Vladimir Putin",
  slugs such as "james-baker" / "James Baker"), or an entity name that normalises to one of
  the tag's aliases given at training time (a tag vocabulary's synonyms: "alfonsin" /
  "Raul Alfonsin", see :func:`newstag.io.corpus.read_tag_aliases`);
* co-occurrence links: an entity key seen in ``n`` training articles, ``k`` of which carry
  the tag, links to the tag with confidence ``k / n`` ("U.S." -> "usa", "Kyiv" -> "Ukraine",
  "Australia" -> "Oceania").

Places also contribute their country, so cities roll up to country tags; a tag that is a
country's code or other name ("usa", "uk", "Burma") is linked by string to the gazetteer's
name of the country ("United States"), which place entities carry.

Each candidate also records where and how much its entities are mentioned: their mentions
by string and via a country, whether one of them is the first place or person of the body
(a dateline's place) or the most mentioned one, its share of the mentions of its type, and
whether a form of it occurs in the headline regardless of case (all-caps wire headlines).

Each candidate keeps the evidence of its string matches apart from its co-occurrence links
(how salient the matched entity is, how salient the linking entity is times the link's
confidence), and marks co-occurrence links whose entity names another tag by string
("Kim Jong Un" is linked to "Kim Jong-il" by co-occurrence but names "Kim Jong-un"): the
combiner learns how much such shadowed links are worth.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, TypedDict

from newstag.tagging.estimator import Estimator

_PAREN = re.compile(r"\s*\([^)]*\)")


class LinkEvidence(TypedDict, total=False):
    """What :meth:`TagLinker.candidates` records of a candidate tag (every key it may write)."""

    str_quality: float
    link_conf: float
    link_support: int
    salience: float
    mentions: int
    in_headline: bool
    in_lead: bool
    via_country: bool
    n_entities: int
    entity_type: str
    entities: list[str]
    strength: dict[str, float]
    str_salience: float
    str_in_headline: bool
    link_weight: float
    free_link_weight: float
    shadow_weight: float
    n_str_tags: int
    str_mentions: int
    country_mentions: int
    type_share: float
    first_pos: int
    first_of_type: bool
    most_of_type: bool
    headline_any: bool


EVIDENCE_KEYS = frozenset(LinkEvidence.__annotations__)
_NON_WORD = re.compile(r"[^\w]+")


def norm(text: str) -> str:
    """Lower case, no accents, punctuation and hyphens as spaces, single spaces."""
    if not text.isascii():  # accents off: decomposed, then the combining marks dropped
        text = unicodedata.normalize("NFKD", text)
        marks = [c for c in set(text) if unicodedata.combining(c)]
        if marks:
            text = text.translate(dict.fromkeys(map(ord, marks)))
    text = text.replace("'s ", " ").replace("’s ", " ").replace(".", "")
    return " ".join(_NON_WORD.sub(" ", text.lower()).replace("_", " ").split())


@lru_cache(maxsize=1 << 16)
def name_key(name: str) -> str:
    """:func:`norm` of a name (an entity's name, alias or country): names recur across
    articles, so their keys are cached."""
    return norm(name)


def tag_forms(tag: str) -> list[tuple[str, float]]:
    """Normalised keys a tag may be written as, with a match quality in (0, 1]."""
    forms: dict[str, float] = {}

    def add(form: str, quality: float) -> None:
        key = norm(form)
        if key and forms.get(key, 0.0) < quality:
            forms[key] = quality

    add(tag, 1.0)
    bare = _PAREN.sub("", tag).strip()
    add(bare, 0.9)
    if bare.count(",") == 1:  # "Putin, Vladimir V" -> "Vladimir V Putin", "Vladimir Putin"
        last, first = (p.strip() for p in bare.split(","))
        add(f"{first} {last}", 0.95)
        first_words = [w for w in first.split() if len(w.rstrip(".")) > 1]
        if first_words:
            add(f"{' '.join(first_words)} {last}", 0.9)
            add(f"{first_words[0]} {last}", 0.85)
    words = norm(bare).split()
    if len(words) >= 3:  # "George W Bush" -> "George Bush"
        kept = [w for w in words[1:-1] if len(w) > 1]
        add(" ".join([words[0], *kept, words[-1]]), 0.85)
    return list(forms.items())


def entity_keys(entity: dict[str, Any]) -> list[tuple[str, float, str]]:
    """``(key, quality, how)`` for an entity: its name, its aliases and, for places, its country."""
    keys: dict[str, tuple[float, str]] = {}
    name = name_key(entity["name"])
    if name:
        keys[name] = (1.0, "name")
    for alias in entity.get("aliases") or []:
        k = name_key(alias)
        if k and k not in keys:
            keys[k] = (0.8, "alias")
    country = entity.get("country")
    if country and entity.get("type") == "place":
        k = name_key(country)
        if k and k not in keys:
            keys[k] = (0.6, "country")
    return [(k, q, how) for k, (q, how) in keys.items()]


def tag_country(tag: str) -> str | None:
    """The gazetteer's country a tag stands for by code or other name ("usa", "Burma")."""
    from newstag.nlp import gazetteer

    gaz = gazetteer.load()
    bare = _PAREN.sub("", tag).strip()
    forms = [bare, " ".join(w.capitalize() for w in bare.replace("-", " ").split())]
    if len(bare) <= 3 and bare.isalpha():
        forms.append(bare.upper())
    for form in forms:
        country = gaz.country(form)
        if country:
            return country
    return None


def _first_body_start(entity: dict[str, Any], body_start: int) -> int | None:
    """Offset of the entity's first mention in the body (after the headline), if any."""
    starts = [
        m[1] if isinstance(m, (list, tuple)) else m["start"] for m in entity.get("mentions") or []
    ]
    body = [s for s in starts if s >= body_start]
    return min(body) - body_start if body else None


def _headline_forms(entity: dict[str, Any]) -> set[str]:
    """Lower-case forms to look for in a headline: name, aliases, a person's surname."""
    forms = {entity["name"].lower(), *(a.lower() for a in entity.get("aliases") or [])}
    words = entity["name"].split()
    if entity.get("type") == "person" and len(words) > 1 and len(words[-1]) > 2:
        forms.add(words[-1].lower())
    return {f for f in forms if len(f) > 2}


def _in_headline(forms: set[str], headline: str) -> bool:
    for form in forms:
        pos = headline.find(form)
        while pos >= 0:
            end = pos + len(form)
            if (pos == 0 or not headline[pos - 1].isalnum()) and (
                end == len(headline) or not headline[end].isalnum()
            ):
                return True
            pos = headline.find(form, pos + 1)
    return False


def _new_evidence(entity: dict[str, Any]) -> LinkEvidence:
    """The evidence of a tag before its first entity is added (:func:`_add_hit`)."""
    return {
        "str_quality": 0.0,
        "link_conf": 0.0,
        "link_support": 0,
        "salience": 0.0,
        "mentions": 0,
        "in_headline": False,
        "in_lead": False,
        "via_country": True,
        "n_entities": 0,
        "entity_type": entity.get("type", ""),
        "entities": [],
        "strength": {},
        "str_salience": 0.0,
        "str_in_headline": False,
        "link_weight": 0.0,
        "free_link_weight": 0.0,
        "shadow_weight": 0.0,
    }


def _add_hit(
    c: Any,
    entity: dict[str, Any],
    how: str,
    quality: float,
    conf: float,
    support: int,
    shadowed: bool,
) -> None:
    """Add one entity's string match (``quality``) or link (``conf``, ``support``) to a
    tag's evidence ``c``; ``shadowed``: the entity names another tag by string."""
    salience = float(entity.get("salience", 0.0))
    c["str_quality"] = max(c["str_quality"], quality)
    c["link_conf"] = max(c["link_conf"], conf)
    c["link_support"] = max(c["link_support"], support)
    if quality > 0 and how != "country":
        c["str_salience"] = max(c["str_salience"], salience)
        c["str_in_headline"] |= bool(entity.get("in_headline"))
    if conf > 0:
        weight = conf * salience
        c["link_weight"] = max(c["link_weight"], weight)
        if shadowed:
            c["shadow_weight"] = max(c["shadow_weight"], weight)
        else:
            c["free_link_weight"] = max(c["free_link_weight"], weight)
    if how != "country":
        c["via_country"] = False
    name = entity["name"]
    c["strength"][name] = max(c["strength"].get(name, 0.0), quality, conf)
    if name in c["entities"]:
        return
    if quality > 0:  # string matches explain best: list them first
        c["entities"].insert(0, name)
    else:
        c["entities"].append(name)
    c["n_entities"] += 1
    c["mentions"] += entity.get("count", 0)
    c["in_headline"] |= bool(entity.get("in_headline"))
    c["in_lead"] |= bool(entity.get("in_lead"))
    if entity.get("salience", 0.0) > c["salience"]:
        c["salience"] = entity.get("salience", 0.0)
        c["entity_type"] = entity.get("type", "")


class TagLinker(Estimator):
    """Learn entity -> tag links from co-occurrence and string matching.

    Parameters: ``min_support`` (articles a co-occurrence link needs), ``min_confidence``
    (share of an entity's articles that carry the tag), ``max_links`` per entity key,
    ``country_forms`` (link tags that are country codes or other names to the country),
    ``surnames`` (a person entity named by surname alone matches a person tag whose surname
    no other tag shares, with quality ``surname_quality``).
    """

    def __init__(
        self,
        min_support: int = 2,
        min_confidence: float = 0.1,
        max_links: int = 8,
        alias_quality: float = 0.95,
        country_forms: bool = True,
        surnames: bool = True,
        surname_quality: float = 0.7,
    ) -> None:
        self.min_support = min_support
        self.min_confidence = min_confidence
        self.max_links = max_links
        self.alias_quality = alias_quality
        self.country_forms = country_forms
        self.surnames = surnames
        self.surname_quality = surname_quality

    def fit(
        self,
        entities: Sequence[Sequence[dict[str, Any]]],
        tags: Sequence[Sequence[str]],
        aliases: dict[str, Sequence[str]] | None = None,
    ) -> TagLinker:
        """Learn links; ``aliases`` maps tags to other names they are written as.

        Aliases of tags that no training article carries are ignored (the linker only
        suggests known tags); an alias key never displaces a tag's own form.
        """
        tag_counts = Counter(t for ts in tags for t in set(ts))
        self.tag_counts_ = dict(tag_counts)
        self.n_docs_ = len(tags)
        self.string_index_: dict[str, tuple[str, float]] = {}
        by_count = sorted(tag_counts, key=lambda t: (-tag_counts[t], t))  # ties: by name
        for tag in by_count:
            for key, quality in tag_forms(tag):
                if key not in self.string_index_ or self.string_index_[key][1] < quality:
                    self.string_index_[key] = (tag, quality)
        own_keys = set(self.string_index_)
        if self.country_forms:
            for tag, _ in tag_counts.most_common():
                country = tag_country(tag)
                key = norm(country) if country else ""
                if key and key not in own_keys and key not in self.string_index_:
                    self.string_index_[key] = (tag, self.alias_quality)
            own_keys = set(self.string_index_)
        self.aliases_: dict[str, list[str]] = {}
        for tag in by_count:
            names = [a for a in (aliases or {}).get(tag, ()) if a and a != tag]
            if not names:
                continue
            self.aliases_[tag] = list(dict.fromkeys(names))
            for alias in self.aliases_[tag]:
                for key, quality in tag_forms(alias):
                    q = quality * self.alias_quality
                    if key in own_keys:
                        continue
                    if key not in self.string_index_ or self.string_index_[key][1] < q:
                        self.string_index_[key] = (tag, q)
        self.surname_index_ = self._surnames(entities, tags, tag_counts) if self.surnames else {}
        key_docs: Counter[str] = Counter()
        pair_docs: Counter[tuple[str, str]] = Counter()
        for ents, ts in zip(entities, tags, strict=True):
            keys = sorted({k for e in ents for k, _, _ in entity_keys(e)})
            key_docs.update(keys)
            for k in keys:
                for t in sorted(set(ts)):
                    pair_docs[(k, t)] += 1
        links: dict[str, list[tuple[str, float, int]]] = defaultdict(list)
        for (k, t), n in pair_docs.items():
            if n < self.min_support:
                continue
            conf = n / key_docs[k]
            if conf >= self.min_confidence:
                links[k].append((t, conf, n))
        self.links_ = {
            k: sorted(v, key=lambda x: (-x[1], -x[2], x[0]))[: self.max_links]
            for k, v in links.items()
        }
        self.key_docs_ = {k: n for k, n in key_docs.items() if k in self.links_}
        return self

    def _surnames(
        self,
        entities: Sequence[Sequence[dict[str, Any]]],
        tags: Sequence[Sequence[str]],
        tag_counts: Counter[str],
    ) -> dict[str, tuple[str, bool]]:
        """Surname -> (person tag, the tag is the bare surname) for unambiguous surnames.

        A tag is a person's when most training entities that name it by string are people.
        """
        person: Counter[str] = Counter()
        named: Counter[str] = Counter()
        for ents, ts in zip(entities, tags, strict=True):
            gold = set(ts)
            for e in ents:
                hit = self.string_index_.get(norm(e["name"]))
                if hit and hit[0] in gold:
                    named[hit[0]] += 1
                    person[hit[0]] += e.get("type") == "person"
        by_surname: dict[str, set[str]] = defaultdict(set)
        bare: set[tuple[str, str]] = set()
        for tag in tag_counts:
            if not named[tag] or person[tag] * 2 < named[tag]:
                continue
            forms = [k for k, _ in tag_forms(tag)]
            forms += [k for a in self.aliases_.get(tag, ()) for k, _ in tag_forms(a)]
            for key in forms:
                words = key.split()
                if len(words[-1]) >= 3 and not words[-1].isdigit():
                    by_surname[words[-1]].add(tag)
                    if len(words) == 1:
                        bare.add((words[-1], tag))
        out = {}
        for surname, ts in by_surname.items():
            owner = self.string_index_.get(surname)
            if len(ts) == 1 and (owner is None or owner[0] in ts):
                tag = next(iter(ts))
                out[surname] = (tag, (surname, tag) in bare)
        return out

    def surname_tag(self, entity: dict[str, Any]) -> str | None:
        """The person tag a person entity names by surname only ("Baker" -> "James Baker";
        "Pierre Languetin" -> "languetin"), when no form of it names a tag by string."""
        index = getattr(self, "surname_index_", None)
        if not index or entity.get("type") != "person":
            return None
        words = name_key(entity["name"]).split()
        if not words or any(k in self.string_index_ for k, _, _ in entity_keys(entity)):
            return None
        hit = index.get(words[-1])
        if hit is None or (len(words) > 1 and not hit[1]):
            return None  # "Paul Baker" is not "James Baker"
        return hit[0]

    def known(self, entity: dict[str, Any]) -> bool:
        """True if the entity matches a known tag by string or a learned link."""
        return (
            any(k in self.string_index_ or k in self.links_ for k, _, _ in entity_keys(entity))
            or self.surname_tag(entity) is not None
        )

    def named_tags(self, entity: dict[str, Any]) -> set[str]:
        """Tags the entity's own name or aliases match by string (not via its country)."""
        return {
            self.string_index_[k][0]
            for k, _, how in entity_keys(entity)
            if how != "country" and k in self.string_index_
        }

    def candidates(
        self, entities: Sequence[dict[str, Any]], headline: str | None = None
    ) -> dict[str, LinkEvidence]:
        """Tags the entities point to, each with aggregated evidence features.

        ``headline`` (the article's headline) enables the case-blind headline feature and
        places the body after it for the first-mention features.
        """
        out: dict[str, Any] = {}  # tag -> LinkEvidence
        matched: dict[str, dict[int, str]] = defaultdict(dict)  # tag -> entity -> how
        for n_entity, entity in enumerate(entities):
            named = self.named_tags(entity)
            surname = self.surname_tag(entity)
            if surname:
                named.add(surname)
            for key, key_quality, how in entity_keys(entity):
                for tag, quality, conf, support in self._hits(key, key_quality, how, surname):
                    c = out.get(tag)
                    if c is None:
                        c = out[tag] = _new_evidence(entity)
                    if quality > 0:
                        matched[tag].setdefault(n_entity, how)
                    _add_hit(
                        c,
                        entity,
                        how,
                        quality,
                        conf,
                        support,
                        shadowed=bool(named) and tag not in named,
                    )
        if matched:
            self._mention_features(out, matched, entities, headline)
        return out

    def _hits(
        self, key: str, key_quality: float, how: str, surname: str | None
    ) -> list[tuple[str, float, float, int]]:
        """``(tag, string quality, link confidence, support)`` of one entity key: its string
        match (or the entity's surname tag), then its co-occurrence links."""
        hits: list[tuple[str, float, float, int]] = []
        if key in self.string_index_:
            tag, quality = self.string_index_[key]
            hits.append((tag, quality * key_quality, 0.0, 0))
        elif how == "name" and surname:
            hits.append((surname, self.surname_quality, 0.0, 0))
        for tag, conf, support in self.links_.get(key, ()):
            hits.append((tag, 0.0, conf, support))
        return hits

    @staticmethod
    def _mention_features(
        out: dict[str, dict[str, Any]],
        matched: dict[str, dict[int, str]],
        entities: Sequence[dict[str, Any]],
        headline: str | None,
    ) -> None:
        """Where and how much the entities that name each tag (by string) are mentioned."""
        body_start = len(headline) + 2 if headline else 0
        first: dict[str, tuple[int, int]] = {}  # type -> (offset, entity) first in the body
        most: dict[str, int] = Counter()  # type -> highest mention count
        total: dict[str, int] = Counter()
        for i, e in enumerate(entities):
            etype = e.get("type", "")
            count = int(e.get("count", 0))
            total[etype] += count
            most[etype] = max(most[etype], count)
            pos = _first_body_start(e, body_start)
            if pos is not None and (etype not in first or pos < first[etype][0]):
                first[etype] = (pos, i)
        low_headline = headline.lower() if headline else ""
        n_str_tags = sum(any(h != "country" for h in m.values()) for m in matched.values())
        for tag, ents in matched.items():
            c = out[tag]
            c["n_str_tags"] = n_str_tags
            for i, how in ents.items():
                e = entities[i]
                etype = e.get("type", "")
                count = int(e.get("count", 0))
                kind = "country_mentions" if how == "country" else "str_mentions"
                c[kind] = c.get(kind, 0) + count
                c["type_share"] = c.get("type_share", 0.0) + count / max(total[etype], 1)
                pos = _first_body_start(e, body_start)
                if pos is not None:
                    c["first_pos"] = min(c.get("first_pos", pos), pos)
                if first.get(etype, (0, -1))[1] == i:
                    c["first_of_type"] = True
                if count and count == most[etype]:
                    c["most_of_type"] = True
                if (
                    low_headline
                    and not c.get("headline_any")
                    and _in_headline(_headline_forms(e), low_headline)
                ):
                    c["headline_any"] = True

    def prior(self, tag: str) -> float:
        """Log share of training articles with the tag (a floor for unseen tags)."""
        n = self.tag_counts_.get(tag, 0)
        return math.log((n + 0.5) / (self.n_docs_ + 1))

    # ------------------------------------------------------------------ persistence

    def save(self, folder: Any) -> list[Any]:
        """``linker.json.gz`` (settings, string index, surnames, counts) and ``links.npz``
        (the co-occurrence links as columns)."""
        from newstag.tagging.arrays import save_json

        folder.mkdir(parents=True, exist_ok=True)
        from newstag.tagging.estimator import defaults_of

        keys = list(self.links_)
        tags = sorted({t for links in self.links_.values() for t, _, _ in links})
        # getattr with the default: bundles pickled before a setting existed
        params = {k: getattr(self, k, v) for k, v in defaults_of(TagLinker).items()}
        state = {
            "params": params,
            "tag_counts": self.tag_counts_,
            "n_docs": self.n_docs_,
            "string_index": self.string_index_,
            "aliases": getattr(self, "aliases_", {}),
            "surname_index": getattr(self, "surname_index_", {}),
            "link_keys": keys,
            "link_tags": tags,
        }
        return [
            save_json(folder / "linker.json.gz", state),
            LinkTable.build(self.links_, self.key_docs_, tags).save(folder / "links.npz"),
        ]

    @classmethod
    def load(cls, folder: Any) -> TagLinker:
        from newstag.tagging.arrays import load_json

        state = load_json(folder / "linker.json.gz")
        linker = cls(**state["params"])
        linker.tag_counts_ = state["tag_counts"]
        linker.n_docs_ = state["n_docs"]
        linker.string_index_ = {k: tuple(v) for k, v in state["string_index"].items()}
        linker.aliases_ = state["aliases"]
        linker.surname_index_ = {k: tuple(v) for k, v in state["surname_index"].items()}
        table = LinkTable.load(folder / "links.npz", state["link_keys"], state["link_tags"])
        linker.links_ = table
        linker.key_docs_ = table.key_docs()
        return linker


class LinkTable(Mapping):
    """Entity key -> ``[(tag, confidence, support), ...]``, read from columns on demand."""

    def __init__(self, keys: list[str], tags: list[str], columns: dict[str, Any]) -> None:
        self._row = dict(zip(keys, range(len(keys)), strict=True))
        self._keys = keys
        self._tags = tags
        self._columns = columns
        self._cache: dict[str, list[tuple[str, float, int]]] = {}

    @classmethod
    def build(cls, links: Mapping, key_docs: dict[str, int], tags: list[str]) -> LinkTable:
        import numpy as np

        index = {t: j for j, t in enumerate(tags)}
        keys = list(links)
        flat = [x for k in keys for x in links[k]]
        columns = {
            "offsets": np.cumsum([0] + [len(links[k]) for k in keys]).astype(np.int32),
            "tag": np.asarray([index[t] for t, _, _ in flat], dtype=np.int32),
            "confidence": np.asarray([c for _, c, _ in flat], dtype=np.float64),
            "support": np.asarray([n for _, _, n in flat], dtype=np.int32),
            "key_docs": np.asarray([key_docs.get(k, 0) for k in keys], dtype=np.int32),
        }
        return cls(keys, tags, columns)

    def save(self, path: Any) -> Any:
        from newstag.tagging.arrays import save_npz

        return save_npz(path, self._columns, compress=True)

    @classmethod
    def load(cls, path: Any, keys: list[str], tags: list[str]) -> LinkTable:
        import numpy as np

        with np.load(path, allow_pickle=False) as z:
            columns = {k: z[k] for k in ("offsets", "tag", "confidence", "support", "key_docs")}
        if len(columns["offsets"]) != len(keys) + 1:
            raise ValueError("links.npz does not match the link keys")
        return cls(keys, tags, columns)

    def key_docs(self) -> dict[str, int]:
        return dict(zip(self._keys, self._columns["key_docs"].tolist(), strict=True))

    def __getitem__(self, key: str) -> list[tuple[str, float, int]]:
        found = self._cache.get(key)
        if found is None:
            i = self._row[key]
            c = self._columns
            lo, hi = int(c["offsets"][i]), int(c["offsets"][i + 1])
            found = self._cache[key] = [
                (self._tags[t], conf, n)
                for t, conf, n in zip(
                    c["tag"][lo:hi].tolist(),
                    c["confidence"][lo:hi].tolist(),
                    c["support"][lo:hi].tolist(),
                    strict=True,
                )
            ]
        return found

    def __contains__(self, key: object) -> bool:
        return key in self._row

    def __iter__(self) -> Any:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)
