"""House rules: what a newsroom allows, denies, caps and how it spells its tags.

A rules file is TOML (see ``rules/general-news.toml``)::

    new_tags = true                      # entities the vocabulary lacks come back ("new": true)
    new_tag_types = ["person", "place"]  # which types may be new (default: all)
    vocabulary = []                      # allow only these tags (empty: any) ...
    vocabulary_file = ""                 # ... or those of a file, one a line
    deny = ["World"]                     # never these tags
    deny_types = []                      # person, place, organisation, topic
    deny_levels = ["continent"]          # places: continent, region, country, state, city

    [spellings]                          # a tag's other form -> the house form
    "Kim Jong-un" = "Kim Jong Un"

    [max_per_type]                       # at most this many tags of a type
    topic = 3

    [max_per_level]
    region = 1

Rules apply to the ranked tags in this order: spellings, deny, vocabulary, new tags,
types and levels, caps; the ranking itself is kept.

A model bundle may carry its rules (:mod:`newstag.tagging.bundle_rules`); they apply when
the bundle is loaded unless a rules file is given instead, or ``none`` (:data:`NO_RULES`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newstag.errors import NewstagError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TYPES = ("person", "place", "organisation", "topic")
LEVELS = ("continent", "region", "country", "state", "city")
NO_RULES = "none"
"""The ``--rules`` / ``NEWSTAG_RULES`` value that turns house rules off (a bundle's too)."""


def rules_off(value: object) -> bool:
    """Whether a ``--rules`` value is :data:`NO_RULES` (``none``, any case)."""
    return isinstance(value, (str, Path)) and str(value).strip().lower() == NO_RULES


class RulesError(NewstagError, ValueError):
    """A rules file that cannot be used; the message names the file and the problem."""


@dataclass
class Rules:
    """Parsed house rules (all empty: no effect)."""

    new_tags: bool = True
    new_tag_types: tuple[str, ...] = TYPES
    vocabulary: frozenset[str] = frozenset()
    deny: frozenset[str] = frozenset()
    deny_types: frozenset[str] = frozenset()
    deny_levels: frozenset[str] = frozenset()
    spellings: dict[str, str] = field(default_factory=dict)
    max_per_type: dict[str, int] = field(default_factory=dict)
    max_per_level: dict[str, int] = field(default_factory=dict)
    source: str = "<rules>"
    vocabulary_file: str = ""
    """The file ``vocabulary_file`` named, resolved ("" when none)."""

    def apply(self, tags: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The ranked tag dicts that these rules let through, house-spelled."""
        out: list[dict[str, Any]] = []
        seen: dict[str, dict[str, Any]] = {}
        per_type: dict[str, int] = {}
        per_level: dict[str, int] = {}
        for tag in tags:
            tag = self._spell(tag)
            key = tag["tag"].casefold()
            if key in seen:  # two forms of one house tag: the better-ranked one stays
                continue
            if not self._allowed(tag):
                continue
            kind, level = tag.get("type", "topic"), tag.get("level")
            if per_type.get(kind, 0) >= self.max_per_type.get(kind, 1 << 30):
                continue
            if level and per_level.get(level, 0) >= self.max_per_level.get(level, 1 << 30):
                continue
            per_type[kind] = per_type.get(kind, 0) + 1
            if level:
                per_level[level] = per_level.get(level, 0) + 1
            seen[key] = tag
            out.append(tag)
        return out

    def _spell(self, tag: dict[str, Any]) -> dict[str, Any]:
        house = self.spellings.get(tag["tag"].casefold())
        if house is None or house == tag["tag"]:
            return tag
        return {**tag, "tag": house, "model_tag": tag.get("model_tag") or tag["tag"]}

    def _allowed(self, tag: dict[str, Any]) -> bool:
        names = {tag["tag"].casefold(), (tag.get("model_tag") or tag["tag"]).casefold()}
        if names & self.deny:
            return False
        if self.vocabulary and not names & self.vocabulary:
            return False
        if tag.get("new") and (not self.new_tags or tag.get("type") not in self.new_tag_types):
            return False
        return tag.get("type") not in self.deny_types and tag.get("level") not in self.deny_levels


KEYS = {
    "new_tags",
    "new_tag_types",
    "vocabulary",
    "vocabulary_file",
    "deny",
    "deny_types",
    "deny_levels",
    "spellings",
    "max_per_type",
    "max_per_level",
}


def _strings(
    data: dict[str, Any], key: str, source: str, allowed: tuple[str, ...] | None = None
) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RulesError(f"{source}: {key} must be a list of strings")
    bad = [v for v in value if allowed and v not in allowed]
    if bad:
        raise RulesError(f"{source}: {key}: unknown {bad[0]!r} (one of {', '.join(allowed or ())})")
    return value


def _caps(data: dict[str, Any], key: str, source: str, allowed: tuple[str, ...]) -> dict[str, int]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise RulesError(f"{source}: [{key}] must be a table")
    for name, cap in value.items():
        if name not in allowed:
            raise RulesError(f"{source}: [{key}]: unknown {name!r} (one of {', '.join(allowed)})")
        if not isinstance(cap, int) or isinstance(cap, bool) or cap < 0:
            raise RulesError(f"{source}: [{key}] {name} must be a whole number >= 0")
    return dict(value)


def _vocabulary_path(data: dict[str, Any], base: Path, source: str) -> Path | None:
    file = data.get("vocabulary_file", "")
    if not isinstance(file, str):
        raise RulesError(f"{source}: vocabulary_file must be a path")
    if not file:
        return None
    return (base / file) if not Path(file).is_absolute() else Path(file)


def _vocabulary(data: dict[str, Any], path: Path | None, source: str) -> frozenset[str]:
    words = _strings(data, "vocabulary", source)
    if path is not None:
        file = data.get("vocabulary_file", "")
        try:
            words += [
                w.strip()
                for w in path.read_text(encoding="utf-8").splitlines()
                if w.strip() and not w.startswith("#")
            ]
        except OSError as exc:
            raise RulesError(f"{source}: vocabulary_file {file}: {exc.strerror}") from exc
    return frozenset(w.casefold() for w in words)


def parse_rules(
    data: dict[str, Any],
    source: str = "<rules>",
    base: Path | None = None,
    vocabulary_file: Path | None = None,
) -> Rules:
    """Rules from a parsed TOML table; ``base`` resolves a relative ``vocabulary_file``;
    ``vocabulary_file`` (a bundle's copy) replaces the file the table names."""
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise RulesError(
            f"{source}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(KEYS))})"
        )
    if not isinstance(data.get("new_tags", True), bool):
        raise RulesError(f"{source}: new_tags must be true or false")
    spellings = data.get("spellings", {})
    if not isinstance(spellings, dict) or not all(
        isinstance(v, str) and v.strip() for v in spellings.values()
    ):
        raise RulesError(f"{source}: [spellings] must map tag forms to house forms (strings)")
    vocab_path = _vocabulary_path(data, base or Path("."), source)
    if vocab_path is not None and vocabulary_file is not None:
        vocab_path = vocabulary_file
    return Rules(
        new_tags=data.get("new_tags", True),
        new_tag_types=tuple(_strings(data, "new_tag_types", source, TYPES))
        if "new_tag_types" in data
        else TYPES,
        vocabulary=_vocabulary(data, vocab_path, source),
        deny=frozenset(d.casefold() for d in _strings(data, "deny", source)),
        deny_types=frozenset(_strings(data, "deny_types", source, TYPES)),
        deny_levels=frozenset(_strings(data, "deny_levels", source, LEVELS)),
        spellings={k.casefold(): v.strip() for k, v in spellings.items()},
        max_per_type=_caps(data, "max_per_type", source, TYPES),
        max_per_level=_caps(data, "max_per_level", source, LEVELS),
        source=source,
        vocabulary_file=str(vocab_path) if vocab_path is not None else "",
    )


def load_rules(path: str | Path, vocabulary_file: Path | None = None) -> Rules:
    """Read a TOML rules file; any problem is a :class:`RulesError` naming the file.
    ``vocabulary_file`` replaces the file its ``vocabulary_file`` setting names."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RulesError(f"{path}: no such rules file") from exc
    except IsADirectoryError as exc:
        raise RulesError(f"{path}: is a directory, not a rules file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}: cannot read the rules file ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: not valid TOML ({exc})") from exc
    return parse_rules(data, str(path), path.parent, vocabulary_file)
