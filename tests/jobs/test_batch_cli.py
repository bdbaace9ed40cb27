"""``newstag batch`` end to end with the real spaCy pipeline: interrupt, kill, resume."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newstag.jobs.batch import default_rejects_path, read_output

pytestmark = pytest.mark.slow

PLACES = ["Paris", "Berlin", "Nairobi", "Lima", "Osaka", "Toronto", "Cairo", "Madrid"]
PEOPLE = ["Angela Merkel", "Emmanuel Macron", "Barack Obama", "Jacinda Ardern"]


def corpus(n: int) -> list[dict[str, str]]:
    out = []
    for i in range(n):
        place, person = PLACES[i % len(PLACES)], PEOPLE[i % len(PEOPLE)]
        out.append(
            {
                "id": f"s{i}",
                "title": f"{person} visits {place} for talks on trade",
                "body": f"{person} arrived in {place} on Monday. Officials from the "
                f"European Union and the United Nations joined story {i}.",
            }
        )
    return out


def cmd(src: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "newstag",
        "batch",
        str(src),
        "--out",
        str(out),
        "--model",
        "none",
        "--chunk-size",
        "4",
        "--no-progress",
        *extra,
    ]


def wait_for_chunks(parts: Path, n: int, proc: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if len(list(parts.glob("*.done.json"))) >= n:
            return
        time.sleep(0.02)
    raise AssertionError(f"no {n} chunks committed in time (rc={proc.poll()})")


def test_interrupt_kill_resume_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    recs = corpus(48)
    recs[9] = {"id": "blank", "title": " ", "body": ""}
    src = tmp_path / "articles.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    full, resumed = tmp_path / "full.parquet", tmp_path / "resumed.parquet"
    parts = resumed.with_name(resumed.name + ".parts")

    # the uninterrupted reference run uses the multiprocessing path
    done = subprocess.run(
        cmd(src, full, "--n-process", "2"), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert "47 tagged, 1 rejected" in done.stderr

    # Ctrl-C: a clean stop with a hint, exit 130
    proc = subprocess.Popen(cmd(src, resumed), stderr=subprocess.PIPE, text=True)
    wait_for_chunks(parts, 1, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "resume" in err and "Traceback" not in err
    assert not resumed.exists()
    # kill -9 while resuming
    proc = subprocess.Popen(cmd(src, resumed), stderr=subprocess.PIPE, text=True)
    already = len(list(parts.glob("*.done.json")))
    wait_for_chunks(parts, already + 1, proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert not resumed.exists()
    last = subprocess.run(cmd(src, resumed), capture_output=True, text=True, timeout=600)
    assert last.returncode == 0, last.stderr
    assert "resuming" in last.stderr and "47 tagged, 1 rejected" in last.stderr

    a, b = read_output(full), read_output(resumed)
    assert len(a) == 47 and b["id"].is_unique
    assert a.to_dict("records") == b.to_dict("records")
    assert default_rejects_path(full).read_text() == default_rejects_path(resumed).read_text()
    assert any("Paris" in tags for tags in a["tags"])
