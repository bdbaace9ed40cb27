"""Entity extraction: normalisation, grouping and salience."""

from __future__ import annotations

import pytest

from newstag.io.article import parse_text
from newstag.nlp import gazetteer
from newstag.nlp.normalise import clean_mention

SUMMIT = parse_text(
    "Kim Jong Un Will Meet Putin in Vladivostok\n"
    "North Korean leader Kim Jong Un will travel to Russia this month to meet Russian "
    "President Vladimir Putin in the Pacific port city of Vladivostok, the Kremlin said.\n"
    "Kim, who rarely leaves North Korea's capital Pyongyang, is expected to discuss weapons "
    "with Putin. The U.S. has warned Moscow against arms deals with Pyongyang.\n"
    "Putin said Russia was ready to help. Kim arrived by armoured train."
)


@pytest.fixture(scope="module")
def summit(extractor):
    return {e.name: e for e in extractor.extract(SUMMIT)}


def test_gazetteer_maps_names_codes_demonyms_and_cities():
    gaz = gazetteer.load()
    assert gaz.country("U.S.") == "United States"
    assert gaz.country("UK") == "United Kingdom"
    assert gaz.country("the Russian Federation") == "Russia"
    assert gaz.nationality("North Korean") == "North Korea"
    assert gaz.nationality("Russians") == "Russia"
    assert gaz.nationality("American") == "United States"
    assert gaz.place("Vladivostok")[1] == "Russia"
    assert gaz.place("Pyongyang")[1] == "North Korea"
    assert gaz.place("Texas")[1] == "United States"
    assert gaz.country("Nowhereland") is None


def test_us_states_are_not_towns_abroad_of_the_same_name():
    gaz = gazetteer.load()
    for state in ("Arizona", "Florida", "Virginia", "Colorado", "Montana", "Oklahoma"):
        assert gaz.place(state) == (state, "United States", 0), state
    assert gaz.place("New York")[0] == "New York City"  # the corrections file keeps the city


def test_clean_mention_strips_possessive_title_and_the():
    gaz = gazetteer.load()
    assert clean_mention("North Korea's", 10, "GPE", gaz) == ("North Korea", 10)
    assert clean_mention("the United States", 0, "GPE", gaz) == ("United States", 4)
    assert clean_mention("President Vladimir Putin", 5, "PERSON", gaz) == ("Vladimir Putin", 15)
    assert clean_mention("U.S.", 0, "GPE", gaz) == ("U.S.", 0)
    assert clean_mention("“Putin”", 0, "PERSON", gaz) == ("Putin", 1)
    assert clean_mention("'s", 0, "PERSON", gaz) is None


def test_short_forms_join_full_names(summit):
    assert {"Kim", "Kim Jong Un"} <= summit["Kim Jong Un"].aliases
    assert {"Putin", "Vladimir Putin"} <= summit["Vladimir Putin"].aliases
    assert "Kim" not in summit and "Putin" not in summit
    assert summit["Kim Jong Un"].type == "person"


def test_nationalities_and_abbreviations_map_to_countries(summit):
    assert "North Korean" in summit["North Korea"].aliases
    assert "North Korea" in summit["North Korea"].aliases  # possessive stripped
    assert "Russian" in summit["Russia"].aliases
    assert "United States" in summit and summit["United States"].type == "place"


def test_cities_carry_their_country(summit):
    assert summit["Vladivostok"].country == "Russia"
    assert summit["Pyongyang"].country == "North Korea"
    assert summit["Moscow"].country == "Russia"


def test_title_case_headline_false_entities_are_rejected(extractor):
    article = parse_text(
        "Trump Will Meet Xi For Trade Talks Next Week\n"
        "President Donald Trump said on Friday he would meet Chinese leader Xi Jinping to "
        "discuss tariffs. Trump said the talks with Xi could end the trade war between the "
        "United States and China, which has rattled markets around the world for months."
    )
    names = {e.name for e in extractor.extract(article)}
    assert not any("Will" in n or "Meet" in n for n in names), names
    assert {"Donald Trump", "Xi Jinping", "China", "United States"} <= names


def test_mentions_have_offsets_into_the_text(summit):
    for entity in summit.values():
        for mention in entity.mentions:
            assert SUMMIT.text[mention.start : mention.end] == mention.text


def test_salience_orders_the_summit(summit):
    ranked = sorted(summit.values(), key=lambda e: -e.salience)
    assert {e.name for e in ranked[:2]} == {"Kim Jong Un", "Vladimir Putin"}
