#!/usr/bin/env python3
"""A minimal CMS on-save hook for ``newstag serve`` (standard library only).

When an editor saves a story, the CMS sends it to ``POST /v1/suggest`` and pre-fills the tag
box with the answer; when the editor publishes, it reports which suggestions they kept to
``POST /v1/feedback`` so that ``newstag feedback export`` can turn the decisions into
training data.

    python examples/cms_hook.py story.json                      # print suggested tags
    python examples/cms_hook.py story.json --keep "Vladimir Putin,Russia" --add "Diplomacy"

``story.json`` is ``{"id": ..., "title": ..., "body": ...}`` (or ``{"id": ..., "html": ...}``).
Settings: ``NEWSTAG_URL`` (default http://127.0.0.1:8000) and ``NEWSTAG_API_KEY``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

URL = os.environ.get("NEWSTAG_URL", "http://127.0.0.1:8000")
API_KEY = os.environ.get("NEWSTAG_API_KEY", "")


class HookError(RuntimeError):
    pass


def post(path: str, payload: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    """POST JSON to the service; raise HookError with the service's one-line message."""
    headers = {"Content-Type": "application/json"}
    if API_KEY:
        headers["X-API-Key"] = API_KEY
    req = urllib.request.Request(URL.rstrip("/") + path, data=json.dumps(payload).encode(),
                                 headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error", exc.reason)
        except ValueError:
            message = exc.reason
        raise HookError(f"newstag answered {exc.code}: {message}") from None
    except (urllib.error.URLError, TimeoutError) as exc:
        raise HookError(f"newstag is unreachable at {URL}: {exc}") from None


def on_save(story: dict[str, Any], top_k: int = 8) -> list[dict[str, Any]]:
    """Suggested tags for a saved story: ``[{"tag", "type", "score", ...}]``."""
    article = {k: story[k] for k in ("id", "title", "body", "html") if story.get(k)}
    return post("/v1/suggest", {**article, "top_k": top_k})["tags"]


def on_publish(story: dict[str, Any], suggested: list[str], final_tags: list[str]) -> int:
    """Report the editor's decisions; returns the feedback row id."""
    accepted = [t for t in suggested if t in final_tags]
    record = {"article_id": str(story["id"]), "suggested": suggested, "accepted": accepted,
              "rejected": [t for t in suggested if t not in final_tags],
              "added": [t for t in final_tags if t not in suggested],
              "title": story.get("title"), "body": story.get("body")}
    return post("/v1/feedback", record)["id"]


def main() -> int:
    ap = argparse.ArgumentParser(description="Send a story to newstag like a CMS on save.")
    ap.add_argument("story", help="JSON file with id, title and body (or html); - for stdin")
    ap.add_argument("--keep", default=None, help="Comma list of suggested tags the editor kept "
                                                 "(sends feedback)")
    ap.add_argument("--add", default="", help="Comma list of tags the editor added")
    args = ap.parse_args()
    try:
        with (sys.stdin if args.story == "-" else open(args.story, encoding="utf-8")) as fh:
            story = json.load(fh)
        tags = on_save(story)
        for t in tags:
            print(f"{t['tag']}\t{t['type']}\t{t['score']:.2f}")
        if args.keep is not None:
            final = [t.strip() for t in (args.keep + "," + args.add).split(",") if t.strip()]
            if not story.get("id"):
                raise HookError("the story needs an id to send feedback")
            row = on_publish(story, [t["tag"] for t in tags], final)
            print(f"feedback stored (row {row})", file=sys.stderr)
    except (OSError, ValueError, HookError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
