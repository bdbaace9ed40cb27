"""Batch tagging streams through one pipe: one pool of NER worker processes, input read a few
batches ahead, the same suggestions as tagging a list (and as one process)."""

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
    """The ``n_process`` of each top-level pipe: an ``nlp.pipe`` call in this process, or a
    pool of NER worker processes (:func:`newstag.nlp.span_pool.pipe_spans`, which then runs)."""
    from spacy.language import Language

    from newstag.nlp import span_pool

    calls: list[int] = []
    original_pipe, original_pool = Language.pipe, span_pool.pipe_spans

    def pipe(
        self: Language, texts: Any, *, as_tuples: bool = False, n_process: int = 1, **kwargs: Any
    ) -> Any:
        if as_tuples:  # newstag's call (spaCy calls itself again without tuples)
            calls.append(n_process)
        return original_pipe(self, texts, as_tuples=as_tuples, n_process=1, **kwargs)

    def pool(nlp: Any, items: Any, batch_size: int, n_process: int) -> Any:
        calls.append(n_process)
        return original_pool(nlp, items, batch_size, n_process)

    monkeypatch.setattr(Language, "pipe", pipe)
    monkeypatch.setattr(span_pool, "pipe_spans", pool)
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


def test_worker_processes_find_the_same_entities_as_one_process() -> None:
    from newstag.nlp.chunks import MergedDoc, parse_many
    from newstag.nlp.entities import EntityExtractor
    from newstag.nlp.span_pool import can_fork

    if not can_fork():
        pytest.skip("worker processes are forked only where fork is available")
    nlp = EntityExtractor().nlp
    stories = _stories(150)
    texts = [f"{s['title']}\n\n{s['body']}" for s in stories]
    texts[7] = " ".join([texts[7]] * 400)  # a long text, parsed in pieces
    one = [
        [(e.label_, e.start_char, e.end_char) for e in doc.ents]
        for doc in parse_many(nlp, texts, batch_size=16)
    ]
    docs = list(parse_many(nlp, iter(texts), batch_size=16, n_process=2))
    assert all(isinstance(doc, MergedDoc) for doc in docs)  # spans only, no Doc rebuilt
    assert [[(e.label_, e.start_char, e.end_char) for e in doc.ents] for doc in docs] == one
    assert sum(len(ents) for ents in one) > 300


def test_a_pool_stops_cleanly_when_the_reader_stops_early() -> None:
    from newstag.nlp.entities import EntityExtractor
    from newstag.nlp.span_pool import can_fork, pipe_spans

    if not can_fork():
        pytest.skip("worker processes are forked only where fork is available")
    nlp = EntityExtractor().nlp
    read: list[int] = []

    def items() -> Iterator[tuple[str, int]]:
        for i, story in enumerate(_stories(2000)):
            read.append(i)
            yield story["body"], i

    spans = pipe_spans(nlp, items(), batch_size=8, n_process=2)
    first = [next(spans) for _ in range(3)]
    assert [context for _, context in first] == [0, 1, 2]
    assert ("PERSON", 0, len("Angela Merkel")) in first[0][0]
    assert len(read) <= 8 * 2 * 2 + 8  # a few batches ahead, not the whole input
    spans.close()  # shuts the pool down


def _die(texts: list[str]) -> Any:
    import os

    os._exit(3)  # a worker killed mid-batch (out of memory)


def test_cli_reports_a_dead_worker_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from newstag.cli import app
    from newstag.nlp import span_pool

    if not span_pool.can_fork():
        pytest.skip("worker processes are forked only where fork is available")
    monkeypatch.setattr(span_pool, "_parse_batch", _die)
    lines = "".join(json.dumps(s) + "\n" for s in _stories(20))
    result = CliRunner().invoke(
        app,
        ["suggest", "--jsonl", "-", "--model", "none", "--format", "json", "-j", "2"],
        input=lines,
    )
    assert result.exit_code == 1
    assert "error: an NER worker process died (out of memory?) after 0 articles" in result.output
    assert "Traceback" not in result.output
