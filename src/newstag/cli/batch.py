"""``newstag batch``: tag a file of articles into Parquet or JSON lines, resumably."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from newstag.cli.common import MODEL_OPTION, PIPELINE_OPTION, fail, warn
from newstag.errors import NewstagError


def batch(
    input: Annotated[
        Path,
        typer.Argument(
            help="Articles: .jsonl, .csv, .tsv (also .gz) or .parquet; fields title/headline, "
            "body/text, html, id, date."
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Output .parquet or .jsonl (a folder of Parquet with --dask)."
        ),
    ],
    model: Optional[str] = MODEL_OPTION,  # noqa: UP045 (typer needs Optional on 3.10)
    pipeline: Optional[str] = PIPELINE_OPTION,  # noqa: UP045
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, help="Tags per article.")] = 10,
    min_score: Annotated[
        float, typer.Option("--min-score", help="Drop tags scoring below this.")
    ] = 0.0,
    chunk_size: Annotated[
        int,
        typer.Option(
            "--chunk-size", min=1, help="Articles per committed chunk (the most a kill loses)."
        ),
    ] = 500,
    n_process: Annotated[
        int,
        typer.Option(
            "--n-process", "-j", min=1, help="Worker processes (each loads the model once)."
        ),
    ] = 1,
    rejects: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--rejects", help="Rejects file (default: OUT's name + .rejects.jsonl)."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Start again, replacing OUT or an interrupted run.")
    ] = False,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar.")] = False,
    rules: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--rules",
            envvar="NEWSTAG_RULES",
            help="House rules file (TOML): allow, deny, cap, spell tags.",
        ),
    ] = None,
    dask: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--dask",
            metavar="SCHEDULER_ADDRESS",
            help="Run on a Dask cluster (e.g. tcp://host:8786); OUT is then a Parquet folder.",
        ),
    ] = None,
) -> None:
    """Tag every article of INPUT into OUT; rerun the same command to resume after a kill."""
    from newstag.jobs.batch import BatchError

    model_arg = model or "default"
    if dask and rules is not None:
        raise fail("--rules is not supported with --dask yet; run without --dask")
    try:
        if dask:
            from newstag.jobs.dask import run_batch as run_dask

            summary = run_dask(
                input,
                out,
                dask,
                model=model_arg,
                pipeline=pipeline,
                top_k=top_k,
                min_score=min_score,
                rejects=rejects,
                overwrite=overwrite,
            )
        else:
            from newstag.jobs.batch import run_batch

            summary = run_batch(
                input,
                out,
                model=model_arg,
                pipeline=pipeline,
                rules=rules,
                top_k=top_k,
                min_score=min_score,
                chunk_size=chunk_size,
                n_process=n_process,
                rejects=rejects,
                overwrite=overwrite,
                progress=False if no_progress else None,
            )
    except BatchError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        warn("interrupted; run the same command again to resume")
        raise typer.Exit(130) from None
    except Exception as exc:  # a model or pipeline that cannot load, a full disk, ...
        if isinstance(exc, (NewstagError, OSError)):
            raise fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
        raise
    typer.echo(summary.text(), err=True)
    if summary.rejected and summary.reasons:
        top = sorted(summary.reasons.items(), key=lambda kv: -kv[1])[:5]
        warn(f"{summary.rejected:,} rejected: " + ", ".join(f"{k} ({v})" for k, v in top))


def register(app: typer.Typer) -> None:
    app.command("batch")(batch)
