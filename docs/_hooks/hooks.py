"""MkDocs hooks: the generated references, made at build time from the code itself.

- ``reference/openapi.json``: the HTTP service's OpenAPI schema, from
  :func:`newstag.service.app.create_app` with a stand-in tagger (nothing loads a model);
  ``reference/http.md`` renders it with the offline ``neoteroi.mkdocsoad`` plugin.
- the command-line reference: Typer's own Markdown for the ``newstag`` app (what
  ``typer newstag.cli utils docs`` prints), put where ``reference/cli.md`` has the marker.
- Sphinx roles such as ``:class:`` in docstrings shown as plain code in the API reference.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent.parent
SCHEMA = DOCS / "reference" / "openapi.json"
CLI_MARKER = "<!-- newstag cli reference -->"
ROLE = re.compile(r":(?:class|mod|func|meth|attr|exc|data|obj):(?=<code>)")


def openapi_schema() -> dict[str, Any]:
    """The service's OpenAPI schema, built without a model."""
    from newstag.service.app import create_app
    from newstag.service.testing import FakeTagger

    return create_app(tagger=FakeTagger()).openapi()


def cli_markdown() -> str:
    """Markdown for every ``newstag`` command and option, headings one level down."""
    import typer.main
    from typer.cli import get_docs_for_click

    from newstag.cli import app

    command = typer.main.get_command(app)
    text = get_docs_for_click(obj=command, ctx=typer.Context(command), name="newstag")
    return re.sub(r"^(#+) ", r"#\1 ", text, flags=re.MULTILINE)


def write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` unless ``path`` holds it already (keeps ``mkdocs serve`` from looping)."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def on_pre_build(config: Any) -> None:
    write_if_changed(SCHEMA, json.dumps(openapi_schema(), indent=2, ensure_ascii=False) + "\n")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_markdown())
    return markdown


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    return ROLE.sub("", html)
