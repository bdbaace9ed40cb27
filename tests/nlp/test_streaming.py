"""Batch tagging streams through one ``nlp.pipe`` call: one pool of spaCy workers, input read
a few batches ahead, the same suggestions as tagging a list."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from newstag.io.article import Article, from_record
from tests.conftest import run_cli


def _stories(n: int) -> list[dict[str, str]]:
    cities = ["Paris", "Berlin", "Tokyo", "Nairobi", "Lima"]
    people = ["Angela Merkel", "Emmanuel Macron", "Shinzo Abe", "Uhuru Kenyatta"]
    return [
        {
            "title": f"Talks in {cities[i % 5]} on day {i}",
            "body": f"{people[i % 4]} met officials in {cities[(i + 1) % 5]} on Monday.",
        }
        for i in range(n)
    ]


@pytest.fixture
def pipe_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ``n_process`` of each top-level ``nlp.pipe`` call; runs them in this process."""
    from spacy.language import Language

    calls: list[int] = []
    original = Language.pipe

    def pipe(
        self: Language, texts: Any, *, as_tuples: bool = False, n_process: int = 1, **kwargs: Any
    ) -> Any:
        if as_tuples:  # newstag's call (spaCy calls itself again without tuples)
            calls.append(n_process)
        return original(self, texts, as_tuples=as_tuples, n_process=1, **kwargs)

    monkeypatch.setattr(Language, "pipe", pipe)
    return calls


def _cli_suggest(n: int, *args: str) -> list[dict[str, Any]]:
    from newstag.cli import app

    lines = "".join(json.dumps(s) + "\n" for s in _stories(n))
    result = CliRunner().invoke(
        app, ["suggest", "--jsonl", "-", "--model", "none", "--format", "json", *args], input=lines
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_cli_keeps_one_worker_pool_for_the_whole_input(pipe_calls: list[int]) -> None:
    results = _cli_suggest(150, "-j", "2")
    assert len(results) == 150
    assert pipe_calls == [2]  # not one pool per 64 stories


def test_cli_tags_a_small_input_in_process(pipe_calls: list[int]) -> None:
    assert len(_cli_suggest(5, "-j", "2")) == 5
    assert pipe_calls == [1]


def test_suggest_many_reads_a_stream_a_few_batches_ahead(pipe_calls: list[int]) -> None:
    from newstag.tagging.tagger import Tagger

    read: list[int] = []

    def articles() -> Iterator[Article]:
        for i, story in enumerate(_stories(400)):
            read.append(i)
            yield from_record(story, f"story {i}")

    results = Tagger.load("none").suggest_many(articles(), batch_size=16)
    first = next(results)
    assert first["title"] == "Talks in Paris on day 0"
    assert len(read) < 200  # not the whole input before the first result
    assert len(list(results)) == 399
    assert pipe_calls == [1]


def test_a_stream_gives_the_same_suggestions_as_a_list(pipe_calls: list[int]) -> None:
    from newstag.tagging.tagger import Tagger

    tagger = Tagger.load("none")
    stories = [from_record(s, f"story {i}") for i, s in enumerate(_stories(70))]
    assert list(tagger.suggest_many(iter(stories))) == list(tagger.suggest_many(stories))


def test_cli_streams_jsonl_with_two_processes_as_with_one() -> None:
    lines = "".join(json.dumps(s) + "\n" for s in _stories(80))
    args = ("suggest", "--jsonl", "-", "--model", "none", "--format", "json")
    two, one = run_cli(*args, "-j", "2", input=lines), run_cli(*args, "-j", "1", input=lines)
    assert two.returncode == one.returncode == 0, two.stderr + one.stderr
    assert two.stdout == one.stdout
    assert len(two.stdout.splitlines()) == 80
