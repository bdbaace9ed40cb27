"""Training configs: ``newstag train --config FILE`` (flags override it), recorded in the
bundle; the committed config reproduces the shipped model's settings."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from newstag.paths import REPO_ROOT
from newstag.tagging.config import ConfigError, read_config
from newstag.tagging.tagmodel import TagModel

SAMPLE = REPO_ROOT / "data" / "sample" / "corpus.jsonl"
SHIPPED_CONFIG = REPO_ROOT / "configs" / "default-model.toml"


def run(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWSTAG_CACHE_DIR": str(cache), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "newstag", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=REPO_ROOT,
    )


@pytest.mark.slow
def test_train_reads_the_config_and_flags_override_it(tmp_path: Path) -> None:
    config = tmp_path / "small.toml"
    config.write_text(
        "[model]\nmin_tag_count = 2\nknn_k = 5\nmax_clf_labels = 7\n"
        "folds = 4\nchar_ngrams = false\ntag_thresholds = false\n"
    )
    out = tmp_path / "m"
    proc = run(
        "train",
        str(SAMPLE),
        "--out",
        str(out),
        "--config",
        str(config),
        "--folds",
        "3",
        "--archive",
        "general",
        cache=tmp_path / "cache",
    )
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    hp = manifest["hyper_parameters"]
    assert (hp["min_tag_count"], hp["knn_k"], hp["max_clf_labels"]) == (2, 5, 7)
    assert hp["folds"] == 3 and hp["tag_thresholds"] is False  # --folds wins over the file
    assert hp["C"] == TagModel().C  # left out of the file: the default
    assert hp["archive"] == "general"  # a flag the file does not name
    record = manifest["training_config"]
    assert record["file"] == "small.toml" and record["overrides"] == ["archive", "folds"]
    assert record["model"]["knn_k"] == 5 and "knn_k = 5" in record["text"]
    assert manifest["n_classifier_labels"] <= 7


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[model]\nknn = 5\n", "unknown model parameter 'knn'"),
        ("[model]\nfolds = 'two'\n", "folds = 'two' is not a valid value"),
        ("[model]\nchar_ngrams = [3]\n", "char_ngrams = [3] is not a valid value"),
        ("[model]\ntag_thresholds = 1\n", "tag_thresholds = 1 is not a valid value"),
        ("[model]\narchive = 'mine'\n", "archive = 'mine' is not a valid value"),
        ("[training]\nfolds = 2\n", "unknown table or key 'training'"),
        ("[model\n", "not valid TOML"),
    ],
)
def test_bad_configs_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        read_config(path)


def test_a_bad_config_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[model]\nknn = 5\n")
    proc = run(
        "train",
        str(SAMPLE),
        "--out",
        str(tmp_path / "m"),
        "--config",
        str(path),
        cache=tmp_path / "cache",
    )
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "bad.toml: unknown model parameter 'knn'" in proc.stderr
    proc = run(
        "train",
        str(SAMPLE),
        "--out",
        str(tmp_path / "m"),
        "--config",
        str(tmp_path / "missing.toml"),
        cache=tmp_path / "cache",
    )
    assert proc.returncode != 0 and "missing.toml: cannot read" in proc.stderr


def test_the_committed_config_is_the_shipped_models() -> None:
    params = read_config(SHIPPED_CONFIG)
    assert set(params) == set(TagModel().get_params())  # every parameter, spelled out
    manifest = json.loads((REPO_ROOT / "models" / "default" / "manifest.json").read_text())
    for key, value in manifest["hyper_parameters"].items():
        assert params[key] == (tuple(value) if isinstance(value, list) else value), key
    makefile = (REPO_ROOT / "Makefile").read_text()
    recipe = makefile.split("\ndefault-model:")[1].split("\n\n")[0]
    assert "--config configs/default-model.toml" in recipe


def test_train_help_states_the_models_defaults() -> None:
    """The flags default to unset (config, then TagModel); their help quotes TagModel's."""
    import inspect

    from newstag.cli.model import train

    option_of = {
        "min_tag_count": "min_tag_count",
        "min_clf_count": "min_clf_count",
        "c": "C",
        "max_clf_labels": "max_clf_labels",
        "folds": "folds",
        "jobs": "n_jobs",
        "max_features": "max_word_features",
    }
    defaults = TagModel().get_params()
    for arg, param in inspect.signature(train).parameters.items():
        if arg in option_of:
            info = param.default
            assert info.default is None, arg
            assert f"[default: {defaults[option_of[arg]]}]" in info.help, arg
