"""Feedback answered with a 2xx survives ``kill -9`` of the server right after."""

from __future__ import annotations

import http.client
import json
import signal
import sqlite3
import threading
import time
from pathlib import Path

from newstag.service.testing import start_server


def post_feedback(port: int, i: int) -> int | None:
    """POST one record; the stored row id, or None when the server did not answer 201."""
    body = json.dumps(
        {
            "article_id": f"art-{i}",
            "suggested": ["France", "Geneva"],
            "accepted": ["France"],
            "rejected": ["Geneva"],
            "added": ["Energy"],
            "title": f"Story {i}",
            "body": "Leaders met in Geneva.",
        }
    )
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", "/v1/feedback", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
    except (OSError, http.client.HTTPException):  # killed mid-answer: not acknowledged
        return None
    return int(json.loads(data)["id"]) if resp.status == 201 else None


def test_kill_9_during_feedback_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    db = tmp_path / "fb.sqlite3"
    args = ["--model", "none", "--feedback-db", str(db)]
    proc, url = start_server(args)
    port = int(url.rsplit(":", 1)[1])
    acked: list[int] = []
    sent = [0]
    stop = threading.Event()

    def client(offset: int) -> None:
        i = offset
        while not stop.is_set():
            sent[0] += 1
            row = post_feedback(port, i)
            if row is not None:
                acked.append(row)
            i += 8

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 30
        while len(acked) < 150 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)  # mid-load: clients are still sending
        proc.wait(10)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
        if proc.poll() is None:
            proc.kill()
    assert len(acked) >= 150, "the load did not get going"

    with sqlite3.connect(db) as conn:  # what a restarted server will see
        stored = {r[0] for r in conn.execute("SELECT id FROM feedback")}
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert set(acked) <= stored, f"{len(set(acked) - stored)} acknowledged records lost"
    assert len(stored) <= sent[0]

    proc, url = start_server(args)  # restart on the same store: it still takes feedback
    try:
        new = post_feedback(int(url.rsplit(":", 1)[1]), 10_000)
        assert new is not None and new > max(stored)
    finally:
        proc.terminate()
        proc.wait(20)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] == len(stored) + 1
