"""House rules (:mod:`newstag.tagging.house_rules`): parsing, applying, and through CLI, batch
and service."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newstag.tagging.house_rules import Rules, RulesError, load_rules, parse_rules
from tests.conftest import ROOT, SAMPLE, run_cli

EXAMPLE = ROOT / "rules" / "general-news.toml"
SUMMIT = str(SAMPLE / "kim-putin-summit.txt")


def tag(name: str, kind: str = "place", score: float = 0.5, **extra: object) -> dict:
    return {"tag": name, "type": kind, "score": score, "source": "entity", "evidence": [], **extra}


RANKED = [
    tag("Kim Jong-un", "person", 0.9),
    tag("Russia", score=0.8),
    tag("Asia", level="continent", score=0.7),
    tag("Korean Peninsula", level="region"),
    tag("Middle East", level="region", score=0.45),
    tag("Pacific coast", score=0.4, new=True),
    tag("Kremlin", "organisation", 0.35, new=True),
    tag("Kim Jong Un", "person", 0.3),
    tag("Diplomacy", "topic", 0.3),
    tag("Sanctions", "topic", 0.2),
]


def names(tags: list[dict]) -> list[str]:
    return [t["tag"] for t in tags]


def test_no_rules_change_nothing():
    assert Rules().apply(RANKED) == RANKED


def test_spellings_map_to_the_house_form_and_merge():
    rules = parse_rules({"spellings": {"kim jong-un": "Kim Jong Un"}})
    out = rules.apply(RANKED)
    assert names(out).count("Kim Jong Un") == 1 and names(out)[0] == "Kim Jong Un"
    assert out[0]["model_tag"] == "Kim Jong-un" and out[0]["score"] == 0.9


def test_deny_vocabulary_types_levels_new_and_caps():
    assert "Russia" not in names(parse_rules({"deny": ["russia"]}).apply(RANKED))
    assert names(parse_rules({"vocabulary": ["Russia", "Asia"]}).apply(RANKED)) == [
        "Russia",
        "Asia",
    ]
    assert "Asia" not in names(parse_rules({"deny_levels": ["continent"]}).apply(RANKED))
    assert not {"Diplomacy", "Sanctions"} & set(
        names(parse_rules({"deny_types": ["topic"]}).apply(RANKED))
    )
    no_new = names(parse_rules({"new_tags": False}).apply(RANKED))
    assert "Pacific coast" not in no_new and "Kremlin" not in no_new
    places_only = names(parse_rules({"new_tag_types": ["person", "place"]}).apply(RANKED))
    assert "Pacific coast" in places_only and "Kremlin" not in places_only
    capped = names(
        parse_rules({"max_per_level": {"region": 1}, "max_per_type": {"topic": 1}}).apply(RANKED)
    )
    assert "Korean Peninsula" in capped and "Middle East" not in capped
    assert "Diplomacy" in capped and "Sanctions" not in capped


def test_vocabulary_file_is_read_relative_to_the_rules(tmp_path: Path):
    (tmp_path / "vocab.txt").write_text("# house vocabulary\nRussia\nKremlin\n")
    rules_file = tmp_path / "house.toml"
    rules_file.write_text('vocabulary_file = "vocab.txt"\n')
    assert names(load_rules(rules_file).apply(RANKED)) == ["Russia", "Kremlin"]


@pytest.mark.parametrize(
    "text,message",
    [
        ("colour = 1\n", "unknown setting 'colour'"),
        ("deny = 'Asia'\n", "deny must be a list"),
        ("deny_levels = ['planet']\n", "unknown 'planet'"),
        ("new_tags = 'yes'\n", "new_tags must be true or false"),
        ("[max_per_type]\nperson = -1\n", "person must be a whole number"),
        ("[max_per_type]\nanimal = 2\n", "unknown 'animal'"),
        ("deny = [\n", "not valid TOML"),
        ('vocabulary_file = "missing.txt"\n', "vocabulary_file missing.txt"),
    ],
)
def test_bad_rules_name_the_file_and_the_problem(tmp_path: Path, text: str, message: str):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(RulesError) as err:
        load_rules(path)
    assert str(path) in str(err.value) and message in str(err.value)
    with pytest.raises(RulesError, match="no such rules file"):
        load_rules(tmp_path / "nope.toml")


def test_the_example_rules_load():
    rules = load_rules(EXAMPLE)
    assert "continent" in rules.deny_levels and rules.new_tags
    assert set(rules.new_tag_types) == {"person", "place"}


@pytest.mark.slow
def test_cli_suggest_with_the_example_rules(tmp_path: Path):
    plain = run_cli("suggest", SUMMIT, "--format", "json", "-k", "20")
    ruled = run_cli("suggest", SUMMIT, "--format", "json", "-k", "20", "--rules", str(EXAMPLE))
    assert plain.returncode == 0 and ruled.returncode == 0, ruled.stderr
    before = json.loads(plain.stdout)["tags"]
    after = json.loads(ruled.stdout)["tags"]
    assert {"Asia", "Europe"} & {t["tag"] for t in before}  # the model does suggest them
    assert all(t.get("level") != "continent" for t in after)
    assert all(not t.get("new") or t["type"] in ("person", "place") for t in after)
    assert {t["tag"] for t in after[:4]} == {
        "Vladimir Putin",
        "North Korea",
        "Kim Jong Un",
        "Russia",
    }
    bad = tmp_path / "bad.toml"
    bad.write_text("deny = 3\n")
    r = run_cli("suggest", SUMMIT, "--rules", str(bad))
    assert r.returncode == 1 and "deny must be a list" in r.stderr
    assert "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0


@pytest.mark.slow
def test_batch_with_rules_and_a_bad_rules_file(tmp_path: Path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps(
            {
                "id": "a",
                "title": "Putin meets Kim in Vladivostok",
                "body": "Vladimir Putin met Kim Jong Un in Russia.",
            }
        )
        + "\n"
    )
    rules = tmp_path / "house.toml"
    rules.write_text('deny = ["Russia"]\n')
    out = tmp_path / "out.jsonl"
    r = run_cli(
        "batch",
        str(src),
        "--out",
        str(out),
        "--model",
        "none",
        "--rules",
        str(rules),
        "--no-progress",
    )
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    tags = [t["tag"] for t in rows[0]["tags"]]
    assert "Vladimir Putin" in tags and "Russia" not in tags
    rules.write_text("deny = [\n")
    r = run_cli(
        "batch",
        str(src),
        "--out",
        str(tmp_path / "o2.jsonl"),
        "--model",
        "none",
        "--rules",
        str(rules),
        "--no-progress",
    )
    assert r.returncode == 1 and "not valid TOML" in r.stderr and "Traceback" not in r.stderr
    r = run_cli(
        "batch",
        str(src),
        "--out",
        str(tmp_path / "o3.parquet"),
        "--rules",
        str(EXAMPLE),
        "--dask",
        "tcp://127.0.0.1:9",
    )
    assert r.returncode == 1 and "not supported with --dask" in r.stderr


def test_service_settings_take_rules_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from newstag.service.settings import Settings, SettingsError

    good = tmp_path / "house.toml"
    good.write_text('deny = ["Russia"]\n')
    monkeypatch.setenv("NEWSTAG_RULES", str(good))
    settings = Settings.from_env()
    assert settings.rules == str(good) and settings.to_env()["NEWSTAG_RULES"] == str(good)
    with pytest.raises(SettingsError, match="no such rules file"):
        Settings(rules=str(tmp_path / "nope.toml"))


@pytest.mark.slow
def test_serve_applies_rules_over_http(tmp_path: Path):
    import signal

    from newstag.service.testing import start_server
    from tests.service.test_service_real import STORY, call

    rules = tmp_path / "house.toml"
    rules.write_text('deny = ["Russia"]\n[spellings]\n"Vladimir Putin" = "Putin, Vladimir"\n')
    proc, url = start_server(
        ["--model", "none", "--feedback-db", str(tmp_path / "fb.db"), "--rules", str(rules)],
        ready="/readyz",
    )
    try:
        status, out = call(url, "/v1/suggest", STORY)
        assert status == 200
        got = [t["tag"] for t in out["tags"]]
        assert "Putin, Vladimir" in got and "Russia" not in got and "Vladimir Putin" not in got
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    bad = tmp_path / "bad.toml"
    bad.write_text("colour = 1\n")
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "newstag", "serve", "--model", "none", "--rules", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and "unknown setting 'colour'" in r.stderr
    assert "Traceback" not in r.stderr
