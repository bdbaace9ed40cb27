"""Batch jobs with a small stand-in tagger: formats, rejects, resume after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from newstag.jobs.batch import (
    BatchError,
    count_records,
    default_rejects_path,
    iter_records,
    read_output,
    run_batch,
)

TESTS = Path(__file__).resolve().parent


class FakeTagger:
    """Deterministic tags from the words of the headline; fails on titles with 'BOOM'."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.pid = os.getpid()

    def suggest(self, article: Any, top_k: int = 10, min_score: float = 0.0) -> dict[str, Any]:
        if self.delay:
            time.sleep(self.delay)
        if "BOOM" in article.title:
            raise RuntimeError("tagger exploded")
        words = sorted({w.lower() for w in article.title.split() if len(w) > 3})
        tags = [
            {
                "tag": w,
                "type": "topic",
                "score": round(1.0 / (i + 1), 4),
                "source": "classifier",
                "evidence": [{"kind": "term", "text": w, "weight": 1.0}],
            }
            for i, w in enumerate(words)
        ]
        tags = [t for t in tags if t["score"] >= min_score][:top_k]
        return {
            "tags": tags,
            "entities": [],
            "title": article.title,
            "warnings": list(article.warnings),
        }

    def suggest_many(
        self, articles: Any, top_k: int = 10, min_score: float = 0.0, n_process: int = 1
    ) -> Any:
        for a in articles:
            yield self.suggest(a, top_k=top_k, min_score=min_score)


def make_records(n: int) -> list[dict[str, Any]]:
    records = []
    for i in range(n):
        records.append(
            {
                "id": f"a{i}",
                "title": f"Story number {i} about harbour {i % 7} news",
                "body": f"The body of story {i}. It has a sentence or two here.",
            }
        )
    return records


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_jsonl_to_jsonl_keeps_ids_rows_and_rejects_bad_lines(tmp_path: Path) -> None:
    recs = make_records(12)
    lines = [json.dumps(r) for r in recs]
    lines.insert(3, "{not json")  # line 4
    lines.insert(6, json.dumps({"id": "empty", "title": "", "body": ""}))  # line 7
    lines.insert(9, json.dumps({"title": "No id here, a headline", "body": "Body text."}))  # 10
    lines.insert(10, json.dumps({"id": "x", "title": "BOOM goes the tagger", "body": "b"}))  # 11
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    summary = run_batch(src, out, tagger=FakeTagger(), chunk_size=4, progress=False)
    assert summary.total == 16 and summary.tagged == 13 and summary.rejected == 3
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["row"] for r in rows] == [1, 2, 3, 5, 6, 8, 9, 10, 12, 13, 14, 15, 16]
    assert rows[0]["id"] == "a0"
    no_id = next(r for r in rows if r["row"] == 10)
    assert no_id["id"] == "10"  # row number stands in
    expected = FakeTagger().suggest(_article(recs[0]))
    assert {k: rows[0][k] for k in expected} == expected  # same JSON as suggest
    rejects = [json.loads(x) for x in default_rejects_path(out).read_text().splitlines()]
    assert [r["row"] for r in rejects] == [4, 7, 11]
    assert "malformed JSON" in rejects[0]["reason"]
    assert "empty" in rejects[1]["reason"] and rejects[1]["id"] == "empty"
    assert "tagger exploded" in rejects[2]["reason"]
    assert not out.with_name(out.name + ".parts").exists()


def _article(record: dict[str, Any]) -> Any:
    from newstag.io.article import from_record

    return from_record(record)


def test_csv_and_parquet_inputs_give_the_same_parquet_output(tmp_path: Path) -> None:
    import pandas as pd

    recs = make_records(9)
    df = pd.DataFrame(recs)
    df.loc[4, "title"] = None
    df.loc[4, "body"] = None  # a blank data row
    df.to_csv(tmp_path / "in.csv", index=False)
    df.to_parquet(tmp_path / "in.parquet", index=False)
    outs = []
    for name in ("in.csv", "in.parquet"):
        out = tmp_path / f"{name}.out.parquet"
        s = run_batch(tmp_path / name, out, tagger=FakeTagger(), chunk_size=2, progress=False)
        assert (s.tagged, s.rejected) == (8, 1)
        outs.append(read_output(out))
    a, b = outs
    assert list(a.columns) == ["id", "row", "title", "tags", "result"]
    assert a["id"].tolist() == b["id"].tolist() == [r["id"] for i, r in enumerate(recs) if i != 4]
    assert a["row"].tolist() == [1, 2, 3, 4, 6, 7, 8, 9]
    assert a["result"].tolist() == b["result"].tolist()
    assert list(a["tags"].iloc[0]) == [t["tag"] for t in a["result"].iloc[0]["tags"]]


def test_bad_jobs_fail_with_one_line_messages(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", make_records(3))
    with pytest.raises(BatchError, match="no such file"):
        run_batch(tmp_path / "missing.jsonl", tmp_path / "o.jsonl", tagger=FakeTagger())
    with pytest.raises(BatchError, match="unknown output format"):
        run_batch(src, tmp_path / "o.xlsx", tagger=FakeTagger())
    with pytest.raises(BatchError, match="unknown input format"):
        run_batch(write_jsonl(tmp_path / "in.xml", []), tmp_path / "o.jsonl", tagger=FakeTagger())
    out = tmp_path / "o.jsonl"
    run_batch(src, out, tagger=FakeTagger(), progress=False)
    with pytest.raises(BatchError, match="already exists"):
        run_batch(src, out, tagger=FakeTagger(), progress=False)
    assert run_batch(src, out, tagger=FakeTagger(), progress=False, overwrite=True).tagged == 3


def test_resume_refuses_a_changed_job(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", make_records(12))
    out = tmp_path / "o.jsonl"
    with pytest.raises(KeyboardInterrupt):  # stopped before any chunk was committed
        run_batch(src, out, tagger=Interrupt(2), chunk_size=4, top_k=5, progress=False)
    with pytest.raises(KeyboardInterrupt):  # other options: fine, nothing was done yet
        run_batch(src, out, tagger=Interrupt(6), chunk_size=4, progress=False)
    with pytest.raises(BatchError, match="different top_k"):
        run_batch(src, out, tagger=FakeTagger(), top_k=3, progress=False)
    write_jsonl(src, make_records(13))
    with pytest.raises(BatchError, match="different size"):
        run_batch(src, out, tagger=FakeTagger(), progress=False)
    summary = run_batch(src, out, tagger=FakeTagger(), overwrite=True, progress=False)
    assert summary.resumed_from == 0 and summary.tagged == 13


def test_multiprocessing_path_equals_single_process(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", make_records(40))
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    run_batch(src, one, tagger=FakeTagger(), chunk_size=7, progress=False)
    run_batch(src, two, tagger_factory=FakeTagger, n_process=2, chunk_size=7, progress=False)
    assert one.read_text() == two.read_text()


def test_cli_batch_reports_bad_input_without_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "newstag",
            "batch",
            str(tmp_path / "nope.jsonl"),
            "--out",
            str(tmp_path / "o.parquet"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "no such file" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


_RUNNER = """
import sys
sys.path.insert(0, {tests!r})
from test_batch import FakeTagger
from newstag.jobs.batch import run_batch
s = run_batch({src!r}, {out!r}, tagger=FakeTagger(delay={delay}), chunk_size=5, progress=False)
print(s.total, s.tagged, s.rejected, s.resumed_from)
"""


def test_kill_and_resume_neither_skips_nor_duplicates(tmp_path: Path) -> None:
    ext = "jsonl"  # (Parquet is killed in test_batch_cli.py, interrupted in-process below)
    recs = make_records(60)
    recs[17] = {"id": "bad", "title": "", "body": ""}
    src = write_jsonl(tmp_path / "in.jsonl", recs)
    full, resumed = tmp_path / f"full.{ext}", tmp_path / f"resumed.{ext}"

    def script(out: Path, delay: float) -> list[str]:
        code = _RUNNER.format(tests=str(TESTS), src=str(src), out=str(out), delay=delay)
        return [sys.executable, "-c", code]

    run_batch(src, full, tagger=FakeTagger(), chunk_size=5, progress=False)
    proc = subprocess.Popen(script(resumed, 0.01), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    parts = resumed.with_name(resumed.name + ".parts")
    deadline = time.time() + 60
    while time.time() < deadline and len(list(parts.glob("*.done.json"))) < 4:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    committed = len(list(parts.glob("*.done.json")))
    assert 4 <= committed < 12, "the run should be killed mid-way"
    assert not resumed.exists()
    done = subprocess.run(
        script(resumed, 0.0), check=True, capture_output=True, text=True, timeout=120
    )
    total, tagged, rejected, resumed_from = map(int, done.stdout.split())
    assert (total, tagged, rejected) == (60, 59, 1)
    assert resumed_from == committed * 5
    a, b = read_output(full), read_output(resumed)
    assert len(a) == len(b) == 59
    assert a.to_dict("records") == b.to_dict("records")
    assert b["id"].is_unique
    assert default_rejects_path(full).read_text() == default_rejects_path(resumed).read_text()


class Interrupt(FakeTagger):
    """Raises KeyboardInterrupt (as Ctrl-C does) at the ``after``-th article."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after, self.seen = after, 0

    def suggest(self, article: Any, top_k: int = 10, min_score: float = 0.0) -> dict[str, Any]:
        self.seen += 1
        if self.seen == self.after:
            raise KeyboardInterrupt
        return super().suggest(article, top_k, min_score)


def test_interrupted_parquet_job_resumes_with_another_chunk_size(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", make_records(50))
    full, resumed = tmp_path / "full.parquet", tmp_path / "resumed.parquet"
    run_batch(src, full, tagger=FakeTagger(), chunk_size=50, progress=False)
    for after, chunk in ((13, 4), (9, 6)):  # stop twice, mid-chunk
        with pytest.raises(KeyboardInterrupt):
            run_batch(src, resumed, tagger=Interrupt(after), chunk_size=chunk, progress=False)
        assert not resumed.exists()
    summary = run_batch(src, resumed, tagger=FakeTagger(), chunk_size=7, progress=False)
    assert summary.resumed_from == 12 + 6 and summary.total == summary.tagged == 50
    a, b = read_output(full), read_output(resumed)
    assert a.to_dict("records") == b.to_dict("records")


def test_records_and_counts_agree_for_gzipped_jsonl(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "in.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(json.dumps(r) for r in make_records(5)) + "\n\n")
    rows = [rec.row for rec in iter_records(path)]
    assert rows == [1, 2, 3, 4, 5] and count_records(path) == 5
    assert [rec.row for rec in iter_records(path, skip=3)] == [4, 5]
