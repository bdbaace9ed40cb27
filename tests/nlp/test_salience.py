"""Salience: named features, named weights loaded from data/salience.json, the score."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from newstag.io.article import Article
from newstag.nlp.entities import Entity, Mention
from newstag.nlp.salience import (
    FEATURES,
    HAND_SET_WEIGHTS,
    SALIENCE_FILE,
    SalienceFeatures,
    SalienceWeights,
    salience_features,
    salience_score,
    salience_weights,
    score_entities,
)


def test_salience_rewards_headline_lead_mentions_and_spread():
    body = "x " * 600
    article = Article(title="Headline about Alpha", body=body)
    alpha = Entity(
        "Alpha",
        "person",
        "PERSON",
        [Mention("Alpha", 15, 20), Mention("Alpha", 30, 35), Mention("Alpha", 1100, 1105)],
    )
    beta = Entity("Beta", "person", "PERSON", [Mention("Beta", 900, 904)])
    score_entities([alpha, beta], article)
    assert alpha.in_headline and alpha.in_lead and not beta.in_headline and not beta.in_lead
    assert 0 <= beta.salience < alpha.salience <= 1


def _mentions(article: Article, name: str, *contexts: str) -> list[Mention]:
    return [
        Mention(name, article.text.index(c), article.text.index(c) + len(name)) for c in contexts
    ]


def test_country_prior_is_bounded_by_the_headline_person():
    """The story's country outranks a bystander mentioned as often and earlier, but not the
    person the headline names."""
    body = (
        "Beta said Alpha would come. Russia hosted the talks. "
        + "x " * 300
        + "Beta and Russia agreed. Alpha left."
    )
    article = Article(title="Alpha arrives for talks", body=body)
    alpha = Entity(
        "Alpha",
        "person",
        "PERSON",
        _mentions(article, "Alpha", "Alpha arrives", "Alpha would", "Alpha left"),
    )
    beta = Entity("Beta", "person", "PERSON", _mentions(article, "Beta", "Beta said", "Beta and"))
    russia = Entity(
        "Russia",
        "place",
        "GPE",
        _mentions(article, "Russia", "Russia hosted", "Russia agreed"),
        country="Russia",
    )
    score_entities([alpha, beta, russia], article)
    assert alpha.salience > russia.salience > beta.salience


def test_salience_weights_are_fitted_named_numbers():
    stored = json.loads(SALIENCE_FILE.read_text())
    weights = salience_weights()
    assert weights == SalienceWeights(**stored["weights"]) and "held_out" in stored
    values = weights.as_dict()
    assert all(w >= 0 for w in values.values()) and abs(sum(values.values()) - 1) < 1e-3


def test_weights_and_features_share_their_names():
    assert [f.name for f in fields(SalienceWeights)] == list(FEATURES)
    assert list(salience_features([0], Article("Alpha", "Beta."), "person").as_dict()) == list(
        FEATURES
    )


def test_score_is_the_clipped_weighted_sum():
    features = SalienceFeatures(headline=1.0, frequency=0.5, order=1.0)
    weights = SalienceWeights(headline=0.2, frequency=0.4, order=0.1, lead=0.3)
    assert salience_score(features, weights) == pytest.approx(0.2 + 0.2 + 0.1)
    assert salience_score(features, SalienceWeights(headline=3.0)) == 1.0


def test_weights_file_missing_gives_hand_set_and_unknown_feature_is_named(tmp_path):
    assert SalienceWeights.load(tmp_path / "absent.json") == HAND_SET_WEIGHTS
    typo = tmp_path / "salience.json"
    typo.write_text(json.dumps({"weights": {"headline": 0.5, "freqency": 0.5}}))
    with pytest.raises(ValueError, match=r"salience.json: unknown salience feature\(s\) freqency"):
        SalienceWeights.load(typo)
