"""The ``newstag`` command line: parse arguments, call the library, format the output.

Each area registers its commands from its own module; heavy libraries are imported
inside the commands so ``newstag --help`` stays fast. A :class:`~newstag.errors.NewstagError`
any command lets through is printed as one ``error: <message>`` line (exit 1); the library's
log lines go to stderr (:func:`newstag.cli.common.setup_logging`).
"""

from __future__ import annotations

import sys

import typer

from newstag import __version__
from newstag.cli.common import setup_logging
from newstag.errors import NewstagError

app = typer.Typer(
    name="newstag",
    help="Read news articles and tell an editor what they are about.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: importing rich would cost more than the 0.3 s budget
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"newstag {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Read news articles and tell an editor what they are about."""
    setup_logging()


def _register() -> None:
    import importlib

    for name in ("tagging", "model", "related", "serve", "batch"):
        try:
            module = importlib.import_module(f"newstag.cli.{name}")
        except ModuleNotFoundError as exc:  # an area not built yet
            if exc.name != f"newstag.cli.{name}":
                raise
            continue
        module.register(app)


_register()


def main() -> None:
    """The ``newstag`` command: run it; a :class:`NewstagError` becomes one line on stderr."""
    try:
        app()
    except NewstagError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
