"""Choosing ``related``'s default score floor (``newstag.related.DEFAULT_MIN_SCORE``).

Every headline of a neus-related split is indexed and queried by id (default mode, ``k``
results, no floor); its two sibling headlines (same story, other outlets) are the results that
must stay. For each candidate floor the script prints what it keeps and drops:

- ``sib kept``: share of the siblings found in the top k that score at or above the floor;
- ``other dropped``: share of the other results (not the query's story) below the floor;
- ``nothing shared dropped``: share of the results that share no entity and no query term
  (what a user calls noise, such as cycle lanes for an earthquake query) below the floor;
- ``results/query``: median number of results left per query; ``empty``: share of queries
  left without any result.

    nice .venv/bin/python benchmarks/related_min_score.py                # train (the choice)
    nice .venv/bin/python benchmarks/related_min_score.py --split val    # check on val

Train figures are in-sample for the int8 MiniLM adapter and the re-ranker (both fitted on
train); val shows the same floor on stories neither saw. Needs ../shared/data/neus-related (or
$NEWSTAG_SHARED_DATA); entities are cached as by benchmarks/related.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from related import ALL_ROWS, known_entities, load_clusters  # noqa: E402

from newstag.related import DEFAULT_MIN_SCORE, RelatedIndex  # noqa: E402

FLOORS = (0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)


def build(rows: list[dict]) -> RelatedIndex:
    """A headline index of ``rows`` in the default mode (entities from the shared cache)."""
    index = RelatedIndex(fields="headline")
    index.known_entities = known_entities(ALL_ROWS, "headline")
    t0 = time.perf_counter()
    index.fit(rows)
    print(f"  indexed {len(rows)} headlines in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return index


def collect(
    index: RelatedIndex, rows: list[dict], story: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scores of every returned result, whether it is a sibling, whether it shares nothing,
    and the query each came from."""
    scores, sibling, nothing, query = [], [], [], []
    pos = {r["id"]: i for i, r in enumerate(rows)}
    answers = index.query_many([{"id": r["id"]} for r in rows], k=k, min_score=0.0)
    for qi, found in enumerate(answers):
        for hit in found:
            scores.append(hit["score"])
            sibling.append(story[pos[hit["id"]]] == story[qi])
            nothing.append(not hit["shared_entities"] and not hit["shared_terms"])
            query.append(qi)
    return (np.array(scores), np.array(sibling), np.array(nothing), np.array(query))


def table(
    scores: np.ndarray, sibling: np.ndarray, nothing: np.ndarray, query: np.ndarray, n_queries: int
) -> list[dict[str, float]]:
    """One row of figures per candidate floor."""
    out = []
    for floor in FLOORS:
        keep = scores >= floor
        per_query = np.bincount(query[keep], minlength=n_queries)
        out.append(
            {
                "floor": floor,
                "sib kept": keep[sibling].mean(),
                "other dropped": (~keep[~sibling]).mean(),
                "nothing shared dropped": (~keep[nothing]).mean()
                if nothing.any()
                else float("nan"),
                "results/query": float(np.median(per_query)),
                "empty": float((per_query == 0).mean()),
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", default="train", help="train (default) or val")
    ap.add_argument("-k", type=int, default=10, help="results per query (default 10)")
    args = ap.parse_args()
    all_rows, all_story, split = load_clusters()
    ALL_ROWS[:] = all_rows
    keep = np.flatnonzero(split == args.split)
    rows = [all_rows[i] for i in keep]
    story = all_story[keep]
    print(f"{len(rows)} {args.split} headlines indexed and queried (k={args.k})", file=sys.stderr)
    index = build(rows)
    t0 = time.perf_counter()
    scores, sibling, nothing, query = collect(index, rows, story, args.k)
    print(
        f"  queried in {time.perf_counter() - t0:.1f} s; {len(scores)} results, "
        f"{int(sibling.sum())} siblings, {int(nothing.sum())} sharing nothing",
        file=sys.stderr,
    )
    print(f"split {args.split}, k={args.k}; current default floor {DEFAULT_MIN_SCORE}")
    print("floor   sib kept  other dropped  nothing shared dropped  results/query  empty")
    for r in table(scores, sibling, nothing, query, len(rows)):
        print(
            f"{r['floor']:<7} {r['sib kept']:8.4f}  {r['other dropped']:13.4f}  "
            f"{r['nothing shared dropped']:22.4f}  {r['results/query']:13.1f}  "
            f"{r['empty']:.4f}"
        )
    for name, mask in (("siblings", sibling), ("others", ~sibling), ("nothing shared", nothing)):
        if mask.any():
            q = np.percentile(scores[mask], [1, 5, 25, 50])
            print(
                f"scores of {name}: 1% {q[0]:.4f}, 5% {q[1]:.4f}, 25% {q[2]:.4f}, median {q[3]:.4f}"
            )


if __name__ == "__main__":
    main()
