"""The ``newstag`` command line: parse arguments, call the library, format the output.

Each area registers its commands from its own module; heavy libraries are imported
inside the commands so ``newstag --help`` stays fast.
"""

from __future__ import annotations

import typer

from newstag import __version__

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
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Read news articles and tell an editor what they are about."""


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
    app()
