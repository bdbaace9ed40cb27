"""The scikit-learn estimator contract of the model and its parts, and of every source."""

from __future__ import annotations

import inspect

import pytest
from sklearn.base import clone

from newstag.tagging.classifier import FeatureBuilder, KNNTags, LinearOvR
from newstag.tagging.combiner import Combiner
from newstag.tagging.estimator import defaults_of
from newstag.tagging.linker import TagLinker
from newstag.tagging.sources import SOURCES, CandidateSource, source_class
from newstag.tagging.tagmodel import TagModel

PARTS = [TagModel, Combiner, FeatureBuilder, LinearOvR, KNNTags, TagLinker]


def _estimators() -> list[type]:
    source_class("classifier")  # the built-in sources are registered
    return PARTS + [SOURCES[name] for name in sorted(SOURCES)]


def _changed(cls: type) -> dict:
    """A non-default value for every parameter (so a round trip cannot pass by defaults)."""
    out = {}
    for name, default in defaults_of(cls).items():
        if isinstance(default, bool):
            out[name] = not default
        elif isinstance(default, (int, float)):
            out[name] = default + 1
        elif default is None:
            out[name] = 7
        else:
            out[name] = default
    return out


def check_estimator_contract(cls: type) -> None:
    """clone, get_params / set_params round trips, repr (also run on test sources)."""
    est = cls(**_changed(cls))
    params = est.get_params()
    init = inspect.signature(cls.__init__).parameters if cls.__init__ is not object.__init__ else {}
    assert set(params) == set(init) - {"self"}
    again = cls(**params)
    assert again.get_params() == params
    copy = clone(est)
    assert type(copy) is cls and copy is not est and copy.get_params() == params
    est.set_params(**defaults_of(cls))
    assert est.get_params() == defaults_of(cls)
    assert cls.__name__ in repr(est)


@pytest.mark.parametrize("cls", _estimators(), ids=lambda c: c.__name__)
def test_clone_and_get_params_round_trip(cls: type) -> None:
    check_estimator_contract(cls)


def test_clone_drops_fitted_state() -> None:
    combiner = Combiner(max_iter=5)
    combiner.threshold_ = 0.4
    assert not hasattr(clone(combiner), "threshold_")


def test_one_default_per_parameter() -> None:
    """A parameter name has the same default in the model, its parts and every source."""
    seen: dict[str, tuple[object, str]] = {}
    for cls in _estimators():
        for name, default in defaults_of(cls).items():
            if name in seen:
                assert seen[name][0] == default, (
                    f"{name}: {default!r} in {cls.__name__}, {seen[name][0]!r} in {seen[name][1]}"
                )
            else:
                seen[name] = (default, cls.__name__)


@pytest.mark.parametrize("name", ["classifier", "knn", "linker", "labels"])
def test_registered_sources_declare_their_features(name: str) -> None:
    cls = source_class(name)
    assert issubclass(cls, CandidateSource) and cls.name == name
    assert cls.FEATURES and len(set(cls.FEATURES)) == len(cls.FEATURES)
    # the model configures a source from its own parameters of the same name
    model = TagModel(C=0.25, knn_k=7, link_min_support=5, n_candidates=4)
    source = cls.from_model(model)
    for key, value in source.get_params().items():
        assert getattr(model, key, value) == value


def test_default_sources_give_the_historical_columns() -> None:
    from newstag.tagging.combiner import FEATURES
    from newstag.tagging.sources import feature_order

    assert feature_order(TagModel().new_sources()) == FEATURES
