"""Check that a change leaves the suggestions as they were: this checkout against a git revision.

Tags the first N Reuters-21578 stories and ``data/sample/*.txt`` with this checkout's code and
with the code of ``--base`` (``git archive`` into a temporary folder), each in its own
process with the same model (articles and results pass between the processes as JSON, so
either side may have moved its modules), and compares every article's suggestions (tags, order,
type, source, evidence; scores within ``--tol``) and the model's unrounded scores of all its
candidates (:meth:`TagModel.rank_batch`). Exits with status 1 on any difference.

    python benchmarks/same_suggestions.py [--base main] [--n 300] [--model models/default]
        [--base-model DIR]

``--base-model`` gives the revision its own copy of the model, e.g. the pickle bundle a
data-only bundle was converted from (``git worktree add`` the revision to get it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def load_articles(n: int) -> list[Any]:
    """The first ``n`` Reuters stories with text, then the sample articles."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from throughput import reuters_articles

    from newstag.tagging.tagger import to_article

    samples = [
        to_article(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))
        for p in sorted((ROOT / "data" / "sample").glob("*.txt"))
    ]
    return reuters_articles(n) + samples


ARTICLE_FIELDS = ("title", "body", "id", "source", "date")


def emit(articles_path: Path, model: str, out: Path) -> None:
    """Suggestions and all candidate scores of the articles in ``articles_path``, as JSON."""
    try:
        from newstag.io.article import Article
        from newstag.tagging.tagger import Tagger
    except ImportError:  # a revision from before the layered layout
        from newstag.article import Article  # type: ignore[no-redef]
        from newstag.suggest import Tagger  # type: ignore[no-redef]

    rows = json.loads(articles_path.read_text(encoding="utf-8"))
    articles = [Article(**row) for row in rows]
    tagger = Tagger.load(model)
    results = list(tagger.suggest_many(articles, n_process=1))
    ranked = []
    if tagger.model is not None:
        entities = [tagger.entities(a) for a in articles]
        ranked = [
            [(c["tag"], c["score"], c["ev"], c["new"]) for c in cands]
            for cands in tagger.model.rank_batch([a.text for a in articles], entities)
        ]
    out.write_text(json.dumps({"results": results, "ranked": ranked}), encoding="utf-8")


def differences(a: Any, b: Any, tol: float, where: str = "") -> list[str]:
    """Where two nested results differ (floats compared within ``tol``)."""
    if isinstance(a, float) and isinstance(b, float):
        return [] if abs(a - b) <= tol else [f"{where}: {a!r} != {b!r}"]
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return [f"{where}: keys {list(a)} != {list(b)}"]
        return [d for k in a for d in differences(a[k], b[k], tol, f"{where}.{k}")]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return [f"{where}: length {len(a)} != {len(b)}"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in differences(x, y, tol, f"{where}[{i}]")
        ]
    return [] if type(a) is type(b) and a == b else [f"{where}: {a!r} != {b!r}"]


def run(src: Path, articles_path: Path, model: str, out: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--emit",
            str(articles_path),
            "--model",
            model,
            "--out",
            str(out),
        ],
        check=True,
        env=env,
        cwd=ROOT,
    )
    return json.loads(out.read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="main", help="git revision to compare with")
    parser.add_argument("--n", type=int, default=300, help="Reuters stories")
    parser.add_argument("--model", default=str(ROOT / "models" / "default"))
    parser.add_argument("--base-model", help="the base revision's model (default: --model)")
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--emit", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.emit:
        emit(args.emit, args.model, args.out)
        return
    model = str(Path(args.model).resolve())
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        articles_path = tmp_path / "articles.json"
        articles = load_articles(args.n)
        rows = [{k: getattr(a, k) for k in ARTICLE_FIELDS} for a in articles]
        articles_path.write_text(json.dumps(rows), encoding="utf-8")
        base_dir = tmp_path / "base"
        base_dir.mkdir()
        archive = subprocess.run(
            ["git", "archive", args.base, "src"], check=True, cwd=ROOT, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(base_dir)], input=archive, check=True)
        base_model = str(Path(args.base_model).resolve()) if args.base_model else model
        base = run(base_dir / "src", articles_path, base_model, tmp_path / "base.json")
        ours = run(ROOT / "src", articles_path, model, tmp_path / "ours.json")
    diffs = differences(base, ours, args.tol)
    n_tags = sum(len(r["tags"]) for r in ours["results"])
    n_cands = sum(len(c) for c in ours["ranked"])
    print(
        f"{len(articles)} articles, {n_tags} suggestions, {n_cands} scored candidates: "
        f"{len(diffs)} differences from {args.base}"
    )
    for d in diffs[:20]:
        print(" ", d)
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
