"""Grouping rules (issue 17, part 3): each case seen on news text, with NER spans set by hand
(so the rule, not the model, is tested) and once through the real pipeline."""

from __future__ import annotations

import pytest

from newstag.io.article import parse_text
from newstag.nlp import gazetteer
from newstag.nlp.entities import Entity, entities_from_doc
from newstag.nlp.grouping import is_region, org_short_form_of, split_span


def grouped(text: str, spans: list[tuple[str, str]]) -> dict[str, Entity]:
    """Entities of ``text`` when NER finds exactly ``spans`` ((surface, label), in order)."""
    import spacy

    article = parse_text(text)
    doc = spacy.blank("en")(article.text)
    ents, pos = [], 0
    for surface, label in spans:
        start = article.text.index(surface, pos)
        ents.append(doc.char_span(start, start + len(surface), label=label))
        pos = start + len(surface)
    assert all(ents), "a span does not fall on token boundaries"
    doc.ents = ents
    return {e.name: e for e in entities_from_doc(doc, article)}


def test_coordinated_people_are_split_and_join_their_short_forms():
    ents = grouped(
        "Summit ends\nVladimir Putin and Kim Jong Un met on Wednesday. Putin smiled. "
        "Kim left by train.",
        [("Vladimir Putin and Kim Jong Un", "PERSON"), ("Putin", "PERSON"), ("Kim", "PERSON")],
    )
    assert set(ents) == {"Vladimir Putin", "Kim Jong Un"}
    assert ents["Vladimir Putin"].aliases == {"Vladimir Putin", "Putin"}
    assert ents["Kim Jong Un"].aliases == {"Kim Jong Un", "Kim"}


def test_of_state_suffixes_leave_the_person_and_the_place():
    ents = grouped(
        "Deal reached\nSenate Majority Leader Mitch McConnell of Kentucky and Senate "
        "leader Chuck Schumer of New York agreed. Rob Portman of Ohio and Democrat "
        "Joe Manchin backed it.",
        [
            ("Mitch McConnell of Kentucky and Senate", "PERSON"),
            ("Chuck Schumer of New York", "PERSON"),
            ("Rob Portman of Ohio and Democrat", "PERSON"),
            ("Joe Manchin", "PERSON"),
        ],
    )
    people = {n for n, e in ents.items() if e.type == "person"}
    assert people == {"Mitch McConnell", "Chuck Schumer", "Rob Portman", "Joe Manchin"}
    assert {"Kentucky", "Ohio"} <= {n for n, e in ents.items() if e.type == "place"}
    assert ents["Kentucky"].country == "United States"


def test_one_word_coordinated_surnames_stay_people():
    ents = grouped(
        "Results\nKafelnikov beat Ivanisevic and Becker lost to Rafter.",
        [("Kafelnikov", "PERSON"), ("Ivanisevic and Becker", "PERSON"), ("Rafter", "PERSON")],
    )
    assert {n for n, e in ents.items() if e.type == "person"} == {
        "Kafelnikov",
        "Ivanisevic",
        "Becker",
        "Rafter",
    }


def test_coordinated_places_typed_as_a_person_become_places():
    ents = grouped(
        "Shelling\nForces shelled Hama and Latakia on Monday.", [("Hama and Latakia", "PERSON")]
    )
    assert {e.type for e in ents.values()} == {"place"}
    assert {e.country for e in ents.values()} == {"Syria"}
    assert len(ents) == 2


def test_a_name_in_place_context_is_a_place_in_every_mention():
    ents = grouped(
        "Fires\nTourists on Rhodes fled as fires spread across the Greek island of Rhodes.",
        [("Rhodes", "ORG"), ("Rhodes", "ORG")],
    )
    assert ents["Rhodes"].type == "place" and ents["Rhodes"].count == 2


def test_regions_get_no_country():
    ents = grouped(
        "Markets\nStocks fell across Asia and in Western Europe, while Manila shares slid.",
        [("Asia", "LOC"), ("Western Europe", "LOC"), ("Manila", "GPE")],
    )
    assert ents["Asia"].type == "place" and ents["Asia"].country is None
    assert ents["Western Europe"].country is None
    assert ents["Manila"].country == "Philippines"


def test_organisation_short_forms_join_the_full_name():
    ents = grouped(
        "Vote\nThe US Senate voted on Monday. The Senate bill goes to the House of "
        "Representatives; the House votes next week. The Federal Reserve held "
        "rates; the Fed meets again in June.",
        [
            ("US Senate", "ORG"),
            ("Senate", "ORG"),
            ("House of Representatives", "ORG"),
            ("House", "ORG"),
            ("Federal Reserve", "ORG"),
            ("Fed", "ORG"),
        ],
    )
    assert set(ents) == {"US Senate", "House of Representatives", "Federal Reserve"}
    assert ents["US Senate"].aliases == {"US Senate", "Senate"}
    assert ents["House of Representatives"].count == 2
    assert ents["Federal Reserve"].aliases == {"Federal Reserve", "Fed"}


@pytest.mark.parametrize(
    "short,full,expected",
    [
        ("Senate", "US Senate", True),
        ("House", "House of Representatives", True),
        ("Fed", "Federal Reserve", True),
        ("House", "White House", False),
        ("Bank", "World Bank", False),
        ("Federal Reserve", "Fed", False),
        ("FED", "Federal Reserve", False),
    ],
)
def test_org_short_form_rule(short, full, expected):
    assert org_short_form_of(short.split(), full.split(), gazetteer.load()) is expected


def test_country_names_with_and_are_not_split():
    gaz = gazetteer.load()
    parts = split_span("Trinidad and Tobago", 0, "GPE", gaz)
    assert [p.text for p in parts] == ["Trinidad and Tobago"]
    assert [p.text for p in split_span("Procter and Gamble", 0, "ORG", gaz)] == [
        "Procter and Gamble"
    ]


def test_regions():
    assert is_region("Asia") and is_region("Middle East") and is_region("sub-Saharan Africa")
    assert not is_region("Philippines") and not is_region("Manila")


def test_real_pipeline_groups_the_listed_cases(extractor):
    article = parse_text(
        "Leaders meet\nRussian President Vladimir Putin and Kim Jong Un met in Vladivostok. "
        "Putin praised the talks and Kim left by train. Senate Majority Leader Mitch McConnell "
        "of Kentucky said the US Senate would vote; the Senate meets on Monday. Stocks fell "
        "across Asia. The Federal Reserve held rates and the Fed meets in June."
    )
    ents = {e.name: e for e in extractor.extract(article)}
    people = {n for n, e in ents.items() if e.type == "person"}
    assert {"Vladimir Putin", "Kim Jong Un", "Mitch McConnell"} <= people
    assert not any(" and " in p or " of " in p for p in people)
    assert ents["Asia"].country is None
    assert "Senate" not in ents


def test_a_place_named_once_is_not_also_a_person():
    ents = grouped(
        "Fires\nTourists on Rhodes fled as fires spread across the island of Rhodes.",
        [("Rhodes", "PERSON"), ("Rhodes", "GPE")],
    )
    assert [(e.name, e.type, e.count) for e in ents.values()] == [("Rhodes", "place", 2)]
