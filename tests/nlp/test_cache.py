"""The entity cache key: a hash of the pipeline's files, the rules and the tables."""

from __future__ import annotations

import pytest

from newstag.nlp import cache, gazetteer, grouping, normalise, salience
from newstag.nlp.pipeline import DEFAULT_PIPELINE, SMALL_PIPELINE


def _shouting(text: str, ctx: normalise.MentionContext) -> str:
    """A rule that upper-cases every mention."""
    return text.upper()


def test_same_rules_and_tables_give_the_same_key():
    assert cache.cache_key(DEFAULT_PIPELINE) == cache.cache_key(DEFAULT_PIPELINE)
    assert cache.rules_fingerprint() == cache.rules_fingerprint()
    assert cache.cache_key(DEFAULT_PIPELINE) != cache.cache_key(SMALL_PIPELINE)


@pytest.mark.parametrize("change", ["add rule", "reorder rules", "drop resolver"])
def test_a_rule_change_changes_the_key(monkeypatch, change):
    before = cache.cache_key(DEFAULT_PIPELINE)
    rules, resolvers = normalise.MENTION_RULES, normalise.RESOLVERS
    if change == "add rule":
        monkeypatch.setattr(normalise, "MENTION_RULES", (*rules, _shouting))
    elif change == "reorder rules":
        monkeypatch.setattr(normalise, "MENTION_RULES", tuple(reversed(rules)))
    else:
        monkeypatch.setattr(normalise, "RESOLVERS", resolvers[1:])
    changed = cache.cache_key(DEFAULT_PIPELINE)
    assert changed != before
    assert changed.split("+")[0] == before.split("+")[0]  # same pipeline files
    monkeypatch.undo()
    assert cache.cache_key(DEFAULT_PIPELINE) == before


def test_a_table_change_changes_the_key(monkeypatch):
    before = cache.rules_fingerprint()
    monkeypatch.setattr(grouping, "REGIONS", grouping.REGIONS | {"atlantis"})
    assert cache.rules_fingerprint() != before
    monkeypatch.undo()
    monkeypatch.setattr(
        salience, "salience_weights", lambda: salience.SalienceWeights(headline=1.0)
    )
    assert cache.rules_fingerprint() != before
    monkeypatch.undo()
    monkeypatch.setattr(gazetteer, "tables_fingerprint", lambda: "other places.json")
    assert cache.rules_fingerprint() != before
    monkeypatch.undo()
    assert cache.rules_fingerprint() == before


def test_the_gazetteer_fingerprint_follows_the_corrections_file(tmp_path, monkeypatch):
    before = gazetteer.tables_fingerprint()
    copy = tmp_path / "places.json"
    copy.write_bytes(gazetteer._DATA.read_bytes() + b"\n")
    monkeypatch.setattr(gazetteer, "_DATA", copy)
    assert gazetteer.tables_fingerprint() != before
