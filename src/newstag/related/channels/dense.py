"""Dense channels' shared part: one unit vector per row, cosines clipped to ``[0, 1]``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from newstag.related.channels import Channel

if TYPE_CHECKING:
    from newstag.related.index import RelatedIndex
    from newstag.related.rows import Row


class DenseChannel(Channel):
    """Sentence vectors kept as float32 rounded through float16 (as ``FILE`` stores them, so a
    loaded index scores exactly like the one that saved it)."""

    dense = True
    file: ClassVar[str] = ""
    rounded: ClassVar[bool] = True  # new rows rounded through float16 as they are stored

    def dim(self) -> int:  # pragma: no cover - abstract
        """The vector size."""
        raise NotImplementedError

    def embed(self, texts: list[str]) -> Any:  # pragma: no cover - abstract
        """Unit vectors of ``texts`` (float32)."""
        raise NotImplementedError

    def start(self, index: RelatedIndex | None) -> None:
        import numpy as np

        self.vectors_ = np.zeros((0, self.dim()), dtype=np.float32)
        self.reset()

    def append(self, rows: list[Row], texts: list[str], index: RelatedIndex) -> None:
        import numpy as np

        fresh = self.embed(texts)
        if self.rounded:
            fresh = fresh.astype(np.float16).astype(np.float32)
        self.vectors_ = np.vstack([self.vectors_, fresh])

    def n_rows(self) -> int:
        return int(self.vectors_.shape[0])

    def query_ids(self, pos: list[int], index: RelatedIndex) -> Any:
        return self.vectors_[pos]

    def query_texts(self, texts: list[str], entities: list[list[str]], index: RelatedIndex) -> Any:
        return self.embed(texts)

    def similarities(self, queries: Any, index: RelatedIndex) -> Any:
        import numpy as np

        return np.clip(queries @ self.vectors_.T, 0.0, 1.0)

    def block(self, cand: Any, m: int, index: RelatedIndex) -> Any:
        import numpy as np

        vecs = self.vectors_[cand]
        return np.clip(vecs @ vecs[:m].T, 0.0, 1.0)

    def save(self, out: Path, tmp: Any) -> list[str]:
        import numpy as np

        with open(tmp(self.file), "wb") as fh:
            np.save(fh, self.vectors_.astype(np.float16))
        return [self.file]

    @classmethod
    def load(
        cls, src: Path, manifest: dict[str, Any], params: dict[str, Any], index: RelatedIndex
    ) -> Channel | None:
        """The channel when the index has its vectors file (whatever its parameters say)."""
        import numpy as np

        if not (src / cls.file).exists():
            return None
        channel = cls.from_params(params)
        channel.vectors_ = np.load(src / cls.file, allow_pickle=False).astype(np.float32)
        return channel
