"""No load path unpickles or needs PyTorch: suggest, related (``--semantic`` too), batch and
serve run where unpickling raises and torch cannot be imported.

A ``sitecustomize.py`` on ``PYTHONPATH`` replaces ``pickle.load``, ``pickle.loads``,
``joblib.load`` and ``numpy.load(..., allow_pickle=True)`` with traps that log the caller
and raise. Only the standard library's process plumbing (``multiprocessing`` and
``concurrent.futures``, which pass tasks between newstag's own processes) keeps the real
functions. It also makes ``torch``, ``transformers`` and ``sentence_transformers`` unimportable
(as in an install without them), even where they are installed. Also: old pickle bundles and
indexes are refused with a one-line message and converted by ``newstag model convert`` /
``newstag index convert``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from newstag.related import semantic_available
from newstag.service.testing import call_json
from tests.conftest import ROOT, SAMPLE, run_cli

# with MiniLM's weights installed, the related indexes are semantic ones (and queried so)
SEMANTIC = ["--semantic"] if semantic_available() else []

TRAP = '''
import multiprocessing.reduction  # the process plumbing keeps the real pickle.loads
import os
import pickle
import sys

import joblib
import numpy

_LOG = os.environ["NEWSTAG_TRAP_LOG"]
_PLUMBING = ("multiprocessing", "concurrent")


def _trap(name, real, armed=lambda args, kwargs: True):
    def trapped(*args, **kwargs):
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller.startswith(_PLUMBING) or not armed(args, kwargs):
            return real(*args, **kwargs)
        with open(_LOG, "a") as fh:
            fh.write(f"{name} called from {caller}\\n")
        raise RuntimeError(f"trap: {name} called from {caller}")
    return trapped


pickle.load = _trap("pickle.load", pickle.load)
pickle.loads = _trap("pickle.loads", pickle.loads)
joblib.load = _trap("joblib.load", joblib.load)
numpy.load = _trap("numpy.load(allow_pickle=True)", numpy.load,
                   lambda args, kwargs: kwargs.get("allow_pickle", False))


class _NoTorch:
    """An import finder that reports the PyTorch stack as not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "transformers", "sentence_transformers"):
            raise ModuleNotFoundError(f"No module named {name!r} (trap)", name=name)
        return None


sys.meta_path.insert(0, _NoTorch())
'''

STORY = {
    "title": "Kim Jong Un Will Meet Putin in Vladivostok",
    "body": "North Korean leader Kim Jong Un will travel to Vladivostok to meet Russian "
    "President Vladimir Putin, the Kremlin said on Tuesday.",
}


@pytest.fixture(scope="module")
def trap_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("trap")
    (folder / "sitecustomize.py").write_text(TRAP, encoding="utf-8")
    src = str(ROOT / "src")
    return {
        "PYTHONPATH": os.pathsep.join([str(folder), src]),
        "NEWSTAG_TRAP_LOG": str(folder / "calls.log"),
    }


def trapped_calls(env: dict[str, str]) -> str:
    log = Path(env["NEWSTAG_TRAP_LOG"])
    return log.read_text() if log.exists() else ""


def test_the_trap_catches_unpickling(trap_env: dict[str, str]) -> None:
    code = "import pickle; pickle.loads(pickle.dumps([1]))"
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **trap_env},
        timeout=120,
    )
    assert r.returncode != 0 and "trap: pickle.loads" in r.stderr
    Path(trap_env["NEWSTAG_TRAP_LOG"]).unlink()


@pytest.mark.parametrize("module", ["torch", "transformers.utils", "sentence_transformers"])
def test_the_trap_hides_pytorch(trap_env: dict[str, str], module: str) -> None:
    r = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        capture_output=True,
        text=True,
        env={**os.environ, **trap_env},
        timeout=120,
    )
    assert r.returncode != 0 and "ModuleNotFoundError" in r.stderr


def test_suggest_related_and_batch_never_unpickle(trap_env: dict[str, str], tmp_path: Path) -> None:
    r = run_cli("suggest", str(SAMPLE / "kim-putin-summit.txt"), "--format", "json", env=trap_env)
    assert r.returncode == 0, r.stderr
    tags = [t["tag"] for t in json.loads(r.stdout)["tags"]]
    assert "Russia" in tags and "Kim Jong Un" in tags

    index = tmp_path / "idx"
    r = run_cli(
        "index",
        "build",
        str(SAMPLE / "headlines.csv"),
        "--out",
        str(index),
        "--no-entities",
        *SEMANTIC,
        env=trap_env,
    )
    assert r.returncode == 0, r.stderr
    assert not (index / "vectorizers.joblib").exists()
    r = run_cli(
        "related",
        "--index",
        str(index),
        "--text",
        "Kim Jong Un meets Putin",
        "--format",
        "json",
        *SEMANTIC,
        env=trap_env,
    )
    assert r.returncode == 0, r.stderr
    results = json.loads(r.stdout)["results"]
    assert results and all(("semantic" in hit["scores"]) == bool(SEMANTIC) for hit in results)

    articles = tmp_path / "in.jsonl"
    articles.write_text("".join(json.dumps({"id": str(i), **STORY}) + "\n" for i in range(3)))
    out = tmp_path / "out.jsonl"
    r = run_cli("batch", str(articles), "--out", str(out), "--no-progress", env=trap_env)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 3 and all(row["tags"] for row in rows)
    assert trapped_calls(trap_env) == ""


def test_serve_never_unpickles(trap_env: dict[str, str], tmp_path: Path) -> None:
    from newstag.service.testing import start_server

    index = tmp_path / "idx"
    r = run_cli(
        "index",
        "build",
        str(SAMPLE / "headlines.csv"),
        "--out",
        str(index),
        "--no-entities",
        *SEMANTIC,
        env=trap_env,
    )
    assert r.returncode == 0, r.stderr
    proc, url = start_server(
        ["--index", str(index), "--workers", "2"], ready="/readyz", env=trap_env, timeout=600
    )
    try:
        status, out = call_json(url, "/v1/suggest", STORY)[:2]
        assert status == 200 and "Vladimir Putin" in [t["tag"] for t in out["tags"]]
        assert any(t.get("source", "").startswith("classifier") for t in out["tags"])
        status, out = call_json(url, "/v1/related", {"text": "Kim Jong Un meets Putin"})[:2]
        assert status == 200 and out["results"]
        assert all(("semantic" in hit["scores"]) == bool(SEMANTIC) for hit in out["results"])
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert trapped_calls(trap_env) == ""


def test_suggest_imports_neither_scikit_learn_nor_scipy() -> None:
    code = (
        "import sys\n"
        "from newstag.tagging.tagger import Tagger\n"
        f"tags = Tagger.load('default').suggest(open({str(SAMPLE / 'kim-putin-summit.txt')!r})"
        ".read())['tags']\n"
        "assert tags and tags[0]['source'] != 'entity' or len(tags) > 1\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy', "
        "'joblib'}))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def _make_pickle_index(index_dir: Path, texts: list[str]) -> None:
    """Turn a saved index into format 3, as older newstag wrote it (vectorizers.joblib)."""
    import joblib
    from sklearn.feature_extraction.text import TfidfVectorizer

    from newstag.related import word_terms

    word = TfidfVectorizer(analyzer=word_terms, sublinear_tf=True, dtype=np.float32).fit(texts)
    char = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, dtype=np.float32
    ).fit(texts)
    joblib.dump({"word": word, "char": char}, index_dir / "vectorizers.joblib")
    manifest = json.loads((index_dir / "manifest.json").read_text())
    for path in index_dir.glob("vocab-*"):
        path.unlink()
    manifest["files"] = [f for f in manifest["files"] if not f.startswith("vocab-")]
    manifest.update(version=3, files=[*manifest["files"], "vectorizers.joblib"])
    (index_dir / "manifest.json").write_text(json.dumps(manifest))


def test_index_convert_command(tmp_path: Path) -> None:
    import csv

    rows = list(csv.DictReader((SAMPLE / "headlines.csv").open(encoding="utf-8")))
    old, new = tmp_path / "old", tmp_path / "new"
    r = run_cli("index", "build", str(SAMPLE / "headlines.csv"), "--out", str(old), "--no-entities")
    assert r.returncode == 0, r.stderr
    query = ["related", "--text", "Kim Jong Un meets Putin", "--format", "json"]
    before = run_cli(*query, "--index", str(old))
    assert before.returncode == 0, before.stderr
    _make_pickle_index(old, [row["headline"] for row in rows])
    r = run_cli(*query, "--index", str(old))
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and f"newstag index convert {old} NEW" in r.stderr
    r = run_cli("index", "convert", str(old), str(new))
    assert r.returncode == 0, r.stderr
    assert not (new / "vectorizers.joblib").exists()
    after = run_cli(*query, "--index", str(new))
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout) == json.loads(before.stdout)
    r = run_cli("index", "convert", str(new), str(tmp_path / "again"))
    assert r.returncode != 0 and "nothing to convert" in r.stderr and "Traceback" not in r.stderr
