"""The ``semantic`` channel (semantic mode, needs the ``[semantic]`` extra): all-MiniLM-L6-v2
at full precision (:mod:`newstag.encoders.semantic`).

Its re-ranker extras compare the query's and each candidate's MiniLM token vectors.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from newstag.related.channels import Channel
from newstag.related.channels.dense import DenseChannel
from newstag.related.errors import RelatedError
from newstag.related.reranker import _TIE, RERANK_DEPTH, TOKEN_CACHE
from newstag.related.text import token_match

if TYPE_CHECKING:
    from newstag.related.index import RelatedIndex


class SemanticChannel(DenseChannel):
    """Full-precision MiniLM sentence embeddings (``embeddings.npy``), used in semantic mode."""

    name = "semantic"
    timing = "semantic"
    file = "embeddings.npy"
    stored_files = ("embeddings.npy",)
    rounded = False  # as built: float32 (a loaded index has them rounded through float16)
    semantic_only = True
    extra_features = ("tokens", "tokens_rank", "tokens_gap")

    @classmethod
    def wanted(cls, params: dict[str, Any]) -> bool:
        return bool(params.get("semantic", False))

    def start(self, index: Any) -> None:
        from newstag.encoders.semantic import semantic_model

        self.model_ = semantic_model()
        super().start(index)

    def dim(self) -> int:
        return 384

    def embed(self, texts: list[str]) -> Any:
        from newstag.encoders.semantic import encode

        return encode(texts)

    def check(self, src: Path, manifest: dict[str, Any]) -> Channel | None:
        """The embeddings must be of the model this newstag computes (else rebuild)."""
        from newstag.encoders.semantic import semantic_model

        self.model_ = manifest.get("semantic_model")
        if self.model_ != semantic_model():
            raise RelatedError(
                f"{src}: its sentence embeddings are {self.model_}, "
                f"this newstag computes {semantic_model()}; rebuild the index "
                "with `newstag index build --semantic` (NEWSTAG_MINILM_ADAPTER="
                "off selects the plain MiniLM)"
            )
        return self

    def model_name(self) -> str:
        """The name of the sentence embeddings held."""
        from newstag.encoders.semantic import semantic_model

        return getattr(self, "model_", None) or semantic_model()

    def manifest(self) -> dict[str, Any]:
        return {"semantic_model": self.model_name()}

    def extras(self, cand: Any, q: dict[str, Any], index: RelatedIndex) -> list[Any]:
        """How well the query's and each candidate's MiniLM token vectors match
        (:func:`token_match`), its rank among the best ``RERANK_DEPTH`` and gap to their best.

        Token vectors are too large to store in an index (~12 kB a headline), so candidates are
        encoded when first met and kept for later queries (up to ``TOKEN_CACHE`` rows, in
        ``index.prepared()["tokens"]``).
        """
        import numpy as np

        from newstag.encoders.semantic import encode_tokens

        known = index.prepared()["tokens"]
        pos = q.get("_pos")
        wanted = list(dict.fromkeys(int(c) for c in (*cand, *([] if pos is None else [pos]))))
        if len(known) + len(wanted) > TOKEN_CACHE:
            known.clear()
        todo = [c for c in wanted if c not in known]
        found = encode_tokens([index.store.text(c) for c in todo])
        known.update((c, t.astype(np.float16)) for c, t in zip(todo, found, strict=True))
        if pos is not None:
            qt = known[pos].astype(np.float32)
        else:
            if "_tokens" not in q:
                q["_tokens"] = encode_tokens([q["_text"]])[0]
            qt = q["_tokens"]
        v = np.array([token_match(qt, known[int(c)].astype(np.float32)) for c in cand])
        vref = v[:RERANK_DEPTH]
        return [v, np.log1p((vref[None, :] > v[:, None] + _TIE).sum(axis=1)), v - vref.max()]
