"""Shared test helpers: run the CLI as a subprocess, find sample data, skip without shared data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def run_cli(
    *args: str,
    input: str | bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    """Run ``python -m newstag ARGS`` and capture its output as text."""
    full_env = {**os.environ, **(env or {})}
    data = input.encode() if isinstance(input, str) else input
    proc = subprocess.run(
        [sys.executable, "-m", "newstag", *args],
        input=data,
        capture_output=True,
        env=full_env,
        timeout=timeout,
        cwd=ROOT,
    )
    return subprocess.CompletedProcess(
        proc.args,
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(scope="session")
def extractor():
    from newstag.nlp.entities import EntityExtractor

    return EntityExtractor()


def shared_or_skip(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with the reason."""
    from newstag.paths import shared_data, shared_data_dir

    path = shared_data(*parts)
    if path is None:
        pytest.skip(
            f"shared benchmark data not found at {shared_data_dir().joinpath(*parts)} "
            "(set NEWSTAG_SHARED_DATA)"
        )
    return path
