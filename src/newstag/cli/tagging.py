"""``newstag suggest`` and ``newstag entities``."""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterator
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from newstag.cli.common import (
    FORMAT_OPTION,
    MODEL_OPTION,
    PIPELINE_OPTION,
    Format,
    csv_text,
    fail,
    table_text,
    warn,
    write_json,
)

if TYPE_CHECKING:  # pragma: no cover
    from newstag.io.article import Article
    from newstag.tagging.tagger import Tagger

FILES_ARG = typer.Argument(..., help="Article files (.txt, .html, .json) or - for stdin.")
JSONL_OPTION = typer.Option(
    False,
    "--jsonl",
    help="Inputs are JSON lines ({title, body} per line): the files "
    "given, or stdin when none (or -).",
)
MAX_BYTES_OPTION = typer.Option(
    None,
    "--max-bytes",
    envvar="NEWSTAG_MAX_BYTES",
    help="Largest input file accepted, in bytes (default 2 MB).",
)
CLEANING_OPTION = typer.Option(
    False, "--show-cleaning", help="Report the page furniture removed from each article."
)
N_PROCESS_OPTION = typer.Option(
    1, "--n-process", "-j", min=1, help="Processes for spaCy in batch use."
)
RULES_OPTION = typer.Option(
    None,
    "--rules",
    envvar="NEWSTAG_RULES",
    help="House rules file (TOML): allow, deny, cap, spell tags.",
)
DATE_OPTION = typer.Option(
    None,
    "--date",
    help="Date of the articles that carry none (ISO 8601, e.g. 2023-08-12; default: today). "
    "Models trained with the period source score tags against it.",
)


class _Inputs:
    """Read articles from files or JSON lines, reporting each failure once as it happens.

    With ``jsonl`` every input (a file, or ``-`` for stdin; stdin when none is given) holds
    JSON lines; an input without a single article is a failure too, not a silent no-op.
    """

    def __init__(self, files: list[str], jsonl: bool, max_bytes: int | None) -> None:
        self.files = files or (["-"] if jsonl else [])
        self.jsonl, self.max_bytes = jsonl, max_bytes
        self.failed = 0
        self.inputs = 0

    def __iter__(self) -> Iterator[Article]:
        from newstag.io.article import DEFAULT_MAX_BYTES, ArticleError, read_article

        for path in self.files:
            if self.jsonl:
                yield from self._jsonl(path)
                continue
            self.inputs += 1
            try:
                yield read_article(path, self.max_bytes or DEFAULT_MAX_BYTES)
            except ArticleError as exc:
                self._failed(str(exc))

    def _jsonl(self, path: str) -> Iterator[Article]:
        from newstag.io.article import ArticleError, to_article
        from newstag.io.records import RecordError, read_records, source_name

        found = 0
        try:
            for rec in read_records(path, "jsonl"):
                self.inputs += 1
                found += 1
                try:
                    yield to_article(rec)
                except ArticleError as exc:
                    self._failed(str(exc))
        except RecordError as exc:
            self.inputs += 1
            self._failed(str(exc))
            return
        if not found:
            self.inputs += 1
            self._failed(f"{source_name(path)}: no JSON lines (empty input)")

    def _failed(self, message: str) -> None:
        typer.echo(f"error: {message}", err=True)
        self.failed += 1

    def finish(self, done: int) -> None:
        """Exit 1 when any input failed; with several inputs, say how many."""
        if self.failed:
            if self.inputs > 1:
                typer.echo(
                    f"error: {self.failed} of {self.inputs} inputs failed, {done} processed",
                    err=True,
                )
            raise typer.Exit(1)


def _load_tagger(model: str | None, pipeline: str | None, rules: Path | None = None) -> Tagger:
    from newstag.nlp.pipeline import PipelineError
    from newstag.tagging import ModelError
    from newstag.tagging.house_rules import RulesError
    from newstag.tagging.tagger import Tagger

    try:
        tagger = Tagger.load(model, pipeline=pipeline, rules=rules)
        tagger.extractor.nlp  # noqa: B018 - load spaCy now so errors surface here
    except (ModelError, PipelineError, RulesError) as exc:
        raise fail(str(exc)) from None
    return tagger


def _evidence_text(tag: dict[str, Any]) -> str:
    from newstag.display import evidence_text

    return evidence_text(tag, max_chars=60)  # the table's column width: whole items only


def _announce(article: Article, show_cleaning: bool) -> None:
    for message in article.warnings:
        warn(message)
    if show_cleaning:
        typer.echo(f"# {article.source}: dropped {len(article.dropped)} line(s)", err=True)
        for dropped in article.dropped:
            typer.echo(
                f"#   line {dropped.line} [{dropped.reason}]: {dropped.text[:100]}", err=True
            )


SMALL_INPUT = 8
"""Inputs of at most this many articles are tagged in this process: starting spaCy worker
processes would cost more than they save."""


def _worker_count(inputs: _Inputs, n_process: int) -> tuple[Iterator[Article], int]:
    """The articles (the first few read ahead) and the spaCy processes to tag them with."""
    articles = iter(inputs)
    head = list(islice(articles, SMALL_INPUT + 1))
    return chain(head, articles), n_process if len(head) > SMALL_INPUT else 1


def suggest(
    files: list[str] = typer.Argument(None, help="Article files (.txt, .html, .json) or -."),
    top_k: int = typer.Option(10, "--top-k", "-k", min=1, help="Most suggestions per article."),
    min_score: float = typer.Option(
        0.0, "--min-score", min=0.0, max=1.0, help="Drop suggestions scoring below this."
    ),
    fmt: Format = FORMAT_OPTION,
    model: str | None = MODEL_OPTION,
    pipeline: str | None = PIPELINE_OPTION,
    jsonl: bool = JSONL_OPTION,
    show_cleaning: bool = CLEANING_OPTION,
    max_bytes: int | None = MAX_BYTES_OPTION,
    n_process: int = N_PROCESS_OPTION,
    rules: Optional[Path] = RULES_OPTION,  # noqa: UP045 (typer needs Optional on 3.10)
    date: Optional[str] = DATE_OPTION,  # noqa: UP045
) -> None:
    """Suggest ranked tags for news articles, with the evidence for each."""
    if not files and not jsonl:
        raise fail("give one or more article files, - for stdin, or --jsonl")
    _check_date(date)
    inputs = _Inputs(files or [], jsonl, max_bytes)
    tagger = _load_tagger(model, pipeline, rules)
    done = 0
    # One streaming suggest_many call: one pool of spaCy workers for the whole input, a few
    # batches read ahead, each result written as soon as it is ready.
    articles, processes = _worker_count(inputs, n_process)
    shown: deque[Article] = deque()
    results = tagger.suggest_many(
        _remember(_dated(articles, date), shown),
        top_k=top_k,
        min_score=min_score,
        n_process=processes,
    )
    from concurrent.futures.process import BrokenProcessPool

    try:
        for result in results:
            article = shown.popleft()
            _announce(article, show_cleaning)
            result["source"] = article.source
            if show_cleaning:
                result["cleaning"] = article.cleaning_report()
            _print_suggestions(result, fmt, header=done == 0)
            done += 1
    except BrokenProcessPool:
        raise fail(
            f"an NER worker process died (out of memory?) after {done} articles; "
            "try fewer processes (-j)"
        ) from None
    inputs.finish(done)


def _check_date(date: str | None) -> None:
    """A ``--date`` that cannot be read fails before any work."""
    from newstag.tagging.folds import date_key

    if date is not None and date_key(date) is None:
        raise fail(f"--date {date!r}: not a date (use ISO 8601, e.g. 2023-08-12)")


def _dated(articles: Iterator[Article], date: str | None) -> Iterator[Article]:
    """The articles, those without a date of their own dated ``date`` (when given)."""
    for article in articles:
        if date and not article.date:
            article.date = date
        yield article


def _remember(articles: Iterator[Article], seen: deque[Article]) -> Iterator[Article]:
    """Pass ``articles`` on, appending each to ``seen`` (to pair it with its result)."""
    for article in articles:
        seen.append(article)
        yield article


def _print_suggestions(result: dict[str, Any], fmt: Format, header: bool) -> None:
    if fmt is Format.json:
        write_json(result)
        return
    rows = [
        {**t, "evidence": _evidence_text(t), "article": result["source"]} for t in result["tags"]
    ]
    if fmt is Format.csv:
        columns = ["article", "tag", "type", "score", "source", "evidence"]
        sys.stdout.write(csv_text(rows, columns, header=header))
        return
    typer.echo(f"== {result['source']}: {result['title']}")
    if not rows:
        typer.echo("(no suggestions)")
        return
    typer.echo(table_text(rows, ["tag", "type", "score", "source", "evidence"]))


def entities(
    files: list[str] = typer.Argument(None, help="Article files (.txt, .html, .json) or -."),
    fmt: Format = FORMAT_OPTION,
    pipeline: str | None = PIPELINE_OPTION,
    jsonl: bool = JSONL_OPTION,
    show_cleaning: bool = CLEANING_OPTION,
    max_bytes: int | None = MAX_BYTES_OPTION,
    html: Path | None = typer.Option(
        None,
        "--html",
        help="Write the article with its entities highlighted and its suggested tags.",
    ),
    model: str | None = typer.Option(
        None, "--model", "-m", envvar="NEWSTAG_MODEL", help="Model for the tags listed by --html."
    ),
) -> None:
    """List the people, places, organisations and nationalities an article mentions."""
    if not files and not jsonl:
        raise fail("give one or more article files, - for stdin, or --jsonl")
    inputs = _Inputs(files or [], jsonl, max_bytes)
    tagger = _load_tagger(model if html is not None else "none", pipeline)
    done = 0
    pages: list[tuple[Article, list[Any], list[dict[str, Any]]]] = []
    for article in inputs:
        _announce(article, show_cleaning)
        found = tagger.extractor.extract(article)
        rows = [{**e.to_dict(), "article": article.source} for e in found]
        if fmt is Format.json:
            write_json(
                {
                    "source": article.source,
                    "title": article.title,
                    "entities": [e.to_dict() for e in found],
                }
            )
        elif fmt is Format.csv:
            columns = [
                "article",
                "name",
                "type",
                "label",
                "count",
                "salience",
                "in_headline",
                "in_lead",
                "country",
                "aliases",
            ]
            sys.stdout.write(csv_text(rows, columns, header=done == 0))
        else:
            typer.echo(f"== {article.source}: {article.title}")
            typer.echo(
                table_text(rows, ["name", "type", "count", "salience", "country", "aliases"])
            )
        if html is not None:
            pages.append((article, found, tagger.suggest(article)["tags"]))
        done += 1
    if html is not None and pages:
        from newstag.display import render_pages

        html.write_text(render_pages(pages), encoding="utf-8")
        typer.echo(f"wrote {html}", err=True)
    inputs.finish(done)


def register(app: typer.Typer) -> None:
    app.command("suggest")(suggest)
    app.command("entities")(entities)
