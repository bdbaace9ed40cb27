"""The whole command a user runs against spaCy small alone run as a whole process.

Writes the Reuters-21578 ModApte training stories (``LEWISSPLIT="TRAIN"``, ``TOPICS="YES"``,
at least one topic: 7,769 stories) as JSON lines ``{"id", "title", "body"}`` to a temporary
file, then times, alternately, ``--repeat`` times each:

- newstag: ``newstag suggest --jsonl - -j N --format json [--model M]`` with the file on
  stdin and stdout to a file (start-up, reading, cleaning, NER, scoring and writing);
- spaCy alone: a fresh ``python`` process that imports spaCy, loads the small English
  pipeline (``en_core_web_sm`` 3.8, with only its NER enabled, as newstag runs its own),
  reads the same file and runs ``nlp.pipe(title + "\\n\\n" + body, n_process=N)`` over it,
  writing nothing.

Both are timed from process start to exit; medians are reported with their ratio
(newstag articles/s / spaCy articles/s), and the ratio of each alternating pair. The mean
CPU seconds of each (user + system, worker processes included) and their ratio are
reported too: on a machine busy with other work the wall-clock figures wander, the CPU
figures much less (with as many workers as free cores the two ratios agree).

With ``--stages`` it also measures, in this process and on the first 1,000 stories, the CPU
milliseconds per story of each step of the command (reading, cleaning with language
identification, NER, grouping and salience, model scoring, writing) and of the ``Doc``
serialisation that spaCy's worker processes add (``Doc.to_bytes`` in the worker,
``Doc.from_bytes`` in the parent), which newstag's NER workers skip (they send back entity
spans only).

    python benchmarks/whole_command.py [--n 7769] [--n-process 2] [--repeat 3] \
        [--model default|none|DIR] [--stages]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

SPACY_ALONE = """
import json, sys
import spacy
nlp = spacy.load(sys.argv[1])
keep = {"ner"} | {n for n, p in nlp.pipeline if "ner" in getattr(p, "listening_components", ())}
nlp.select_pipes(enable=[n for n in nlp.pipe_names if n in keep])
texts = []
with open(sys.argv[2], encoding="utf-8") as f:
    for line in f:
        rec = json.loads(line)
        texts.append(rec["title"] + "\\n\\n" + rec["body"])
n = 0
for _ in nlp.pipe(texts, batch_size=64, n_process=int(sys.argv[3])):
    n += 1
print(n)
"""


def modapte_train(n: int) -> list[dict[str, str]]:
    """The first ``n`` ModApte training stories as ``{"id", "title", "body"}`` records."""
    from newstag.io.corpus import read_corpus
    from newstag.paths import shared_data

    path = shared_data("reuters21578")
    if path is None:
        sys.exit("Reuters-21578 not found under ../shared/data (set NEWSTAG_SHARED_DATA)")
    records = []
    for rec in read_corpus(path, "reuters", reuters_field="topics"):
        if rec.meta["lewissplit"] == "TRAIN" and rec.meta["topics_attr"] == "YES" and rec.tags:
            records.append({"id": rec.id, "title": rec.title, "body": rec.body})
            if len(records) >= n:
                break
    return records


CPU_SECONDS: dict[str, float] = {}
"""CPU seconds (user + system, the process and its worker processes) of each timed run,
by label (``newstag``, ``spacy``, ``base``): a figure the machine's other load disturbs less."""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(
    cmd: list[str], stdin: Path, stdout: Path, src: Path = ROOT / "src", label: str = "newstag"
) -> float:
    """Wall-clock seconds of ``cmd`` from start to exit; fails loudly on a non-zero exit.
    Its CPU seconds are added to ``CPU_SECONDS[label]``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    with stdin.open("rb") as fin, stdout.open("wb") as fout:
        cpu = _children_cpu()
        start = time.perf_counter()
        done = subprocess.run(
            cmd, stdin=fin, stdout=fout, stderr=subprocess.PIPE, env=env, cwd=ROOT, check=False
        )
        seconds = time.perf_counter() - start
    CPU_SECONDS[label] = CPU_SECONDS.get(label, 0.0) + _children_cpu() - cpu
    if done.returncode:
        sys.exit(f"{' '.join(cmd)} failed: {done.stderr.decode()[-2000:]}")
    return seconds


STAGE_SAMPLE = 1000
"""``--stages`` measures the first this many stories (one process: NER alone takes a while)."""


def _cpu_ms(label: str, n: int, step: Any, out: dict[str, float]) -> Any:
    """Run ``step()``; store its CPU milliseconds per story under ``label``."""
    start = time.process_time()
    result = step()
    out[label] = round((time.process_time() - start) / n * 1000, 3)
    return result


def stage_costs(records: list[dict[str, str]], model: str) -> dict[str, float]:
    """CPU ms per story of each step of ``newstag suggest`` (one process, after warm-up)."""
    import io

    from spacy.tokens import Doc

    from newstag.io.article import from_record
    from newstag.nlp.entities import entities_from_doc
    from newstag.nlp.language import other_language
    from newstag.tagging.tagger import Tagger

    tagger = Tagger.load(model)
    nlp = tagger.extractor.nlp
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    list(tagger.suggest_many([from_record(r, "warm-up") for r in records[:20]]))
    n, out = len(records), {}
    data = _cpu_ms("read_json", n, lambda: [json.loads(x) for x in lines], out)
    arts = _cpu_ms(
        "clean", n, lambda: [from_record(r, f"line {i}") for i, r in enumerate(data)], out
    )
    _cpu_ms("of_which_language_id", n, lambda: [other_language(a.text) for a in arts], out)
    docs = _cpu_ms("ner", n, lambda: list(nlp.pipe([a.text for a in arts], batch_size=64)), out)
    blobs = _cpu_ms("doc_to_bytes", n, lambda: [d.to_bytes() for d in docs], out)
    _cpu_ms("doc_from_bytes", n, lambda: [Doc(nlp.vocab).from_bytes(b) for b in blobs], out)
    ents = _cpu_ms(
        "group_salience",
        n,
        lambda: [entities_from_doc(d, a) for d, a in zip(docs, arts, strict=True)],
        out,
    )
    pairs = list(zip(arts, ents, strict=True))
    results = _cpu_ms(
        "score",
        n,
        lambda: [r for i in range(0, n, 64) for r in tagger._results(pairs[i : i + 64], 10, 0.0)],
        out,
    )
    sink = io.StringIO()
    _cpu_ms(
        "write_json",
        n,
        lambda: [sink.write(json.dumps(r, ensure_ascii=False)) for r in results],
        out,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=7769)
    parser.add_argument("--n-process", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", default="default", help="'default', 'none' or a bundle dir")
    parser.add_argument("--keep", type=Path, help="Keep newstag's last output here.")
    parser.add_argument(
        "--stages", action="store_true", help="Also the CPU ms per story of each step."
    )
    parser.add_argument(
        "--base-src",
        type=Path,
        help="Also time newstag from this src folder (another revision, e.g. "
        "from `git archive`), alternating, and check its output is the same.",
    )
    args = parser.parse_args()

    from newstag.nlp.pipeline import SMALL_PIPELINE

    records = modapte_train(args.n)
    work = Path(tempfile.mkdtemp(prefix="whole_command."))
    stdin, out = work / "stories.jsonl", work / "out.jsonl"
    stdin.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    newstag = [
        sys.executable,
        "-m",
        "newstag",
        "suggest",
        "--jsonl",
        "-",
        "-j",
        str(args.n_process),
        "--format",
        "json",
        "--model",
        args.model,
    ]
    spacy_alone = [
        sys.executable,
        "-c",
        SPACY_ALONE,
        SMALL_PIPELINE,
        str(stdin),
        str(args.n_process),
    ]
    ours, theirs, base = [], [], []
    for _ in range(args.repeat):
        ours.append(timed(newstag, stdin, out))
        theirs.append(timed(spacy_alone, stdin, work / "spacy.out", label="spacy"))
        line = f"newstag {ours[-1]:.1f} s, spaCy {theirs[-1]:.1f} s"
        if args.base_src:
            base.append(timed(newstag, stdin, work / "base.out", args.base_src, "base"))
            line += f", base revision {base[-1]:.1f} s"
        print(f"{line}, ratio {theirs[-1] / ours[-1]:.3f}", flush=True)
    if args.base_src and out.read_bytes() != (work / "base.out").read_bytes():
        sys.exit("the base revision wrote different output")
    lines = sum(1 for _ in out.open(encoding="utf-8"))
    if lines != len(records):
        sys.exit(f"newstag wrote {lines} lines for {len(records)} stories")
    if args.keep:
        args.keep.write_bytes(out.read_bytes())
    n = len(records)
    ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
    print(
        json.dumps(
            {
                "stories": n,
                "model": args.model,
                "n_process": args.n_process,
                "newstag_s": round(ours_s, 2),
                "spacy_s": round(theirs_s, 2),
                "newstag_rate": round(n / ours_s, 1),
                "spacy_rate": round(n / theirs_s, 1),
                "ratio_of_medians": round(theirs_s / ours_s, 3),
                "median_pair_ratio": round(
                    statistics.median(t / o for o, t in zip(ours, theirs, strict=True)), 3
                ),
                "newstag_cpu_s": round(CPU_SECONDS["newstag"] / args.repeat, 2),
                "spacy_cpu_s": round(CPU_SECONDS["spacy"] / args.repeat, 2),
                "cpu_ratio": round(CPU_SECONDS["spacy"] / CPU_SECONDS["newstag"], 3),
                **_base_figures(base, ours, theirs, n),
                "load_average": os.getloadavg()[0],
                **(
                    {"stage_cpu_ms": stage_costs(records[:STAGE_SAMPLE], args.model)}
                    if args.stages
                    else {}
                ),
            },
            indent=2,
        )
    )


def _base_figures(
    base: list[float], ours: list[float], theirs: list[float], n: int
) -> dict[str, float]:
    """The base revision's median rate and ratios (empty without ``--base-src``)."""
    if not base:
        return {}
    base_s = statistics.median(base)
    return {
        "base_s": round(base_s, 2),
        "base_rate": round(n / base_s, 1),
        "base_ratio_of_medians": round(statistics.median(theirs) / base_s, 3),
        "speed_up_over_base": round(base_s / statistics.median(ours), 3),
        "same_output_as_base": True,
        "base_cpu_s": round(CPU_SECONDS["base"] / len(base), 2),
        "cpu_speed_up_over_base": round(CPU_SECONDS["base"] / CPU_SECONDS["newstag"], 3),
    }


if __name__ == "__main__":
    main()
