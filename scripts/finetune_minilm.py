"""Fit newstag's MiniLM headline adapter (``src/newstag/data/minilm_adapter.npz``).

A low-rank update (LoRA, rank ``--rank``) of the six linear maps of each MiniLM layer is trained
contrastively on the ``train`` split of ``../shared/data/neus-related`` (never ``val``): a batch
holds ``--batch`` stories, two texts of each drawn from its three outlet headlines and its
neutral title; each text must pick its partner among the batch (symmetric in-batch softmax,
scale 20). The base weights stay frozen. See :mod:`newstag.encoders.adapter`.

The fusion weights and the re-ranker are fitted on train too, where a model tuned on every train
story would look better than it is on new stories. So the script first trains one adapter per
half of the train stories (split by story number) and encodes the other half's headlines with
it: these out-of-fold embeddings (``minilm_oof_headline_<fingerprint>.npz`` in the benchmark
cache, ``/tmp/newstag-bench-related`` or $NEWSTAG_BENCH_CACHE) are what ``benchmarks/related.py
--tune`` and ``scripts/fit_reranker.py`` use for the train pool. It prints each half's held-out
MiniLM-alone Recall@2 and MRR before and after tuning. The two half adapters are kept too
(``minilm_folds_<fingerprint>/fold{0,1}.npz`` there): ``scripts/export_minilm_onnx.py`` makes
the quantised model's out-of-fold embeddings from them. ``--folds-only`` redoes only the halves
for the adapter already at ``--out`` (training is deterministic, so they are the same).

    nice .venv/bin/python scripts/finetune_minilm.py        # needs the [retrain] extra

About 30 minutes on 2 cores. Deterministic for the same inputs and torch build.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import related as bench  # noqa: E402

from newstag.encoders import adapter  # noqa: E402
from newstag.encoders.weights import minilm_dir  # noqa: E402


def read_stories() -> list[dict]:
    """The train stories: their number, headline row ids and texts (headlines, neutral title)."""
    out = []
    for n, rec in bench.neus_stories():
        if rec["split"] != "train":
            continue
        heads = [a["title"] for a in rec["articles"]]
        out.append(
            {
                "n": n,
                "ids": [f"{n}-{j}" for j in range(len(heads))],
                "headlines": heads,
                "texts": [t for t in heads + [rec.get("neutral_title") or ""] if t],
            }
        )
    return out


class LowRank(torch.nn.Module):
    """A frozen ``torch.nn.Linear`` plus a trainable update: ``x -> linear(x) + x A^T B^T``."""

    def __init__(self, linear: torch.nn.Linear, rank: int, generator: torch.Generator) -> None:
        super().__init__()
        self.base = linear
        self.A = torch.nn.Parameter(
            torch.randn(rank, linear.in_features, generator=generator)
            / math.sqrt(linear.in_features)
        )
        self.B = torch.nn.Parameter(torch.zeros(linear.out_features, rank))  # starts as a no-op

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.A.T) @ self.B.T


def fresh_model() -> SentenceTransformer:
    """The plain MiniLM of the weights package (never downloaded)."""
    return SentenceTransformer(str(minilm_dir()), device="cpu", local_files_only=True)


def train(
    stories: list[dict], args: argparse.Namespace
) -> tuple[SentenceTransformer, dict[str, np.ndarray]]:
    """A MiniLM with low-rank updates fitted on ``stories``, and the updates' factors."""
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = fresh_model()
    bert = model[0].auto_model
    for p in bert.parameters():
        p.requires_grad = False
    wrapped = {}
    for key, (parent, name) in adapter.target_slots(bert).items():
        wrapped[key] = LowRank(getattr(parent, name), args.rank, generator)
        setattr(parent, name, wrapped[key])
    params = [p for m in wrapped.values() for p in (m.A, m.B)]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    total = int(math.ceil(len(stories) / args.batch) * args.epochs)
    warm = max(1, int(0.1 * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (total - s) / total)
    )
    texts = [s["texts"] for s in stories]
    model.train()
    step, t0 = 0, time.perf_counter()
    while step < total:
        order = rng.permutation(len(texts))
        for start in range(0, len(order), args.batch):
            if step >= total:
                break
            first, second = [], []
            for i in order[start : start + args.batch]:
                a, b = rng.choice(len(texts[i]), 2, replace=False)
                first.append(texts[i][a])
                second.append(texts[i][b])
            emb = model(model.tokenize(first + second))["sentence_embedding"]
            sim = emb[: len(first)] @ emb[len(first) :].T * args.scale
            target = torch.arange(len(first))
            loss = (
                torch.nn.functional.cross_entropy(sim, target)
                + torch.nn.functional.cross_entropy(sim.T, target)
            ) / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 50 == 0 or step == total:
                print(
                    f"    step {step}/{total} loss {loss.item():.3f} "
                    f"({time.perf_counter() - t0:.0f} s)",
                    file=sys.stderr,
                )
    model.eval()
    factors = {}
    for key, m in wrapped.items():
        factors[f"{key}.A"] = m.A.detach().numpy().copy()
        factors[f"{key}.B"] = m.B.detach().numpy().copy()
    return model, factors


def encode(model: SentenceTransformer, texts: list[str]) -> np.ndarray:
    with torch.no_grad():
        return np.asarray(
            model.encode(
                texts,
                batch_size=128,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            ),
            dtype=np.float32,
        )


def recall(emb: np.ndarray, stories: list[dict]) -> str:
    story = np.repeat(np.arange(len(stories)), [len(s["headlines"]) for s in stories])
    m = bench.dense_baseline(emb, np.arange(len(story)), bench.sibling_table(story))
    return f"R@2 {m['R@2']:.4f} MRR {m['MRR']:.4f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--epochs", type=float, default=12)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--scale", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=adapter.ADAPTER)
    ap.add_argument(
        "--folds-only",
        action="store_true",
        help="train only the two half adapters (out-of-fold embeddings) of --out",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    stories = read_stories()
    base = fresh_model()
    oof: dict[str, np.ndarray] = {}
    folds = []
    for fold in (0, 1):
        fit_on = [s for s in stories if s["n"] % 2 != fold]
        held = [s for s in stories if s["n"] % 2 == fold]
        heads = [h for s in held for h in s["headlines"]]
        t0 = time.perf_counter()
        model, fold_factors = train(fit_on, args)
        folds.append(fold_factors)
        emb = encode(model, heads)
        print(
            f"fold {fold}: {len(fit_on)} stories fitted, {len(heads)} held-out headlines: "
            f"MiniLM {recall(encode(base, heads), held)} -> tuned {recall(emb, held)} "
            f"({time.perf_counter() - t0:.0f} s)",
            file=sys.stderr,
        )
        oof.update(zip([i for s in held for i in s["ids"]], emb, strict=True))
    if args.folds_only:
        found = adapter.load(str(args.out))
        if found is None:
            sys.exit(f"{args.out} missing: train the adapter without --folds-only")
        fingerprint = found[1]
    else:
        _, factors = train(stories, args)
        fingerprint = adapter.save(args.out, factors)
        print(
            f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB, adapter-{fingerprint})",
            file=sys.stderr,
        )
    fold_dir = bench.CACHE / f"minilm_folds_{fingerprint}"
    fold_dir.mkdir(parents=True, exist_ok=True)
    for fold, fold_factors in enumerate(folds):
        adapter.save(fold_dir / f"fold{fold}.npz", fold_factors)
    path = bench.CACHE / f"minilm_oof_headline_{fingerprint}.npz"
    np.savez(path, ids=np.array(list(oof)), emb=np.vstack(list(oof.values())))
    print(f"wrote {path} (out-of-fold embeddings of {len(oof)} train headlines)", file=sys.stderr)


if __name__ == "__main__":
    main()
