"""Normalisation rules: each clean-up rule and resolver on its own, then in their order."""

from __future__ import annotations

import pytest

from newstag.nlp import gazetteer, normalise
from newstag.nlp.normalise import (
    MENTION_RULES,
    RESOLVERS,
    MentionContext,
    Resolution,
    ResolveContext,
    clean_mention,
    keep_abbreviation_dot,
    looks_like_name,
    resolve,
    resolve_by_label,
    resolve_country,
    resolve_full_name,
    resolve_place,
    resolve_region,
    resolve_surname,
    strip_edge_punctuation,
    strip_leading_the,
    strip_person_titles,
    strip_possessive,
)


@pytest.fixture(scope="module")
def gaz() -> gazetteer.Gazetteer:
    return gazetteer.load()


def ctx(gaz: gazetteer.Gazetteer, label: str = "PERSON", original: str = "") -> MentionContext:
    return MentionContext(original, label, gaz)


def test_strip_edge_punctuation(gaz):
    assert strip_edge_punctuation("“Putin”", ctx(gaz)) == "Putin"
    assert strip_edge_punctuation("(Reuters) -", ctx(gaz)) == "Reuters"
    assert strip_edge_punctuation("U.S.", ctx(gaz, "GPE")) == "U.S"


def test_strip_possessive(gaz):
    assert strip_possessive("North Korea's", ctx(gaz, "GPE")) == "North Korea"
    assert strip_possessive("David Chang‘s", ctx(gaz, "PERSON")) == "David Chang"  # a misused quote
    assert strip_possessive("Putin’s", ctx(gaz)) == "Putin"
    assert strip_possessive("Paris", ctx(gaz, "GPE")) == "Paris"


def test_keep_abbreviation_dot_only_when_the_original_had_it(gaz):
    assert keep_abbreviation_dot("U.S", ctx(gaz, "GPE", "U.S.")) == "U.S."
    assert keep_abbreviation_dot("U.S", ctx(gaz, "GPE", "U.S")) == "U.S"
    assert keep_abbreviation_dot("Paris", ctx(gaz, "GPE", "Paris.")) == "Paris"


def test_strip_leading_the_of_places_and_organisations_not_people(gaz):
    assert strip_leading_the("the United States", ctx(gaz, "GPE")) == "United States"
    assert strip_leading_the("The Kremlin", ctx(gaz, "ORG")) == "Kremlin"
    assert strip_leading_the("The Rock", ctx(gaz, "PERSON")) == "The Rock"


def test_strip_person_titles_keeps_a_lone_title(gaz):
    assert strip_person_titles("President Vladimir Putin", ctx(gaz)) == "Vladimir Putin"
    assert strip_person_titles("Dr. Jane Smith", ctx(gaz)) == "Jane Smith"
    assert strip_person_titles("President", ctx(gaz)) == "President"
    assert strip_person_titles("President Hotel", ctx(gaz, "ORG")) == "President Hotel"


def test_looks_like_name():
    assert looks_like_name("Putin") and looks_like_name("G7")
    assert not looks_like_name("s") and not looks_like_name("putin")
    assert not looks_like_name("1996")


def test_clean_mention_applies_the_rules_in_order_and_moves_the_start(gaz):
    assert clean_mention("North Korea's", 10, "GPE", gaz) == ("North Korea", 10)
    assert clean_mention("the United States", 0, "GPE", gaz) == ("United States", 4)
    assert clean_mention("President Vladimir Putin", 5, "PERSON", gaz) == ("Vladimir Putin", 15)
    assert clean_mention("“Putin’s”", 0, "PERSON", gaz) == ("Putin", 1)
    assert clean_mention("'s", 0, "PERSON", gaz) is None


def test_the_rule_order_matters(gaz, monkeypatch):
    """Without the second edge strip, a possessive before a closing quote leaves a quote."""
    assert clean_mention("“Putin’s”", 0, "PERSON", gaz) == ("Putin", 1)
    monkeypatch.setattr(normalise, "MENTION_RULES", (strip_possessive, strip_edge_punctuation))
    assert clean_mention("“Putin’s”", 0, "PERSON", gaz) == ("Putin’s", 1)


def rctx(gaz, person_words=(), alone=()) -> ResolveContext:
    return ResolveContext(gaz, set(person_words), set(alone))


def test_resolve_region(gaz):
    assert resolve_region("Western Europe", "LOC", rctx(gaz)) == (
        "place",
        "Western Europe",
        "LOC",
        None,
    )
    assert resolve_region("Asia", "PERSON", rctx(gaz)) is None
    assert resolve_region("Paris", "GPE", rctx(gaz)) is None


def test_resolve_country_from_names_codes_and_nationalities(gaz):
    assert resolve_country("U.S.", "GPE", rctx(gaz)) == (
        "place",
        "United States",
        "GPE",
        "United States",
    )
    assert resolve_country("Russian", "NORP", rctx(gaz)).name == "Russia"
    assert resolve_country("UK", "PERSON", rctx(gaz)).name == "United Kingdom"  # a code
    assert resolve_country("Jordan", "PERSON", rctx(gaz)) is None  # a person's name


def test_resolve_place_and_the_big_city_person(gaz):
    assert resolve_place("Vladivostok", "GPE", rctx(gaz)) == (
        "place",
        "Vladivostok",
        "GPE",
        "Russia",
    )
    assert resolve_place("Houston", "PERSON", rctx(gaz)).label == "GPE"
    assert resolve_place("Houston", "PERSON", rctx(gaz, person_words={"Houston"})) is None
    assert resolve_place("Houston", "ORG", rctx(gaz)) is None


def test_resolve_full_name_and_surname(gaz):
    assert resolve_full_name("Olaf Scholz", "ORG", rctx(gaz, alone={"Scholz"})) == (
        "person",
        "Olaf Scholz",
        "PERSON",
        None,
    )
    assert resolve_full_name("Olaf Scholz", "ORG", rctx(gaz)) is None
    assert resolve_surname("Scholz", "ORG", rctx(gaz, person_words={"Olaf", "Scholz"})) == (
        "person",
        "Scholz",
        "PERSON",
        None,
    )
    assert resolve_surname("Scholz", "ORG", rctx(gaz)) is None


def test_resolve_by_label():
    assert resolve_by_label("Reuters", "ORG", None) == ("organisation", "Reuters", "ORG", None)
    assert resolve_by_label("Democrats", "NORP", None).type == "group"


def test_resolve_takes_the_first_answer(gaz, monkeypatch):
    assert resolve("Houston", "PERSON", rctx(gaz)).type == "place"
    monkeypatch.setattr(normalise, "RESOLVERS", (resolve_by_label, resolve_place))
    assert resolve("Houston", "PERSON", rctx(gaz)) == Resolution(
        "person", "Houston", "PERSON", None
    )


def test_the_rules_are_small_named_documented_functions():
    import inspect

    for rule in (*MENTION_RULES, *RESOLVERS):
        assert rule.__doc__ and rule.__name__ != "<lambda>"
        assert len(inspect.getsource(rule).splitlines()) <= 20, rule.__name__
