"""A light stand-in for :class:`newstag.tagging.tagger.Tagger`, for HTTP-contract tests and for
trying a CMS hook without loading spaCy. Its "entities" are capitalised words."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from typing import Any

_CAPS = re.compile(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)*\b")


class FakeTagger:
    """Tags every capitalised phrase; ``delay`` seconds of sleep per article."""

    mode = "fake"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls = 0

    def entities(self, article: Any) -> list[dict[str, Any]]:
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        found: dict[str, dict[str, Any]] = {}
        for m in _CAPS.finditer(article.text):
            ent = found.setdefault(
                m.group(),
                {"name": m.group(), "type": "organisation", "label": "ORG", "mentions": []},
            )
            ent["mentions"].append({"text": m.group(), "start": m.start(), "end": m.end()})
        return list(found.values())

    def suggest(self, article: Any, top_k: int = 10, min_score: float = 0.0) -> dict[str, Any]:
        ents = self.entities(article)
        tags = [
            {
                "tag": e["name"],
                "type": e["type"],
                "score": round(1 / (i + 1), 4),
                "source": "entity",
                "evidence": [dict(m, kind="mention") for m in e["mentions"]],
            }
            for i, e in enumerate(ents)
        ]
        tags = [t for t in tags if t["score"] >= min_score][:top_k]
        return {
            "tags": tags,
            "entities": ents,
            "title": article.title,
            "warnings": list(article.warnings),
        }

    def suggest_many(
        self, articles: Iterable[Any], top_k: int = 10, min_score: float = 0.0, n_process: int = 1
    ) -> Iterator[dict[str, Any]]:
        for article in articles:
            yield self.suggest(article, top_k=top_k, min_score=min_score)


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call_json(
    url: str,
    path: str = "",
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> tuple[int, Any, Any]:
    """``(status, JSON or text, headers)`` of one request to a running service; a body is
    sent as JSON (POST), none makes a GET. Error answers are returned, not raised."""
    import json
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url + path, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        resp = exc
    with resp:
        raw = resp.read()
        kind = resp.headers.get("content-type", "")
        return resp.status, json.loads(raw) if "json" in kind else raw.decode(), resp.headers


def start_server(
    args: list[str],
    port: int | None = None,
    env: dict[str, str] | None = None,
    ready: str = "/healthz",
    timeout: float = 120.0,
    log: Any = None,
) -> tuple[Any, str]:
    """Start ``newstag serve ARGS`` on a free loopback port and wait until ``ready`` answers 200.

    Returns ``(process, base_url)``; the caller stops the process. Raises ``RuntimeError`` with
    the server's output when it exits or does not become ready in time.
    """
    import os
    import subprocess
    import sys
    import tempfile
    import urllib.request

    port = port or free_port()
    out = log or tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server)
    cmd = [
        sys.executable,
        "-m",
        "newstag",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        *args,
    ]
    proc = subprocess.Popen(
        cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url + ready, timeout=2) as resp:
                if resp.status == 200:
                    return proc, url
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    text = ""
    if log is None:
        out.seek(0)
        text = out.read().decode("utf-8", "replace")[-2000:]
    raise RuntimeError(f"newstag serve did not become ready (exit {proc.returncode}): {text}")
