"""Which entities stand for which tags, learned from a tagged corpus.

Two kinds of link:

* string links: a tag and an entity name that normalise to the same key
  ("Kim Jong-un" / "Kim Jong Un", NYT style "Putin, Vladimir V" / "Vladimir Putin",
  slugs such as "james-baker" / "James Baker"), or an entity name that normalises to one of
  the tag's aliases given at training time (a tag vocabulary's synonyms: "alfonsin" /
  "Raul Alfonsin", see :func:`newstag.corpus.read_tag_aliases`);
* co-occurrence links: an entity key seen in ``n`` training articles, ``k`` of which carry
  the tag, links to the tag with confidence ``k / n`` ("U.S." -> "usa", "Kyiv" -> "Ukraine",
  "Australia" -> "Oceania").

Places also contribute their country, so cities roll up to country tags.

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
from collections.abc import Sequence
from typing import Any

_PAREN = re.compile(r"\s*\([^)]*\)")
_NON_WORD = re.compile(r"[^\w]+")


def norm(text: str) -> str:
    """Lower case, no accents, punctuation and hyphens as spaces, single spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("'s ", " ").replace("’s ", " ").replace(".", "")
    return " ".join(_NON_WORD.sub(" ", text.lower()).replace("_", " ").split())


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
    name = norm(entity["name"])
    if name:
        keys[name] = (1.0, "name")
    for alias in entity.get("aliases") or []:
        k = norm(alias)
        if k and k not in keys:
            keys[k] = (0.8, "alias")
    country = entity.get("country")
    if country and entity.get("type") == "place":
        k = norm(country)
        if k and k not in keys:
            keys[k] = (0.6, "country")
    return [(k, q, how) for k, (q, how) in keys.items()]


class TagLinker:
    """Learn entity -> tag links from co-occurrence and string matching.

    Parameters: ``min_support`` (articles a co-occurrence link needs), ``min_confidence``
    (share of an entity's articles that carry the tag), ``max_links`` per entity key.
    """

    def __init__(self, min_support: int = 2, min_confidence: float = 0.1,
                 max_links: int = 8, alias_quality: float = 0.95) -> None:
        self.min_support = min_support
        self.min_confidence = min_confidence
        self.max_links = max_links
        self.alias_quality = alias_quality

    def fit(self, entities: Sequence[Sequence[dict[str, Any]]],
            tags: Sequence[Sequence[str]],
            aliases: dict[str, Sequence[str]] | None = None) -> TagLinker:
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
        self.links_ = {k: sorted(v, key=lambda x: (-x[1], -x[2], x[0]))[: self.max_links]
                       for k, v in links.items()}
        self.key_docs_ = {k: n for k, n in key_docs.items() if k in self.links_}
        return self

    def known(self, entity: dict[str, Any]) -> bool:
        """True if the entity matches a known tag by string or a learned link."""
        return any(k in self.string_index_ or k in self.links_ for k, _, _ in entity_keys(entity))

    def named_tags(self, entity: dict[str, Any]) -> set[str]:
        """Tags the entity's own name or aliases match by string (not via its country)."""
        return {self.string_index_[k][0] for k, _, how in entity_keys(entity)
                if how != "country" and k in self.string_index_}

    def candidates(self, entities: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Tags the entities point to, each with aggregated evidence features."""
        out: dict[str, dict[str, Any]] = {}
        for entity in entities:
            named = self.named_tags(entity)
            salience = float(entity.get("salience", 0.0))
            for key, key_quality, how in entity_keys(entity):
                hits: list[tuple[str, float, float, int]] = []  # tag, str quality, conf, support
                if key in self.string_index_:
                    tag, quality = self.string_index_[key]
                    hits.append((tag, quality * key_quality, 0.0, 0))
                for tag, conf, support in self.links_.get(key, ()):
                    hits.append((tag, 0.0, conf, support))
                for tag, quality, conf, support in hits:
                    c = out.get(tag)
                    if c is None:
                        c = out[tag] = {"str_quality": 0.0, "link_conf": 0.0, "link_support": 0,
                                        "salience": 0.0, "mentions": 0, "in_headline": False,
                                        "in_lead": False, "via_country": True, "n_entities": 0,
                                        "entity_type": entity.get("type", ""), "entities": [],
                                        "strength": {}, "str_salience": 0.0,
                                        "str_in_headline": False, "link_weight": 0.0,
                                        "free_link_weight": 0.0, "shadow_weight": 0.0}
                    c["str_quality"] = max(c["str_quality"], quality)
                    c["link_conf"] = max(c["link_conf"], conf)
                    c["link_support"] = max(c["link_support"], support)
                    if quality > 0 and how != "country":
                        c["str_salience"] = max(c["str_salience"], salience)
                        c["str_in_headline"] |= bool(entity.get("in_headline"))
                    if conf > 0:
                        weight = conf * salience
                        c["link_weight"] = max(c["link_weight"], weight)
                        if named and tag not in named:  # the entity names another tag
                            c["shadow_weight"] = max(c["shadow_weight"], weight)
                        else:
                            c["free_link_weight"] = max(c["free_link_weight"], weight)
                    if how != "country":
                        c["via_country"] = False
                    strength = c["strength"]
                    strength[entity["name"]] = max(strength.get(entity["name"], 0.0), quality,
                                                   conf)
                    if entity["name"] not in c["entities"]:
                        if quality > 0:  # string matches explain best: list them first
                            c["entities"].insert(0, entity["name"])
                        else:
                            c["entities"].append(entity["name"])
                        c["n_entities"] += 1
                        c["mentions"] += entity.get("count", 0)
                        c["in_headline"] |= bool(entity.get("in_headline"))
                        c["in_lead"] |= bool(entity.get("in_lead"))
                        if entity.get("salience", 0.0) > c["salience"]:
                            c["salience"] = entity.get("salience", 0.0)
                            c["entity_type"] = entity.get("type", "")
        return out

    def prior(self, tag: str) -> float:
        """Log share of training articles with the tag (a floor for unseen tags)."""
        n = self.tag_counts_.get(tag, 0)
        return math.log((n + 0.5) / (self.n_docs_ + 1))
