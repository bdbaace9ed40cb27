"""The ``minilm`` channel: int8 all-MiniLM-L6-v2 sentence vectors with newstag's headline
adapter, run by onnxruntime (:mod:`newstag.encoders.minilm_onnx`; no torch).

It matches paraphrases that share no word. A query scores it only for its best candidates by
the other channels (:func:`newstag.related.fusion.fuse`), which keeps queries fast at 100k.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from newstag.related.channels import Channel
from newstag.related.channels.dense import DenseChannel
from newstag.related.errors import RelatedError


class MiniLMChannel(DenseChannel):
    """Int8 MiniLM vectors (``minilm.npy``); the manifest records the model's fingerprint."""

    name = "minilm"
    timing = "minilm"
    file = "minilm.npy"
    stored_files = ("minilm.npy",)
    rescores_candidates = True

    @classmethod
    def wanted(cls, params: dict[str, Any]) -> bool:
        return bool(params.get("minilm", True))

    def available(self) -> bool:
        """Whether the model ships (it does, unless the package is damaged)."""
        from newstag.encoders import minilm_onnx

        return minilm_onnx.load() is not None

    def start(self, index: Any) -> None:
        from newstag.encoders import minilm_onnx

        encoder = minilm_onnx.load()
        self.fingerprint_ = encoder.fingerprint
        self._dim = encoder.dim
        super().start(index)

    def dim(self) -> int:
        return self._dim

    def embed(self, texts: list[str]) -> Any:
        from newstag.encoders import minilm_onnx

        encoder = minilm_onnx.load()
        if encoder is None:  # pragma: no cover - the model ships with the package
            raise RelatedError(
                "the MiniLM model (newstag/data/minilm-int8.onnx) is missing: "
                "reinstall newstag or rebuild the index with minilm off"
            )
        return encoder.embed(texts)

    def candidate_scores(
        self, cand: Any, comps: dict[str, Any], q: dict[str, Any], weights: dict[str, float]
    ) -> Any:
        """From the fusion's scores, or from the query vector when the mode gives no weight
        to this channel (it was not scored)."""
        import numpy as np

        if self.name not in weights:
            return np.clip(self.vectors_[cand] @ q["_minilm"], 0.0, 1.0)
        return np.asarray(comps[self.name])[cand]

    def check(self, src: Path, manifest: dict[str, Any]) -> Channel | None:
        """The index's model must be this newstag's (else rebuild); off when it is missing."""
        from newstag.encoders import minilm_onnx

        found = minilm_onnx.fingerprint()
        if found is None:  # pragma: no cover - the model ships with the package
            return None
        if found != manifest.get("minilm_model"):
            raise RelatedError(
                f"{src}: built with another MiniLM model than this "
                "newstag's; rebuild the index with `newstag index build`"
            )
        self.fingerprint_ = found
        return self

    def manifest(self) -> dict[str, Any]:
        return {"minilm_model": getattr(self, "fingerprint_", None)}

    def info(self) -> dict[str, Any]:
        return {"minilm": True}
