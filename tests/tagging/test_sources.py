"""Candidate sources: a new source registers without editing other files; the combiner
reads features by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypedDict

import numpy as np
import pytest

from newstag.tagging import ModelError, load_model, save_model
from newstag.tagging.combiner import Combiner, feature_vector
from newstag.tagging.sources import (
    DEFAULT_SOURCES,
    Batch,
    CandidateSource,
    TrainingSet,
    register_source,
)
from newstag.tagging.tagmodel import TagModel
from tests.tagging.test_model_parts import _toy_corpus, ent


class ShoutFeatures(TypedDict):
    shout_share: float
    """Share of the tag's words written in capitals in the article."""


@register_source("test-shout")
class ShoutSource(CandidateSource):
    """A toy rules source: proposes the tags seen with a capitalised headline word, and
    keeps the tags it learned in its own bundle part."""

    part = "shout"
    FEATURES = tuple(ShoutFeatures.__annotations__)

    def __init__(self, min_count: int = 1) -> None:
        self.min_count = min_count

    def fit(self, data: TrainingSet) -> ShoutSource:
        counts: dict[str, int] = {}
        for ts in data.tags:
            for t in ts:
                counts[t] = counts.get(t, 0) + 1
        self.tags_ = sorted(t for t, n in counts.items() if n >= self.min_count)
        return self

    def scan(self, batch: Batch) -> list[str]:
        return list(batch.texts)

    def propose(self, state: str) -> list[str]:
        return [t for t in self.tags_ if t.upper() in state]

    def features(self, state: str, tag: str, new: bool) -> ShoutFeatures:
        return {"shout_share": 0.0 if new else float(tag.upper() in state)}

    def save(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "tags.json"
        path.write_text(json.dumps(self.tags_), encoding="utf-8")
        return [path]

    def load_part(self, folder: Path | None) -> ShoutSource:
        self.tags_ = json.loads((folder / "tags.json").read_text(encoding="utf-8"))
        return self


@pytest.fixture(scope="module")
def shout_model() -> TagModel:
    texts, ents, tags = _toy_corpus()
    return TagModel(folds=3, min_clf_count=2, sources=(*DEFAULT_SOURCES, "test-shout")).fit(
        texts, ents, tags
    )


def test_a_registered_source_joins_training_scoring_and_the_bundle(
    shout_model: TagModel, tmp_path: Path
) -> None:
    assert shout_model.feature_names[-1] == "shout_share"  # after the historical columns
    text = "SPORT in Sweden\n\nAnna Berg spoke about the match in Sweden today."
    ents = [ent("Anna Berg", start=30)]
    cands = shout_model.candidates([text], [ents])[0]
    assert cands["Sport"]["features"]["shout_share"] == 1.0
    assert cands["Anna Berg"]["features"]["shout_share"] == 0.0
    save_model(shout_model, tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["hyper_parameters"]["sources"][-1] == "test-shout"
    assert manifest["parts"]["shout"] and "shout/tags.json" in manifest["artifacts"]
    meta = json.loads((tmp_path / "m" / "combiner" / "meta.json").read_text())
    assert meta["features"][-1] == "shout_share"  # the column order is stored at fit
    loaded = load_model(tmp_path / "m")
    assert loaded.sources_["test-shout"].tags_ == shout_model.sources_["test-shout"].tags_
    assert loaded.rank_batch([text], [ents]) == shout_model.rank_batch([text], [ents])


def test_a_registered_source_meets_the_estimator_contract() -> None:
    from tests.tagging.test_estimators import check_estimator_contract

    check_estimator_contract(ShoutSource)
    assert ShoutSource.from_model(TagModel()).get_params() == {"min_count": 1}


def test_a_bundle_with_an_unknown_source_is_refused(shout_model: TagModel, tmp_path: Path) -> None:
    save_model(shout_model, tmp_path / "m")
    path = tmp_path / "m" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["hyper_parameters"]["sources"][-1] = "no-such-source"
    path.write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="unknown candidate source 'no-such-source'"):
        load_model(tmp_path / "m")


def test_unknown_source_names_fail_at_fit() -> None:
    texts, ents, tags = _toy_corpus()
    with pytest.raises(ValueError, match="unknown candidate source 'nope'"):
        TagModel(folds=2, sources=("classifier", "nope")).fit(texts, ents, tags)


def test_rows_are_built_by_name_and_mistakes_raise() -> None:
    names = ("a", "b")
    assert feature_vector({"b": 2.0, "a": 1.0}, names) == [1.0, 2.0]
    with pytest.raises(ValueError, match="no candidate source gives the feature 'b'"):
        feature_vector({"a": 1.0}, names)
    with pytest.raises(ValueError, match=r"\['c'\] are not among"):
        feature_vector({"a": 1.0, "b": 2.0, "c": 3.0}, names)


def test_two_sources_may_not_claim_one_feature() -> None:
    from newstag.tagging.sources import feature_order, source_class

    class Clash(CandidateSource):
        name = "clash"
        FEATURES = ("clf_score",)

    with pytest.raises(ValueError, match="'clf_score' of source 'clash'"):
        feature_order([source_class("classifier")(), Clash()])


def test_combiner_stores_the_column_names(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.random((60, 2))
    y = (X[:, 0] > 0.5).astype(int)
    comb = Combiner(max_iter=5).fit(
        X, y, np.arange(60) // 3, int(y.sum()), feature_names=("x0", "x1")
    )
    comb.save(tmp_path / "c")
    assert Combiner.load(tmp_path / "c").feature_names_ == ("x0", "x1")
    with pytest.raises(ValueError, match="3 feature names for 2 columns"):
        Combiner(max_iter=5).fit(
            X, y, np.arange(60) // 3, int(y.sum()), feature_names=("x0", "x1", "x2")
        )


def test_linker_evidence_keys_are_declared(shout_model: TagModel) -> None:
    """Every key the linker writes is a declared LinkEvidence key, so the features that
    read them by name cannot miss one by a typo."""
    from newstag.tagging.linker import EVIDENCE_KEYS
    from newstag.tagging.sources.linker import evidence_features

    text = "Anna Berg in Sweden\n\nAnna Berg and Olaf Lind spoke in Stockholm, Sweden."
    ents = [
        ent("Anna Berg", start=0),
        ent("Sweden", "place", 0.4, country="Sweden", start=13),
        ent("Olaf Lind", salience=0.9, start=text.index("Olaf")),
    ]
    linker = shout_model.sources_["linker"]
    (state,) = linker.scan(Batch([text], [ents], None))
    linker.new_tags(state, set(state.evidence))
    written = {k for ev in (*state.evidence.values(), *state.new.values()) for k in ev}
    assert {"headline_any", "n_str_tags"} <= written <= EVIDENCE_KEYS
    assert "Olaf Lind" in state.new
    full = evidence_features(state.evidence["Anna Berg"], -1.0, False)
    assert full["str_quality"] == 1.0 and full["is_person"] == 1.0
    assert set(full) == set(linker.FEATURES)
