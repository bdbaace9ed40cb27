"""The story's own entities against the shipped model's tags: new tags, identity, time,
types and evidence (:mod:`newstag.tagging.assemble`)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from newstag.io.article import read_article
from newstag.paths import default_model_dir
from newstag.tagging.archive import OWN_NEW_TAG_WEIGHT
from newstag.tagging.assemble import BROAD_PLACE_WEIGHT, Draft, central_by_name
from newstag.tagging.identity import (
    dominant_namesake,
    headline_overreach,
    identity_tag,
    person_compatible,
    place_compatible,
    short_form_tag,
    tag_place_country,
)
from newstag.tagging.names import first_name_gender, honorific_gender, name_variants
from newstag.tagging.periods import article_year, named_in, period_prior, tag_info
from newstag.tagging.tag_types import evidence_type
from newstag.tagging.tagger import Tagger
from newstag.tagging.tagmodel import TagModel
from tests.conftest import SAMPLE

pytestmark = pytest.mark.slow

TRANSFER = {
    "title": "Harry Kane joins Bayern Munich from Tottenham Hotspur",
    "body": "Harry Kane has joined Bayern Munich from Tottenham Hotspur for a club-record fee, "
    "the German champions said on Saturday. Kane, 30, signed a four-year contract in "
    "Munich after scoring 280 goals for Tottenham. Bayern hope Kane will help them win "
    "the Bundesliga again; Kane said he was proud to join the club.",
    "date": "2023-08-12",
}
PUTIN_SURNAME = {
    "title": "Putin warns the West over new sanctions",
    "body": "Putin said on Friday that Russia would respond to any new sanctions. Putin spoke "
    "to reporters in Moscow after a meeting of his security council.",
}
GEORGIA_STATE = {
    "title": "Storms hit Georgia",
    "body": "A tornado struck Atlanta, Georgia on Monday. Savannah and Macon also saw damage, "
    "officials in Georgia said. The governor of Georgia declared an emergency.",
}
GEORGIA_COUNTRY = {
    "title": "Protests in Georgia",
    "body": "Thousands marched in Tbilisi, the capital of Georgia, against a new law. Batumi "
    "also saw protests, Georgian police said.",
}
FEATURE_NAME = re.compile(r"^[a-z_]+:")


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    if not (default_model_dir() / "manifest.json").exists():
        pytest.skip("the shipped model is not installed")
    return Tagger.load("default")


def tags_of(tagger: Tagger, article: object, k: int = 10) -> list[dict]:
    return tagger.suggest(article, top_k=k)["tags"]


def test_a_salient_person_the_model_lacks_comes_back_new_and_high(tagger):
    tags = tags_of(tagger, TRANSFER)
    names = [t["tag"] for t in tags]
    assert "Harry Kane" in names[:5], names
    kane = tags[names.index("Harry Kane")]
    assert kane["new"] is True and kane["type"] == "person"
    assert {"Harry Kane", "Kane"} <= {e["text"] for e in kane["evidence"]}


def test_new_tags_are_only_entities_the_vocabulary_lacks(tagger):
    known = set(tagger.model.labels)
    for article in (TRANSFER, PUTIN_SURNAME, read_article(SAMPLE / "kim-putin-summit.txt")):
        for tag in tags_of(tagger, article, 30):
            if tag.get("new"):
                assert tag["tag"] not in known and tag.get("model_tag") is None, tag


def test_types_come_from_evidence_not_the_manifest(tagger):
    by_name = {t["tag"]: t for t in tags_of(tagger, TRANSFER, 30)}
    assert by_name["Tottenham Hotspur"]["type"] == "organisation"
    if "Bundesliga" in by_name:
        assert by_name["Bundesliga"]["type"] != "place"
    info = tag_info(tagger.model)["tags"]
    assert info["Energy"]["type"] == "topic"
    assert info["Africa"]["type"] == "place" and info["Africa"]["level"] == "continent"
    assert info["FC Barcelona"]["type"] == "organisation"
    assert evidence_type({"name": "Tottenham Hotspur", "type": "person"}) == "organisation"
    assert evidence_type({"name": "Harry Kane", "type": "person"}) == "person"
    assert evidence_type({"name": "Bundesliga", "type": "place", "label": "GPE"}) == "organisation"
    assert evidence_type({"name": "Korean Peninsula", "type": "place", "label": "LOC"}) == "place"


def test_a_surname_alone_maps_to_the_known_person(tagger):
    tags = tags_of(tagger, PUTIN_SURNAME)
    putin = next(t for t in tags if t["tag"] == "Vladimir Putin")
    assert not putin.get("new") and putin["type"] == "person"
    assert "Putin" in {e["text"] for e in putin["evidence"] if e["kind"] == "mention"}
    assert "Putin" not in [t["tag"] for t in tags]


def test_a_person_tag_needs_a_compatible_full_name(tagger):
    un = {"name": "Kim Jong Un", "type": "person", "aliases": ["Kim", "Kim Jong Un"]}
    assert person_compatible("Kim Jong-un", un, tagger.model)
    assert not person_compatible("Kim Jong-il", un, tagger.model)
    kim = {"name": "Kim", "type": "person", "aliases": []}
    assert not person_compatible("Kim Jong-il", kim, tagger.model)
    assert not person_compatible("Kim Jong-un", kim, tagger.model)
    tags = tags_of(tagger, read_article(SAMPLE / "kim-putin-summit.txt"))
    assert "Kim Jong-il" not in {t["tag"] for t in tags} | {t.get("model_tag") for t in tags}


def test_the_story_spelling_replaces_a_variant_of_the_model(tagger):
    tags = tags_of(tagger, read_article(SAMPLE / "kim-putin-summit.txt"))
    kim = next(t for t in tags if t["tag"] == "Kim Jong Un")
    assert kim["model_tag"] == "Kim Jong-un" and not kim.get("new")
    assert {"Kim Jong Un"} <= {e["text"] for e in kim["evidence"]}


def test_georgia_the_state_or_the_country_by_context(tagger):
    state = [t["tag"] for t in tags_of(tagger, GEORGIA_STATE)]
    country = [t["tag"] for t in tags_of(tagger, GEORGIA_COUNTRY)]
    assert state[0] == "Georgia (U.S. state)", state
    assert country[0] == "Georgia (country)", country
    assert (
        state.index("Georgia (U.S. state)") < state.index("Georgia (country)")
        if "Georgia (country)" in state
        else True
    )
    assert tag_place_country("Georgia (U.S. state)") == "United States"
    assert tag_place_country("Georgia (country)") == "Georgia"
    assert not place_compatible(
        "Georgia (country)", {"name": "Georgia", "type": "place", "country": "United States"}
    )


def test_a_tag_out_of_use_for_years_is_unlikely_now():
    per_year = {str(y): 100 for y in range(2004, 2016)}
    info = {"per_year": per_year}
    season = {"n": 4, "first": 2008, "last": 2008, "type": "topic"}
    assert period_prior(season, 2009, info) == 1.0
    assert period_prior(season, 2023, info) < 0.05
    assert period_prior({**season, "type": "place"}, 2023, info) == 1.0  # places stay
    in_use = {"n": 40, "first": 2004, "last": 2015, "type": "topic"}
    assert period_prior(in_use, 2030, info) == 1.0
    rare = {"n": 1, "first": 2014, "last": 2014, "type": "person"}  # too rare to say
    assert period_prior(rare, 2030, info) == 1.0


def test_the_shipped_stale_season_tag_fades_for_a_recent_story(tagger):
    info = tag_info(tagger.model)
    row = info["tags"]["2008-09 Bundesliga season"]
    assert period_prior(row, 2023, info) < 0.1 <= period_prior(row, 2008, info)
    recent = {t["tag"] for t in tags_of(tagger, TRANSFER, 30)}
    assert "2008-09 Bundesliga season" not in recent


def test_a_tag_the_story_names_is_in_use_whatever_its_period(tagger):
    info = tag_info(tagger.model)
    assert period_prior(info["tags"]["Bundesliga"], 2023, info) < 0.1  # out of use at Wikinews
    assert named_in("Bundesliga", "top of the bundesliga.") and not named_in("Bundes", "Bundesliga")
    story = {**TRANSFER, "body": TRANSFER["body"] + " The Bundesliga season starts on Friday."}
    tags = {t["tag"]: t for t in tags_of(tagger, story, 30)}
    assert "Bundesliga" in tags and "2008-09 Bundesliga season" not in tags


def test_article_year_from_its_date_else_today():
    a = read_article(SAMPLE / "kim-putin-summit.txt")
    assert article_year(a, dt.date(2031, 1, 1)) == 2031
    a.date = "2018-04-24 17:16:49"
    assert article_year(a) == 2018


@pytest.mark.parametrize(
    "name",
    [
        "kim-putin-summit.txt",
        "gaza-aid-convoy.txt",
        "eu-energy-summit.html",
        "wildfire.json",
        "central-bank.txt",
    ],
)
def test_evidence_is_mentions_and_words(tagger, name):
    for tag in tags_of(tagger, read_article(SAMPLE / name), 15):
        assert tag["evidence"], tag
        for ev in tag["evidence"]:
            assert not FEATURE_NAME.match(ev["text"]), ev
        if tag["source"].startswith("classifier"):
            assert any(ev["kind"] == "term" for ev in tag["evidence"]), tag


SENATE = {
    "title": "Senate leaders trade blame over the budget",
    "body": "Senate Majority Leader Chuck Schumer of New York said on Tuesday that the budget "
    "would pass. Mr. Clark, a staff member, was also present. Schumer spoke in Washington.",
}
BAYERN = {
    "title": "Kane scores twice as Bayern beat Dortmund",
    "body": "Harry Kane scored twice as Bayern beat Borussia Dortmund 4-0 on Saturday. Thomas "
    "Tuchel said his side had been patient. Dortmund coach Edin Terzic said Bayern were "
    "too strong.",
}


def test_a_nickname_names_the_same_person(tagger):
    chuck = {"name": "Chuck Schumer", "type": "person", "aliases": ["Chuck Schumer"]}
    assert person_compatible("Charles Schumer", chuck, tagger.model)
    assert not person_compatible("Charles Kennedy", chuck, tagger.model)
    assert "charles schumer" in name_variants("Chuck Schumer")
    assert "chuck schumer" in name_variants("Charles Schumer")


def test_a_full_name_may_leave_out_middle_names(tagger):
    assert "hillary clinton" in name_variants("Hillary Rodham Clinton")
    assert name_variants("Ludwig van Beethoven") == {"ludwig van beethoven"}  # a particle
    hillary = {"name": "Hillary Rodham Clinton", "type": "person", "aliases": []}
    assert person_compatible("Hillary Clinton", hillary, tagger.model)
    assert not person_compatible("Bill Clinton", hillary, tagger.model)
    bush = {"name": "George W. Bush", "type": "person", "aliases": []}
    assert not person_compatible("George H. W. Bush", bush, tagger.model)
    article = {
        "title": "Senators weigh the marriage cases",
        "body": "Former Secretary of State Hillary Rodham Clinton said on Tuesday that the "
        "court should hear the cases. Clinton spoke in New York.",
    }
    assert "Hillary Clinton" in {t["tag"] for t in tags_of(tagger, article, 10)}


def test_a_surname_alone_names_the_namesake_that_dominates_the_vocabulary(tagger):
    model = tagger.model
    obama = {"name": "Obama", "type": "person", "aliases": ["Obama"]}
    assert dominant_namesake(obama, model) == "Barack Obama"  # 317 uses to 13
    assert dominant_namesake({**obama, "gender": "female"}, model) == "Michelle Obama"
    assert dominant_namesake({**obama, "name": "Clinton"}, model) is None  # 87 / 45 / 2
    assert dominant_namesake({**obama, "name": "Kim"}, model) is None
    assert person_compatible("Barack Obama", obama, model)
    assert identity_tag(obama, model, {}) is None  # the model must find the story his too
    assert identity_tag(obama, model, {"Barack Obama": {}}) == "Barack Obama"
    article = {
        "title": "Leaders march in Paris",
        "body": "The White House said President Obama would not attend the march. Obama "
        "spoke with the French president by telephone on Sunday.",
    }
    tags = {t["tag"]: t for t in tags_of(tagger, article, 10)}
    assert "Barack Obama" in tags and not tags["Barack Obama"].get("new"), sorted(tags)


def test_an_honorific_must_agree_with_the_first_name(tagger):
    text = "Lawyers said Mr. Clark had left."
    start = text.index("Clark")
    mentions = [["Clark", start, start + 5]]
    assert honorific_gender(mentions, text) == "male"
    assert first_name_gender("Helen Clark") == "female"
    assert first_name_gender("Clark, Helen") == "female"
    clark = {"name": "Clark", "type": "person", "aliases": [], "gender": "male"}
    assert not person_compatible("Helen Clark", clark, tagger.model)
    tags = {t["tag"] for t in tags_of(tagger, SENATE, 30)}
    assert "Helen Clark" not in tags


def test_a_club_by_its_short_name_is_the_vocabulary_club(tagger):
    assert short_form_tag("Bayern", tagger.model) == "FC Bayern München"
    assert short_form_tag("FC", tagger.model) is None  # too short to decide
    by_name = {t["tag"]: t for t in tags_of(tagger, BAYERN, 30)}
    assert by_name["FC Bayern München"]["type"] == "organisation"
    assert {"Bayern"} == {e["text"] for e in by_name["FC Bayern München"]["evidence"]}


def test_a_name_typed_two_ways_keeps_its_central_entity():
    infos = [
        {"name": "Bayern", "type": "organisation", "salience": 0.39},
        {"name": "Bayern", "type": "person", "salience": 0.19},
    ]
    assert central_by_name(infos)["Bayern"]["type"] == "organisation"
    assert central_by_name(infos[::-1])["Bayern"]["type"] == "organisation"


def test_a_title_case_headline_word_run_into_a_name(tagger):
    headline = "Trump Foresees National Guard Securing Border"
    article = {
        "title": headline,
        "body": "President Trump plans to deploy the National Guard, the White House said.",
        "date": "2018-04-04",
    }
    over = {
        "name": "Trump Foresees",
        "type": "person",
        "mentions": [["Trump Foresees", 0, 14], ["Trump", len(headline) + 11, len(headline) + 16]],
    }
    assert headline_overreach(over, len(headline)) == "Trump"
    barbara = {**over, "name": "Barbara Bush", "mentions": [["Barbara Bush", 0, 12]]}
    assert headline_overreach(barbara, len(headline)) is None
    tags = [t["tag"] for t in tags_of(tagger, article)]
    assert "Donald Trump" in tags and "Trump Foresees" not in tags, tags
    assert "Casablanca" not in tags and "Morocco" not in tags, tags  # "White House"


def test_a_headline_word_is_no_vocabulary_tag(tagger):
    article = {
        "title": "Gasps in Courtroom as Hannity Is Named as Cohen's Secret Client",
        "body": "Lawyers for Mr. Cohen had sought to keep Mr. Hannity's identity a secret.",
    }
    tags = {t["tag"]: t for t in tags_of(tagger, article, 30)}
    assert "Gasps" not in tags
    assert tags["Cohen"].get("new") and tags["Hannity"].get("new")


def test_a_continent_the_story_never_names_ranks_below_named_places():
    asia = Draft(tag="Asia", type="place", p=0.9, level="continent")
    korea = Draft(tag="North Korea", type="place", p=0.0, e=0.3, mentioned=True, level="country")
    assert asia.score == pytest.approx(0.9 / 2 * BROAD_PLACE_WEIGHT) and asia.score < korea.score
    named = Draft(tag="Asia", type="place", p=0.9, e=0.2, mentioned=True, level="continent")
    assert named.score == pytest.approx(1 - 0.1 * 0.8)  # a continent it names competes


def test_whose_archive_decides_how_model_and_story_meet():
    """A general model: a mentioned person's model score and centrality add up as
    independent evidence, and an unnamed continent ranks low; a model of the newsroom's own
    archive leads with its score (the mean, continents as the archive tagged them) and ranks
    a tag its vocabulary lacks at half its centrality."""
    known = {"tag": "Ed Balls", "type": "person", "p": 0.4, "e": 0.3, "mentioned": True}
    new = {"tag": "Jon Santacana", "type": "person", "e": 0.3, "new": True, "mentioned": True}
    topic = {"tag": "Economy", "type": "topic", "p": 0.55}
    general = [Draft(**known), Draft(**new), Draft(**topic)]
    assert general[0].score == pytest.approx(1 - 0.6 * 0.7)
    assert general[1].score == pytest.approx(0.3)
    own = [Draft(**known, own=True), Draft(**new, own=True), Draft(**topic, own=True)]
    assert own[0].score == pytest.approx(0.35)
    assert own[0].score < general[0].score
    assert own[1].score == pytest.approx(0.3 * OWN_NEW_TAG_WEIGHT)
    assert topic_score(general) == topic_score(own)  # a topic is the model's either way
    asia = {"tag": "Asia", "type": "place", "p": 0.8, "level": "continent"}
    assert Draft(**asia, own=True).score == pytest.approx(0.4)  # as the archive tagged it
    assert Draft(**asia).score == pytest.approx(0.4 * BROAD_PLACE_WEIGHT)


def topic_score(drafts):
    return [d.score for d in drafts if d.type == "topic"]


def test_bundles_from_before_the_archive_parameter_stay_general():
    from newstag.tagging.bundle import _new_model

    manifest = json.loads((default_model_dir() / "manifest.json").read_text())
    assert _new_model(manifest).archive == "general"  # the shipped model, by its config
    manifest["hyper_parameters"].pop("archive", None)
    assert _new_model(manifest).archive == "general"
    assert TagModel().archive == "own"  # newstag train: the newsroom's own archive
