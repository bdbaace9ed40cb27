"""House rules carried by a model bundle: ``train --rules``, ``model set-rules``, loading
applies them unless ``--rules FILE`` / ``none``; date-split held-out folds."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from newstag.paths import REPO_ROOT
from newstag.service.testing import call_json, start_server
from newstag.tagging.config import ConfigError, config_rules, read_config
from newstag.tagging.folds import date_folds, date_key

SAMPLE = REPO_ROOT / "data" / "sample" / "corpus.jsonl"
STORY = {
    "title": "Maria Lopez wins support for budget plan in Madrid",
    "body": "Maria Lopez secured the backing of the parliament in Madrid on Tuesday. "
    "Lopez said the budget would cut taxes for families across Spain.",
}


def run(
    *args: str, cache: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "NEWSTAG_CACHE_DIR": str(cache), "OMP_NUM_THREADS": "1", **(env or {})}
    full.pop("NEWSTAG_RULES", None)
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "newstag", *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=600,
        cwd=REPO_ROOT,
    )


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle trained on the sample corpus with rules that deny Spain (in ``work/m``)."""
    work = tmp_path_factory.mktemp("bundle-rules")
    (work / "deny-spain.toml").write_text(
        'deny = ["Spain"]\n[spellings]\n"Maria Lopez" = "Lopez, Maria"\n'
    )
    (work / "deny-politics.toml").write_text('deny = ["Politics"]\n')
    (work / "story.json").write_text(json.dumps(STORY))
    proc = run(
        "train",
        str(SAMPLE),
        "--out",
        str(work / "m"),
        "--folds",
        "2",
        "--rules",
        str(work / "deny-spain.toml"),
        cache=work / "cache",
    )
    assert proc.returncode == 0, proc.stderr
    return work


def tags(work: Path, model: Path, *args: str, env: dict[str, str] | None = None) -> list[str]:
    proc = run(
        "suggest",
        str(work / "story.json"),
        "--model",
        str(model),
        "--format",
        "json",
        *args,
        cache=work / "cache",
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return [t["tag"] for t in json.loads(proc.stdout)["tags"]]


@pytest.mark.slow
def test_train_copies_the_rules_into_the_bundle(work: Path) -> None:
    manifest = json.loads((work / "m" / "manifest.json").read_text())
    record = manifest["rules"]
    assert record["file"] == "rules/rules.toml" and record["source"] == "deny-spain.toml"
    assert record["summary"]["deny"] == ["spain"] and record["summary"]["spellings"] == 1
    assert manifest["artifacts"]["rules/rules.toml"]["sha256"] == record["sha256"]
    assert (work / "m" / "rules" / "rules.toml").read_text() == (
        work / "deny-spain.toml"
    ).read_text()
    info = run("model", "info", str(work / "m"), cache=work / "cache")
    assert info.returncode == 0 and "rules/rules.toml from deny-spain.toml" in info.stdout
    assert "deny ['spain']" in info.stdout


@pytest.mark.slow
def test_the_bundles_rules_apply_unless_replaced_or_turned_off(work: Path) -> None:
    ruled = tags(work, work / "m")
    assert "Spain" not in ruled and "Lopez, Maria" in ruled and "Maria Lopez" not in ruled
    free = tags(work, work / "m", "--rules", "none")
    assert "Spain" in free and "Maria Lopez" in free
    other = tags(work, work / "m", "--rules", str(work / "deny-politics.toml"))
    assert "Spain" in other and "Politics" not in other and "Politics" in free
    by_env = tags(work, work / "m", env={"NEWSTAG_RULES": "none"})
    assert by_env == free


@pytest.mark.slow
def test_set_rules_attaches_and_removes_rules_without_retraining(work: Path) -> None:
    copy = work / "copy"
    shutil.copytree(work / "m", copy)
    clf = (copy / "classifier").iterdir().__next__().read_bytes()
    proc = run("model", "set-rules", str(copy), "none", cache=work / "cache")
    assert proc.returncode == 0 and "no house rules" in proc.stdout, proc.stderr
    manifest = json.loads((copy / "manifest.json").read_text())
    assert "rules" not in manifest and not (copy / "rules").exists()
    assert not any(name.startswith("rules/") for name in manifest["artifacts"])
    assert "Spain" in tags(work, copy)
    proc = run(
        "model", "set-rules", str(copy), str(work / "deny-politics.toml"), cache=work / "cache"
    )
    assert proc.returncode == 0, proc.stderr
    now = tags(work, copy)
    assert "Politics" not in now and "Spain" in now
    assert (copy / "classifier").iterdir().__next__().read_bytes() == clf
    bad = work / "bad.toml"
    bad.write_text("deny = 5\n")
    proc = run("model", "set-rules", str(copy), str(bad), cache=work / "cache")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].endswith("deny must be a list of strings")
    assert (
        json.loads((copy / "manifest.json").read_text())["rules"]["source"] == "deny-politics.toml"
    )  # a bad file leaves the bundle as it was


@pytest.mark.slow
def test_a_tampered_rules_file_is_a_one_line_checksum_error(work: Path) -> None:
    copy = work / "tampered"
    shutil.copytree(work / "m", copy)
    (copy / "rules" / "rules.toml").write_text("deny = []\n")
    proc = run("suggest", str(work / "story.json"), "--model", str(copy), cache=work / "cache")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "rules/rules.toml does not match its sha256" in lines[0]


@pytest.mark.slow
def test_the_service_applies_the_bundles_rules_over_http(work: Path) -> None:
    proc, url = start_server(
        ["--model", str(work / "m"), "--feedback-db", str(work / "fb.sqlite3")],
        ready="/readyz",
        env={"NEWSTAG_CACHE_DIR": str(work / "cache")},
    )
    try:
        status, out = call_json(url, "/v1/suggest", STORY, timeout=60)[:2]
        assert status == 200, out
        names = [t["tag"] for t in out["tags"]]
        assert "Spain" not in names and "Lopez, Maria" in names
        status, out = call_json(url, "/v1/model", None, timeout=60)[:2]
        assert status == 200 and out["house_rules"] is True
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0


@pytest.mark.slow
def test_training_config_names_the_rules_and_the_fold_split(work: Path) -> None:
    config = work / "cfg" / "train.toml"
    config.parent.mkdir()
    config.write_text('rules = "../deny-spain.toml"\n[model]\nfolds = 3\nfold_split = "date"\n')
    assert config_rules(config) == config.parent / "../deny-spain.toml"
    out = work / "from-config"
    proc = run(
        "train", str(SAMPLE), "--out", str(out), "--config", str(config), cache=work / "cache"
    )
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["rules"]["source"] == "deny-spain.toml"
    assert manifest["hyper_parameters"]["fold_split"] == "date"
    proc = run(
        "train",
        str(SAMPLE),
        "--out",
        str(work / "no-rules"),
        "--config",
        str(config),
        "--rules",
        "none",
        "--fold-split",
        "random",
        cache=work / "cache",
    )
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((work / "no-rules" / "manifest.json").read_text())
    assert "rules" not in manifest and manifest["hyper_parameters"]["fold_split"] == "random"


def test_a_bad_rules_file_fails_training_before_the_work(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("deny_levels = ['planet']\n")
    proc = run(
        "train",
        str(SAMPLE),
        "--out",
        str(tmp_path / "m"),
        "--rules",
        str(bad),
        cache=tmp_path / "cache",
    )
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "bad.toml: deny_levels: unknown 'planet'" in proc.stderr
    assert "entities" not in proc.stderr and not (tmp_path / "m").exists()


def test_fold_split_is_checked_in_configs(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[model]\nfold_split = "weekly"\n')
    with pytest.raises(ConfigError, match="fold_split = 'weekly' is not a valid value"):
        read_config(path)
    path.write_text('rules = 3\n[model]\nfold_split = "date"\n')
    assert read_config(path) == {"fold_split": "date"}
    with pytest.raises(ConfigError, match="rules must be the path"):
        config_rules(path)


def test_date_folds_hold_out_contiguous_periods() -> None:
    dates = [f"2020-01-{d:02d}" for d in (9, 3, 7, 1, 5, 2, 8, 4, 6)] + [None, "not a date"]
    folds = date_folds(dates, 3)
    assert len(folds) == 3
    held = [set(te.tolist()) for _, te in folds]
    assert set().union(*held) == set(range(len(dates)))  # every article held out once
    assert sum(len(h) for h in held) == len(dates)
    for f, (tr, te) in enumerate(folds):
        assert not set(tr.tolist()) & set(te.tolist())
        days = sorted(int(dates[i][-2:]) for i in te if date_key(dates[i]))
        assert days == list(range(3 * f + 1, 3 * f + 4))  # one block of three days each
    assert {9, 10} <= set().union(*held)  # the undated two are spread too


def test_date_folds_without_enough_dates_are_random_but_complete() -> None:
    folds = date_folds([None, "2020-01-01", None, None, None], 3, random_state=1)
    held = sorted(i for _, te in folds for i in te.tolist())
    assert held == [0, 1, 2, 3, 4] and all(len(te) for _, te in folds)


def test_date_keys_read_iso_and_reuters_dates() -> None:
    assert date_key("2013-05-01T10:00:00Z") < date_key("2013-05-02")  # type: ignore[operator]
    assert date_key("26-FEB-1987 15:01:01.79") is not None
    assert date_key("") is None and date_key("soon") is None


def test_random_folds_are_unchanged_by_dates() -> None:
    from sklearn.model_selection import KFold

    from newstag.tagging.tagmodel import TagModel

    dates = ["2020-01-01"] * 10
    mine = list(TagModel()._folds(10, 3, dates))
    theirs = list(KFold(n_splits=3, shuffle=True, random_state=0).split(np.arange(10)))
    assert all(
        (a == c).all() and (b == d).all() for (a, b), (c, d) in zip(mine, theirs, strict=True)
    )
    with pytest.raises(ValueError, match="fold_split must be"):
        TagModel(fold_split="weekly")._folds(10, 3)


@pytest.mark.slow
def test_batch_applies_the_bundles_rules_unless_none(work: Path) -> None:
    stories = work / "stories.jsonl"
    stories.write_text(json.dumps({"id": "a", **STORY}) + "\n")
    found = {}
    for name, extra in (("ruled", []), ("free", ["--rules", "none"])):
        out = work / f"{name}.jsonl"
        proc = run(
            "batch",
            str(stories),
            "--out",
            str(out),
            "--model",
            str(work / "m"),
            "--no-progress",
            *extra,
            cache=work / "cache",
        )
        assert proc.returncode == 0, proc.stderr
        found[name] = [t["tag"] for t in json.loads(out.read_text().splitlines()[0])["tags"]]
    assert "Spain" not in found["ruled"] and "Spain" in found["free"]
