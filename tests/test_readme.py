"""Every ``newstag`` command in README.md's ``sh`` and ``console`` blocks runs as written.

The commands run in README order (later ones use what earlier ones wrote, such as
``headlines.idx``) through bash, with ``newstag`` replaced by ``python -m newstag`` of this
interpreter, in a scratch folder that links the checkout's ``data/`` and ``examples/``, so
their outputs do not land in the checkout. A command whose line ends in a comment
``# (needs ...)`` or ``# (runs until stopped)`` is skipped with that reason.
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
FENCE = re.compile(r"^```(\w*)\s*$")
MARKER = re.compile(r"#\s*\((needs [^)]*|runs until stopped)\)\s*$")
NEWSTAG = re.compile(r"(^|\|\s*)newstag\b")


@dataclass(frozen=True)
class Command:
    line: int  # README line where it starts
    text: str  # as written, continuation lines joined
    skip: str | None  # the marker's reason, when it has one


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


def readme_commands() -> list[Command]:
    """The ``newstag`` commands of README.md's sh and console blocks, in order."""
    found = []
    for lang, start, body in _blocks(README.read_text(encoding="utf-8").splitlines()):
        if lang not in ("sh", "console"):
            continue
        for line, text in _commands_of(lang, start, body):
            if not NEWSTAG.search(text):
                continue
            marker = MARKER.search(text)
            found.append(Command(line, text, marker.group(1) if marker else None))
    return found


COMMANDS = readme_commands()


def test_the_readme_commands_are_found() -> None:
    texts = [c.text for c in COMMANDS]
    assert len(texts) >= 20
    assert "newstag suggest data/sample/kim-putin-summit.txt" in texts[0]
    assert any(t.startswith("cat data/sample/articles.jsonl | newstag") for t in texts)
    assert any("index add data/sample/more.jsonl" in t for t in texts)
    assert any(c.skip and c.skip.startswith("needs ../shared/data") for c in COMMANDS)
    joined = next(t for t in texts if "data/sample/wildfire.json --format json" in t)
    assert "\\" not in joined  # continuation lines are joined


def test_every_data_file_the_readme_names_exists() -> None:
    text = README.read_text(encoding="utf-8")
    named = set(re.findall(r"data/sample/[\w.-]+\.\w+", text))
    assert named and all((ROOT / n).exists() for n in named), \
        [n for n in named if not (ROOT / n).exists()]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working folder that sees the checkout's data/ and examples/."""
    where = tmp_path_factory.mktemp("readme")
    for name in ("data", "examples"):
        (where / name).symlink_to(ROOT / name, target_is_directory=True)
    return where


def _skip_reason(command: Command) -> str | None:
    if command.skip == "needs the semantic extra":
        if importlib.util.find_spec("sentence_transformers") is None:
            return "needs the [semantic] extra (sentence-transformers)"
        return None
    return command.skip


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS, ids=[f"README:{c.line}" for c in COMMANDS])
def test_readme_command_runs(command: Command, scratch: Path) -> None:
    reason = _skip_reason(command)
    if reason:
        pytest.skip(f"README line {command.line}: {reason}")
    python = shlex.quote(sys.executable)
    script = NEWSTAG.sub(lambda m: f"{m.group(1)}{python} -m newstag", command.text)
    env = {**os.environ, "NEWSTAG_CACHE_DIR": str(scratch / "cache"), "NEWSTAG_NO_PROGRESS": "1"}
    proc = subprocess.run(["bash", "-c", f"set -o pipefail; {script}"], cwd=scratch, env=env,
                          capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, (f"README line {command.line}: {command.text}\n"
                                  f"exit {proc.returncode}\n{proc.stderr[-2000:]}")
    assert "Traceback" not in proc.stderr


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
    dry = subprocess.run(["make", "-n", "demo", f"VENV={tmp_path / 'venv'}"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert f". {tmp_path / 'venv'}/bin/activate" in dry.stdout
