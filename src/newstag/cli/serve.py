"""``newstag serve`` (the CMS HTTP service) and ``newstag feedback export``."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from newstag.cli.common import PIPELINE_OPTION, fail

feedback_app = typer.Typer(help="Editors' feedback collected by the service.", no_args_is_help=True)


def serve(
    model: str = typer.Option(
        "default",
        "--model",
        "-m",
        envvar="NEWSTAG_MODEL",
        help="Model bundle directory; 'default' for the shipped model, 'none' for entities only.",
    ),
    index: str = typer.Option(
        None,
        "--index",
        envvar="NEWSTAG_INDEX",
        help="Related-headlines index directory (enables /v1/related).",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", "-p", min=0, max=65535, help="Port to listen on."),
    workers: int = typer.Option(
        1, "--workers", "-w", min=1, max=64, help="Worker processes (each loads the model once)."
    ),
    feedback_db: str = typer.Option(
        None,
        "--feedback-db",
        envvar="NEWSTAG_FEEDBACK_DB",
        help="SQLite file or postgresql:// URL for feedback "
        "[default: newstag-feedback.sqlite3 in the working directory].",
    ),
    api_keys_file: Path = typer.Option(
        None,
        "--api-keys-file",
        envvar="NEWSTAG_API_KEYS_FILE",
        help="File of accepted API keys (one per line); NEWSTAG_API_KEYS takes a comma list.",
    ),
    cors_origin: list[str] = typer.Option(
        None, "--cors-origin", help="Allowed CORS origin (repeat; or NEWSTAG_CORS_ORIGINS)."
    ),
    max_body_bytes: int = typer.Option(
        1_000_000,
        "--max-body-bytes",
        envvar="NEWSTAG_MAX_BODY_BYTES",
        min=1,
        help="Largest request body; bigger ones get 413.",
    ),
    timeout: float = typer.Option(
        30.0,
        "--timeout",
        envvar="NEWSTAG_TIMEOUT",
        min=0.001,
        help="Per-request time limit in seconds (504 above it).",
    ),
    allow_non_english: bool = typer.Option(
        False,
        "--allow-non-english",
        envvar="NEWSTAG_ALLOW_NON_ENGLISH",
        help="Answer non-English articles (with a warning) instead of 422.",
    ),
    threads: int = typer.Option(
        1,
        "--model-threads",
        envvar="NEWSTAG_MODEL_THREADS",
        min=1,
        max=16,
        help="Threads running model work in each worker.",
    ),
    model_processes: int = typer.Option(
        0,
        "--model-processes",
        "-j",
        envvar="NEWSTAG_MODEL_PROCESSES",
        min=0,
        max=64,
        help="Model processes per worker (0: model in the worker). On one machine, "
        "'--workers 1 -j CORES' spreads concurrent requests evenly over the cores.",
    ),
    batch_requests: int = typer.Option(
        1,
        "--batch-requests",
        envvar="NEWSTAG_BATCH_REQUESTS",
        min=1,
        max=64,
        help="Answer up to N concurrent /v1/suggest requests in one model batch (faster "
        "per article with a trained model; its scores may shift slightly with the batch).",
    ),
    pipeline: str = PIPELINE_OPTION,
    rules: Optional[str] = typer.Option(  # noqa: UP045 (typer needs Optional on 3.10)
        None,
        "--rules",
        envvar="NEWSTAG_RULES",
        help="House rules file (TOML) for every suggestion.",
    ),
    log_level: str = typer.Option(
        "info", "--log-level", help="uvicorn log level (debug, info, warning, error)."
    ),
) -> None:
    """Run the HTTP service CMSs call when an editor saves a story (FastAPI under uvicorn).

    Endpoints: POST /v1/suggest, /v1/suggest/batch, /v1/entities, /v1/related, /v1/feedback;
    GET /healthz, /readyz, /metrics; API docs at /docs and /openapi.json.
    """
    from newstag.service.settings import Settings

    if log_level not in ("critical", "error", "warning", "info", "debug", "trace"):
        raise fail(f"unknown log level {log_level!r}")
    keys, origins = _keys_and_origins(api_keys_file, cors_origin)
    settings = Settings(  # a SettingsError is printed as one line by the CLI's entry point
        model="none" if model.lower() == "none" else model,
        pipeline=pipeline,
        index=index,
        feedback_db=feedback_db,
        api_keys=frozenset(keys),
        cors_origins=origins,
        max_body_bytes=max_body_bytes,
        timeout=timeout,
        allow_non_english=allow_non_english,
        threads=threads,
        model_processes=model_processes,
        batch_requests=batch_requests,
        rules=rules,
    )
    _check_inputs(settings, host, port)
    procs = f", {model_processes} model processes each" if model_processes else ""
    typer.echo(
        f"newstag: serving on http://{host}:{port} ({workers} worker(s){procs}); "
        f"feedback -> {_feedback_target(feedback_db)}; "
        f"API keys {'on' if keys else 'off'}",
        err=True,
    )
    _run(settings, host, port, workers, log_level)


def _keys_and_origins(
    keys_file: Path | None, origins: list[str] | None
) -> tuple[set[str], list[str]]:
    """API keys (``NEWSTAG_API_KEYS`` plus ``--api-keys-file``) and CORS origins (the
    options, else ``NEWSTAG_CORS_ORIGINS``)."""
    from newstag import settings as env_settings
    from newstag.service.settings import parse_keys, read_keys_file, split_origins

    env = env_settings.current()
    keys = parse_keys(env.api_keys)
    if keys_file is not None:
        keys |= read_keys_file(keys_file)
    return keys, list(origins or []) or split_origins(env.cors_origins)


def _feedback_target(feedback_db: str | None) -> str:
    """Where feedback goes, with any password hidden."""
    from newstag.service.feedback import default_target, redact

    return redact(feedback_db or default_target())


def _check_inputs(settings: Any, host: str, port: int) -> None:
    """Fail with one line on a missing model or index, a busy port or a bad feedback store."""
    from newstag.service.feedback import FeedbackError, open_store

    if settings.model not in ("default", "none") and not Path(settings.model).exists():
        raise fail(f"{settings.model}: no such model directory")
    if settings.index and not Path(settings.index).is_dir():
        raise fail(f"{settings.index}: no such index directory")
    _check_port(host, port)
    try:  # open (and create) the feedback store now, so a bad path fails here
        open_store(settings.feedback_db).close()
    except FeedbackError as exc:
        raise fail(f"feedback store: {exc}") from None


def _run(settings: Any, host: str, port: int, workers: int, log_level: str) -> None:
    """Serve with uvicorn: one worker here, or ``workers`` processes reading the settings
    from the environment."""
    import uvicorn

    if workers == 1:
        from newstag.service.app import create_app

        if settings.model_processes:  # the pool loads the model before serving
            app = create_app(settings=settings, background_load=False)
        else:
            tagger, idx = _load(settings)
            app = create_app(tagger=tagger, index=idx, settings=settings)
        uvicorn.run(app, host=host, port=port, log_level=log_level)
    else:
        os.environ.update(settings.to_env())  # each worker builds its app from these
        uvicorn.run(
            "newstag.service.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
        )


def _check_port(host: str, port: int) -> None:
    """Fail with one line when the address cannot be bound (in use, bad host)."""
    if port == 0:
        return
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None


def _load(settings: Any) -> tuple[Any, Any]:
    """Load the tagger and index in this process, failing with one line on errors."""
    from newstag.service.worker import load

    typer.echo("newstag: loading the model ...", err=True)
    try:
        return load(settings.model, settings.pipeline, settings.index, settings.rules)
    except Exception as exc:  # ModelError, PipelineError, RelatedError, OSError ...
        raise fail(f"cannot load the model or index: {exc}") from None


@feedback_app.command("export")
def feedback_export(
    db: str = typer.Argument(..., help="Feedback SQLite file or postgresql:// URL."),
    out: str = typer.Option("-", "--out", "-o", help="Output JSON-lines corpus ('-' = stdout)."),
) -> None:
    """Turn editors' feedback into a training corpus (JSON lines) for ``newstag train``.

    One record per article (its latest feedback): tags = accepted + added. Articles whose
    feedback carried no text, or that ended with no tags, are skipped and listed.
    """
    from newstag.service.feedback import FeedbackError, is_url, open_store, redact

    if not is_url(db) and not Path(db).is_file():
        raise fail(f"{db}: no such feedback database")
    try:
        with open_store(db) as store:
            total = store.count()
            records, skipped = _export(store, out)
    except FeedbackError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"{out}: cannot write ({exc.strerror or exc})") from None
    for aid, reason in skipped[:20]:
        typer.echo(f"skipped article {aid}: {reason}", err=True)
    if len(skipped) > 20:
        typer.echo(f"... and {len(skipped) - 20} more skipped", err=True)
    typer.echo(
        f"wrote {records:,} training records from {total:,} feedback records in "
        f"{redact(db)} to {'stdout' if out == '-' else out}"
        f"{f'; skipped {len(skipped):,} articles' if skipped else ''}",
        err=True,
    )
    if records == 0:
        raise typer.Exit(1)


def _export(store: object, out: str) -> tuple[int, list[tuple[str, str]]]:
    from newstag.service.feedback import export_corpus

    if out == "-":
        return export_corpus(store, sys.stdout)
    target = Path(out)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            result = export_corpus(store, fh)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return result


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(feedback_app, name="feedback")
