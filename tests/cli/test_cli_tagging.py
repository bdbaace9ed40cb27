"""`newstag suggest` / `newstag entities` run as real subprocesses."""

from __future__ import annotations

import csv
import io
import json

from newstag import __version__
from tests.conftest import SAMPLE

KIM = str(SAMPLE / "kim-putin-summit.txt")


def test_version_and_help(cli):
    assert cli("--version").stdout.strip() == f"newstag {__version__}"
    for args in (["--help"], ["suggest", "--help"], ["entities", "--help"]):
        result = cli(*args)
        assert result.returncode == 0 and "Usage" in result.stdout


def test_suggest_json_contract(cli):
    result = cli("suggest", KIM, "--model", "none", "--format", "json", "--top-k", "4")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert [t["tag"] for t in payload["tags"]][:2] == ["Kim Jong Un", "Vladimir Putin"]
    assert len(payload["tags"]) == 4 and payload["entities"]


def test_suggest_table_csv_and_min_score(cli):
    table = cli("suggest", KIM, "--model", "none", "-k", "3")
    assert table.returncode == 0 and "Kim Jong Un" in table.stdout and "SCORE" in table.stdout
    out = cli("suggest", KIM, "--model", "none", "--format", "csv", "--min-score", "0.7")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert rows and all(float(r["score"]) >= 0.7 for r in rows)


def test_suggest_stdin_and_jsonl(cli):
    text = (SAMPLE / "central-bank.txt").read_text()
    result = cli("suggest", "-", "--model", "none", "--format", "json", input=text)
    assert result.returncode == 0 and "Jerome Powell" in result.stdout
    lines = "\n".join(
        [
            json.dumps(
                {
                    "id": "a",
                    "title": "Putin visits Beijing",
                    "body": "Russian President Vladimir Putin met Chinese "
                    "leader Xi Jinping in Beijing on Thursday.",
                }
            ),
            "{broken",
            json.dumps({"id": "b", "title": "Quiet day", "body": ""}),
        ]
    )
    result = cli("suggest", "--jsonl", "--model", "none", "--format", "json", input=lines)
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in outputs] == ["a", "b"]
    assert result.returncode == 1 and "<stdin>: line 2, column 2: malformed JSON" in result.stderr


def test_batch_of_files_reports_bad_ones_and_keeps_good(cli, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("  ")
    binary = tmp_path / "x.txt"
    binary.write_bytes(b"\x00\x01\x02\xff" * 100)
    result = cli(
        "suggest",
        KIM,
        str(empty),
        str(tmp_path / "missing.txt"),
        str(binary),
        str(tmp_path),
        "--model",
        "none",
        "--format",
        "json",
    )
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 1  # the good file is still tagged
    assert "4 of 5 inputs failed, 1 processed" in result.stderr
    assert len(result.stderr.splitlines()) == 5  # each failure once, then the count
    for expected in ("empty or whitespace-only", "no such file", "binary", "is a directory"):
        assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_size_cap_is_configurable(cli):
    result = cli("suggest", KIM, "--model", "none", "--max-bytes", "100")
    assert result.returncode == 1 and "100-byte cap" in result.stderr
    assert "Traceback" not in result.stderr


def test_show_cleaning_reports_dropped_lines(cli):
    result = cli("suggest", KIM, "--model", "none", "--show-cleaning", "--format", "json")
    payload = json.loads(result.stdout)
    dropped = [d["text"] for d in payload["cleaning"]["dropped"]]
    assert "Gila Isaacson | 18:57" in dropped
    assert "dropped" in result.stderr


def test_entities_formats(cli):
    table = cli("entities", KIM)
    assert table.returncode == 0 and "Vladivostok" in table.stdout
    payload = json.loads(cli("entities", KIM, "--format", "json").stdout)
    kim = next(e for e in payload["entities"] if e["name"] == "Kim Jong Un")
    assert kim["type"] == "person" and kim["count"] >= 3 and kim["mentions"][0]["start"] == 0
    rows = list(csv.DictReader(io.StringIO(cli("entities", KIM, "--format", "csv").stdout)))
    assert {"Kim Jong Un", "Vladimir Putin"} <= {r["name"] for r in rows}


def test_unknown_pipeline_is_a_clear_error(cli):
    result = cli("suggest", KIM, "--model", "none", "--pipeline", "no_such_pipeline")
    assert result.returncode == 1
    assert "no_such_pipeline" in result.stderr and "Traceback" not in result.stderr


def test_entities_html_page(cli, tmp_path):
    out = tmp_path / "page.html"
    result = cli(
        "entities", KIM, str(SAMPLE / "wildfire.json"), "--html", str(out), "--model", "none"
    )
    assert result.returncode == 0, result.stderr
    page = out.read_text()
    assert page.count("<html") == 1  # one valid page for several articles
    assert "Vladivostok" in page and "Kyriakos Mitsotakis" in page
