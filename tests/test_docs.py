"""The documentation site builds with ``mkdocs build --strict`` and its generated references are
complete: every command, every HTTP path and the public Python classes appear.

``--strict`` turns every warning into a failure: a broken link or anchor, a page missing from
the navigation, an API reference to a module that is gone.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCS = ROOT / "docs"


def _nav_pages(text: str) -> set[str]:
    """The ``.md`` files named in mkdocs.yml's navigation."""
    nav = text[text.index("\nnav:") :]
    return set(re.findall(r":\s*([\w./-]+\.md)\s*$", nav, flags=re.MULTILINE))


def test_every_page_is_in_the_navigation() -> None:
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md") if "_hooks" not in p.parts}
    nav = _nav_pages((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert pages == nav, {"not in nav": pages - nav, "missing": nav - pages}


def test_the_root_documents_are_included_whole() -> None:
    for name in ("ARCHITECTURE.md", "BENCHMARKS.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        assert "--8<-- [start:body]" in text and "--8<-- [end:body]" in text, name
        assert text.rstrip().endswith("--8<-- [end:body] -->"), f"{name} ends after its body"


def test_the_configuration_page_names_every_variable_the_code_reads() -> None:
    used = set()
    for path in (ROOT / "src").rglob("*.py"):
        used |= set(re.findall(r"NEWSTAG_[A-Z][A-Z_]*[A-Z]", path.read_text(encoding="utf-8")))
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(NEWSTAG_[A-Z_]+)`", page))
    assert "NEWSTAG_MODEL" in used
    assert used <= documented, sorted(used - documented)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built strictly into a scratch folder with this checkout's code."""
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("needs the docs tools (pip install -e '.[docs]')")
    out = tmp_path_factory.mktemp("site")
    env = {
        **os.environ,
        "NO_MKDOCS_2_WARNING": "1",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
        ),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out


def _page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text(encoding="utf-8")


def test_the_cli_reference_has_every_command_and_option(site: Path) -> None:
    import typer.main

    from newstag.cli import app

    page = _page(site, "reference/cli")
    root = typer.main.get_command(app)
    for name, command in root.commands.items():
        assert f"newstag {name}" in page, name
        for sub in getattr(command, "commands", {}):
            assert f"newstag {name} {sub}" in page, (name, sub)
    assert "--top-k" in page and "NEWSTAG_MODEL" in page


def test_the_http_reference_has_every_path(site: Path) -> None:
    import json

    schema = json.loads((site / "reference" / "openapi.json").read_text(encoding="utf-8"))
    page = re.sub(r"<[^>]+>", "", _page(site, "reference/http"))  # the text, without tags
    assert "/v1/suggest" in schema["paths"]
    for path in schema["paths"]:
        assert path in page, path


def test_the_python_reference_documents_the_public_api(site: Path) -> None:
    page = _page(site, "reference/python")
    for name in (
        "newstag.load",
        "Tagger",
        "suggest_frame",
        "RelatedIndex",
        "run_batch",
        "read_records",
        "TagModel",
    ):
        assert name in page, name
    assert ":class:" not in page  # Sphinx roles are shown as code


def test_the_site_loads_nothing_from_the_network(site: Path) -> None:
    remote = re.compile(r"""(?:\ssrc=|<link[^>]*\shref=)["']https?://""")
    offenders = [
        p.relative_to(site).as_posix()
        for p in site.rglob("*.html")
        if remote.search(p.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders
