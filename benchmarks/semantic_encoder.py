"""The --semantic encoder on onnxruntime against the sentence-transformers (torch) one.

Both run the adapted all-MiniLM-L6-v2 on one thread, in this process, on the same headlines
(neus-related val when ../shared/data is there, else the sample headlines): load time, one
headline at a time (the query path) and batches (the index-build path), sentence vectors and
word-piece vectors; medians of ``--repeat`` rounds, then each onnxruntime figure as a ratio of
torch's. Also the largest difference between their vectors. The torch side needs the
``[retrain]`` extra; without it only onnxruntime's figures are printed.

    nice .venv/bin/python benchmarks/semantic_encoder.py [--n 256] [--repeat 5]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def headlines(n: int) -> list[str]:
    """``n`` headlines: neus-related val when available, else the sample ones (repeated)."""
    from newstag.paths import shared_data

    path = shared_data("neus-related", "clusters.jsonl")
    if path is not None:
        out = []
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                if rec["split"] == "val":
                    out += [a["title"] for a in rec["articles"]]
    else:
        with open(ROOT / "data" / "sample" / "headlines.csv", encoding="utf-8") as fh:
            out = [row["headline"] for row in csv.DictReader(fh)]
    return (out * (n // max(len(out), 1) + 1))[:n]


def median_time(run: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``run`` over ``repeat`` rounds (after one warm-up)."""
    run()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def onnx_side(texts: list[str], repeat: int) -> tuple[dict[str, float], np.ndarray]:
    from newstag.encoders import adapter, minilm_full

    t0 = time.perf_counter()
    enc = minilm_full.FullMiniLM(adapter.ADAPTER, threads=1)
    times = {"load": time.perf_counter() - t0}
    times["one headline"] = median_time(lambda: enc.embed(texts[:1]), repeat * 10)
    times["batch (sentence)"] = median_time(lambda: enc.embed(texts), repeat)
    times["batch (tokens)"] = median_time(lambda: enc.token_vectors(texts), repeat)
    return times, enc.embed(texts)


def torch_side(texts: list[str], repeat: int) -> tuple[dict[str, float], np.ndarray]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    t0 = time.perf_counter()
    import torch

    from newstag.encoders import adapter, torch_minilm

    torch.set_num_threads(1)
    model = torch_minilm.sentence_transformer(adapter.ADAPTER)
    times = {"load": time.perf_counter() - t0}

    def encode(batch: list[str], **kw: object) -> object:
        with torch.no_grad():
            return model.encode(batch, batch_size=128, show_progress_bar=False, **kw)

    times["one headline"] = median_time(lambda: encode(texts[:1]), repeat * 10)
    times["batch (sentence)"] = median_time(lambda: encode(texts), repeat)
    times["batch (tokens)"] = median_time(
        lambda: encode(texts, output_value="token_embeddings", convert_to_numpy=False), repeat
    )
    return times, np.asarray(encode(texts, normalize_embeddings=True), dtype=np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=256, help="headlines in a batch")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    texts = headlines(args.n)
    ort_times, ort_vecs = onnx_side(texts, args.repeat)
    have_torch = all(importlib.util.find_spec(m) for m in ("torch", "sentence_transformers"))
    torch_times, torch_vecs = torch_side(texts, args.repeat) if have_torch else ({}, None)
    print(f"{len(texts)} headlines, 1 thread, median of {args.repeat} rounds (x10 for one)")
    print(f"{'':18s} {'onnxruntime':>12s} {'torch':>10s} {'ratio':>7s}")
    for name, value in ort_times.items():
        other = torch_times.get(name)
        ratio = f"{value / other:7.2f}" if other else ""
        print(f"{name:18s} {value:11.4f}s {other or float('nan'):9.4f}s {ratio}")
    if torch_vecs is not None:
        print(
            f"max |onnxruntime - torch| {np.abs(ort_vecs - torch_vecs).max():.2e}, min cosine "
            f"{np.sum(ort_vecs * torch_vecs, axis=1).min():.7f}"
        )


if __name__ == "__main__":
    sys.exit(main())
