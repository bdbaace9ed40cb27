"""Where newstag finds its shipped model: the checkout, or the copy a wheel installs."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from newstag import paths
from tests.conftest import ROOT, SAMPLE, run_cli

SHIPPED = ROOT / "models" / "default"


def test_the_checkout_model_comes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSTAG_DEFAULT_MODEL", raising=False)
    assert paths.default_model_dir() == SHIPPED


def test_a_wheel_install_finds_the_model_under_its_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSTAG_DEFAULT_MODEL", raising=False)
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path / "site-packages")  # no checkout
    installed = tmp_path / "prefix" / paths.WHEEL_MODEL_DIR
    installed.mkdir(parents=True)
    (installed / "manifest.json").write_text("{}")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    assert paths.default_model_dir() == installed


def test_a_missing_shipped_model_is_an_error_not_entity_mode(tmp_path: Path) -> None:
    proc = run_cli(
        "suggest",
        str(SAMPLE / "kim-putin-summit.txt"),
        env={"NEWSTAG_DEFAULT_MODEL": str(tmp_path / "gone")},
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "gone" in lines[0] and "--model none" in lines[0], proc.stderr


def _build_isolation_flag() -> list[str]:
    """Build with this environment's setuptools when it is new enough (no index needed)."""
    try:
        import setuptools

        major = int(setuptools.__version__.split(".")[0])
    except ImportError:
        return []
    return ["--no-build-isolation"] if major >= 77 else []


@pytest.mark.slow
def test_the_wheel_carries_every_file_of_the_shipped_model(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            ".",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
            *_build_isolation_flag(),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=600,
    )
    wheel = next(tmp_path.glob("newstag-*.whl"))
    data = f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.data/data/"
    prefix = data + paths.WHEEL_MODEL_DIR.as_posix() + "/"
    in_wheel = {n[len(prefix) :] for n in zipfile.ZipFile(wheel).namelist() if n.startswith(prefix)}
    shipped = {p.relative_to(SHIPPED).as_posix() for p in SHIPPED.rglob("*") if p.is_file()}
    assert "manifest.json" in shipped and shipped == in_wheel, shipped ^ in_wheel
