"""Channels: the estimator contract of every registered channel and of the index, a toy channel
added without editing the index, and the loud error of a re-ranker that does not match."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone

from newstag.related import RelatedError, RelatedIndex, rerank_feature_names
from newstag.related import reranker as reranker_module
from newstag.related.channels import REGISTRY, Channel
from tests.related.test_related import ROWS, lexical

BUILTIN = ["word", "char", "entity", "minilm", "semantic"]


# -- the estimator contract, over every registered channel ----------------------------------


def test_builtin_channels_are_registered_in_fusion_order():
    assert list(REGISTRY)[: len(BUILTIN)] == BUILTIN
    assert all(REGISTRY[name].name == name for name in REGISTRY)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_channel_is_a_scikit_learn_estimator(name):
    cls = REGISTRY[name]
    assert issubclass(cls, BaseEstimator) and issubclass(cls, Channel)
    channel = cls.from_params(RelatedIndex(fields="headline+lead", min_df=2).get_params())
    params = channel.get_params()
    copy = clone(channel)
    assert copy is not channel and type(copy) is cls and copy.get_params() == params
    assert cls(**params).get_params() == params  # get_params round trip
    if params:  # set_params changes what get_params returns
        key = next(iter(params))
        value = params[key]
        assert channel.set_params(**{key: value}).get_params()[key] == value


@pytest.mark.parametrize("name", ["word", "char", "minilm"])
def test_clone_of_a_fitted_channel_is_unfitted(name):
    channel = lexical().channel(name)
    assert channel.n_rows() == len(ROWS)
    fresh = clone(channel)
    assert fresh.get_params() == channel.get_params()
    assert not [a for a in vars(fresh) if a.endswith("_") and not a.startswith("_")]


def test_channel_feature_names_are_its_name_and_three_more():
    for name, cls in REGISTRY.items():
        names = cls().feature_names()
        assert names[0] == name and len(names) == 4 and len(set(names)) == 4


def test_index_clone_and_get_params_round_trip():
    index = lexical(weights={"word": 1.0, "char": 2.0}, min_df=1, rerank=False)
    params = index.get_params()
    copy = clone(index)
    assert copy.get_params() == params and len(copy) == 0 and len(index) == len(ROWS)
    assert RelatedIndex(**params).get_params() == params
    assert index.set_params(rerank=True).rerank is True
    with pytest.raises(ValueError, match="unknown parameter"):
        index.set_params(colour="red")


def test_feature_names_come_from_the_channel_list():
    index = lexical()
    assert index.rerank_feature_names(False) == rerank_feature_names(False, False)
    assert [ch.name for ch in index.channels_] == ["word", "char", "minilm"]


# -- a toy channel: a file (here a class) and a registry entry, no edit of the index --------


class LongHeadline(Channel):
    """Toy channel: 1 when the row's headline has at least ``words`` words, else 0."""

    name = "long"
    timing = "long"
    extra_features = ("long_extra",)

    def __init__(self, words: int = 6) -> None:
        self.words = words

    def start(self, index: Any) -> None:
        self.flags_ = np.zeros(0, dtype=np.float32)

    def append(self, rows: list, texts: list[str], index: Any) -> None:
        fresh = np.array([len(t.split()) >= self.words for t in texts], dtype=np.float32)
        self.flags_ = np.concatenate([self.flags_, fresh])

    def n_rows(self) -> int:
        return len(self.flags_)

    def query_ids(self, pos: list[int], index: Any) -> Any:
        return len(pos)

    def query_texts(self, texts: list[str], entities: list, index: Any) -> Any:
        return len(texts)

    def similarities(self, queries: Any, index: Any) -> Any:
        return np.tile(self.flags_, (queries, 1))

    def block(self, cand: Any, m: int, index: Any) -> Any:
        f = self.flags_[cand]
        return np.outer(f, f[:m]).astype(np.float32)

    def extras(self, cand: Any, q: dict, index: Any) -> list:
        return [self.flags_[cand].astype(np.float64)]


TOY_ROWS = [
    {"id": "short", "headline": "Apple shares rise"},
    {"id": "long", "headline": "Apple shares rise sharply after strong quarterly news"},
    {"id": "other", "headline": "Museum reopens after long renovation"},
]


def test_a_registered_toy_channel_is_used_without_editing_the_index(monkeypatch, tmp_path):
    monkeypatch.setitem(REGISTRY, "long", LongHeadline)
    plain = lexical(TOY_ROWS, weights={"word": 1.0, "char": 1.0}, min_df=1)
    assert plain.query(text="Apple shares rise", k=1, exclude_self=False)[0]["id"] == "short"
    weights = {"word": 1.0, "char": 1.0, "long": 10.0}
    index = lexical(TOY_ROWS, channels=("long",), weights=weights)
    assert [ch.name for ch in index.channels_] == ["word", "char", "minilm", "long"]
    hits = index.query(text="Apple shares rise", k=2, exclude_self=False)
    assert hits[0]["id"] == "long" and hits[0]["scores"]["long"] == 1.0
    assert index.fusion_weights(False) == weights
    names = index.rerank_feature_names(False)
    assert names[-1] == "long_extra" and "long_gap" in names
    cand = np.array([1, 0, 2])
    score = np.array([0.5, 0.9, 0.1])
    comps = index.components(texts=["Apple shares rise"], minilm_all=False)
    q = {"_text": "Apple shares rise", "_minilm": comps.pop("_minilm_query")[0]}
    x = index.rerank_features(cand, score, {n: c[0] for n, c in comps.items()}, q, False)
    assert x.shape == (3, len(names)) and list(x[:, -1]) == [1.0, 0.0, 0.0]
    assert index.timings_["long"] >= 0.0
    index.save(tmp_path / "idx")  # loads back (the toy vectorises its rows again)
    again = RelatedIndex.load(tmp_path / "idx")
    assert again.channels == ["long"] and again.has("long")
    assert [h["id"] for h in again.query(text="Apple shares rise", k=2, exclude_self=False)] == [
        h["id"] for h in hits
    ]


def test_an_unknown_channel_name_is_a_one_line_error():
    with pytest.raises(RelatedError, match="unknown channel 'nope'"):
        lexical(channels=("nope",))


# -- a re-ranker that does not match the channels fails loudly ----------------------------------


def test_reranker_with_a_renamed_feature_raises_naming_file_features_and_refit(
    tmp_path, monkeypatch
):
    spec = json.loads(reranker_module.RERANKER.read_text(encoding="utf-8"))
    for model in spec["models"].values():
        model["features"] = ["char_distance" if f == "char_gap" else f for f in model["features"]]
    path = tmp_path / "reranker.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    index = lexical()
    assert index.query(text="Bank of England interest rates", k=2)  # the shipped file matches
    index.save(tmp_path / "idx")
    monkeypatch.setattr(reranker_module, "RERANKER", path)
    with pytest.raises(RelatedError) as err:
        index.query(text="Bank of England interest rates", k=2)
    message = str(err.value)
    assert str(path) in message and "'default-no-entities'" in message
    assert "missing char_gap" in message and "unexpected char_distance" in message
    assert "make reranker" in message and "\n" not in message
    with pytest.raises(RelatedError, match="unexpected char_distance"):
        RelatedIndex.load(tmp_path / "idx")  # loading says so at once


def test_reranker_with_reordered_features_also_raises(tmp_path, monkeypatch):
    names = rerank_feature_names(False, False)
    swapped = [names[1], names[0], *names[2:]]
    model = {
        "features": swapped,
        "mean": [0.0] * len(names),
        "scale": [1.0] * len(names),
        "coef": [0.0] * len(names),
        "intercept": 0.0,
    }
    path = tmp_path / "reranker.json"
    path.write_text(json.dumps({"models": {"default-no-entities": model}}), encoding="utf-8")
    monkeypatch.setattr(reranker_module, "RERANKER", path)
    with pytest.raises(RelatedError, match="another order"):
        lexical().info()
    assert lexical(rerank=False).info()["rerank"] is False  # off: the file is not read
