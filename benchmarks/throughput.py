"""Batch throughput of newstag against the spaCy pipeline alone, and cold-start times.

Tags the first N Reuters-21578 stories with newstag in batch mode and, in the same run,
times ``nlp.pipe`` with the same components on the same texts. Each is run ``--repeat``
times; medians are reported.

    python benchmarks/throughput.py [--n 2000] [--n-process 2] [--repeat 3] [--model none]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def reuters_articles(n: int) -> list:
    from newstag.io.corpus import read_corpus
    from newstag.paths import shared_data

    path = shared_data("reuters21578")
    if path is None:
        sys.exit("Reuters-21578 not found under ../shared/data (set NEWSTAG_SHARED_DATA)")
    articles = []
    for record in read_corpus(path, "reuters", reuters_field="topics"):
        if record.title or record.body:
            articles.append(record.to_article())
        if len(articles) >= n:
            break
    return articles


def time_it(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def wall(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--n-process", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", default="none", help="'none' (entities), 'default' or a dir")
    args = parser.parse_args()

    from newstag.tagging.tagger import Tagger

    articles = reuters_articles(args.n)
    texts = [a.text for a in articles]
    tagger = Tagger.load(args.model)
    nlp = tagger.extractor.nlp
    list(tagger.suggest_many(articles[:50]))  # warm up (model, gazetteer, caches)

    def spacy_alone() -> None:
        for _ in nlp.pipe(texts, batch_size=64, n_process=args.n_process):
            pass

    def newstag_batch() -> None:
        for _ in tagger.suggest_many(articles, n_process=args.n_process):
            pass

    spacy_times, newstag_times = [], []
    for _ in range(args.repeat):  # interleave, so both see the same machine load
        spacy_times += time_it(spacy_alone, 1)
        newstag_times += time_it(newstag_batch, 1)
    spacy_rate = len(texts) / statistics.median(spacy_times)
    newstag_rate = len(texts) / statistics.median(newstag_times)
    exe = str(Path(sys.executable).parent / "newstag")
    sample = "data/sample/kim-putin-summit.txt"
    cold_suggest = wall([exe, "suggest", sample, "--model", args.model], max(args.repeat, 5))
    cold_help = wall([exe, "--help"], max(args.repeat, 5))
    print(
        json.dumps(
            {
                "articles": len(texts),
                "n_process": args.n_process,
                "model": args.model,
                "pipes": nlp.pipe_names,
                "spacy_alone_per_s": round(spacy_rate, 1),
                "newstag_per_s": round(newstag_rate, 1),
                "ratio": round(newstag_rate / spacy_rate, 3),
                "cold_suggest_s": round(cold_suggest, 3),
                "cold_help_s": round(cold_help, 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
