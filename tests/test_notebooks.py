"""The notebooks run top to bottom on the sample data and their plots are real PNG images."""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="needs nbformat (dev extra)")
nbclient = pytest.importorskip("nbclient", reason="needs nbclient (dev extra)")
pytest.importorskip("ipykernel", reason="needs ipykernel (dev extra)")

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A kernelspec that runs this interpreter (the venv), whatever else is installed."""
    home = tmp_path_factory.mktemp("jupyter")
    spec = home / "kernels" / "newstag-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "newstag test",
                "language": "python",
            }
        )
    )
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(home) + (os.pathsep + old if old else "")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    yield "newstag-test"
    if old is None:
        os.environ.pop("JUPYTER_PATH", None)
    else:
        os.environ["JUPYTER_PATH"] = old


def execute(name: str, kernel: str, tmp_path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.get("outputs"), f"{name} is committed with outputs"
    env = {"NEWSTAG_CACHE_DIR": str(tmp_path / "cache"), "NEWSTAG_NO_PROGRESS": "1"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        client = nbclient.NotebookClient(
            nb, kernel_name=kernel, timeout=600, resources={"metadata": {"path": str(NOTEBOOKS)}}
        )
        client.execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


def images(nb: nbformat.NotebookNode) -> list[bytes]:
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/png" in data:
                found.append(base64.b64decode(data["image/png"]))
    return found


def errors(nb: nbformat.NotebookNode) -> list[str]:
    return [
        f"{o.get('ename')}: {o.get('evalue')}"
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]


@pytest.mark.parametrize(
    ("name", "min_images"), [("quickstart.ipynb", 3), ("train-your-own.ipynb", 2)]
)
def test_notebook_runs_and_draws(
    name: str, min_images: int, kernel_name: str, tmp_path: Path
) -> None:
    if not (ROOT / "data" / "sample" / "corpus.jsonl").exists():
        pytest.skip("data/sample/corpus.jsonl is missing")
    size = (NOTEBOOKS / name).stat().st_size
    assert size < 100_000, f"{name} is {size:,} bytes: clear its outputs before committing"
    nb = execute(name, kernel_name, tmp_path)
    assert not errors(nb)
    pngs = images(nb)
    assert len(pngs) >= min_images
    for png in pngs:
        assert png.startswith(PNG) and len(png) > 2000  # a real picture, not a stub
