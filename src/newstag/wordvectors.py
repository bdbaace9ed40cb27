"""Static word vectors distilled from MiniLM: sentence vectors with numpy only (no torch).

The table ``data/wordvectors.npz`` holds one vector per lower-cased word (52,099 words, 128
dimensions, int8 with a scale per word; 6.6 MB). It was built by ``scripts/build_wordvectors.py``
(the idea of model2vec and its "tokenlearn" step, done here from scratch): each word encoded on
its own by all-MiniLM-L6-v2 with newstag's headline adapter (:mod:`newstag.adapter`), then
refitted so that the weighted mean of a text's word vectors comes close to that encoder's vector
of the whole text (ridge least squares over 35,777 Wikinews titles and first sentences), then
reduced by PCA. A text's vector is the SIF-weighted mean of its known words' vectors (smooth
inverse frequency, ``a / (a + p(word))``, word frequencies counted on Wikinews) minus its
projection on the common direction of Wikinews title vectors, made unit length.

Origin and licence: vectors from sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) with the
adapter fitted on neus-related train (MIT); word list, frequencies and fitting texts from the
English Wikinews (CC BY 2.5, "Wikinews contributors") plus the whole words of MiniLM's WordPiece
vocabulary.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

TOKEN = re.compile(r"(?u)\b\w\w+\b")
TABLE = Path(__file__).parent / "data" / "wordvectors.npz"
SIF_A = 1e-3  # the SIF smoothing constant a: weight a / (a + p(word))


def tokens(text: str) -> list[str]:
    """Lower-cased words as the table knows them (curly apostrophes made straight)."""
    return TOKEN.findall(text.lower().replace("\u2019", "'"))


def sif_weights(freq: np.ndarray, a: float = SIF_A) -> np.ndarray:
    """SIF weight of each word from its corpus count: ``a / (a + p(word))``."""
    p = (freq + 1.0) / (freq.sum() + len(freq))
    return (a / (a + p)).astype(np.float32)


def build_table(words: list[str], vecs: np.ndarray, freq: np.ndarray, titles: list[str],
                dims: int = 128) -> dict[str, np.ndarray]:
    """The arrays of the table file from raw MiniLM word vectors (used by the build script)."""
    x = vecs.astype(np.float64)
    mean = x.mean(axis=0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    red = ((x - mean) @ vt[:dims].T).astype(np.float32)
    scale = np.abs(red).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.round(red / scale[:, None]).astype(np.int8)
    table = {"words": np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8),
             "vectors": q, "scale": scale.astype(np.float32),
             "freq": freq.astype(np.int64), "component": np.zeros(dims, dtype=np.float32)}
    wv = WordVectors(table)
    sent = wv.embed(titles, remove_component=False, normalise=False)
    sent = sent[np.abs(sent).sum(axis=1) > 0]
    _, _, vt2 = np.linalg.svd(sent.astype(np.float64), full_matrices=False)
    table["component"] = vt2[0].astype(np.float32)
    return table


class WordVectors:
    """A loaded word-vector table; :meth:`embed` turns texts into unit vectors."""

    def __init__(self, table: dict[str, Any], a: float = SIF_A) -> None:
        words = bytes(np.asarray(table["words"], dtype=np.uint8)).decode("utf-8").split("\n")
        self.vocab = {w: i for i, w in enumerate(words)}
        self.vectors = np.asarray(table["vectors"], dtype=np.float32) * \
            np.asarray(table["scale"], dtype=np.float32)[:, None]
        self.weights = sif_weights(np.asarray(table["freq"], dtype=np.float64), a)
        self.component = np.asarray(table["component"], dtype=np.float32)
        self.dim = self.vectors.shape[1]
        digest = hashlib.sha1(np.ascontiguousarray(table["vectors"]).tobytes())
        digest.update(np.asarray(table["scale"], dtype=np.float32).tobytes())
        self.fingerprint = digest.hexdigest()[:16]  # stored in indexes built with this table

    def embed(self, texts: list[str], remove_component: bool = True,
              normalise: bool = True) -> np.ndarray:
        """One float32 row per text (zeros when no word of it is known)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            idx = [j for j in (self.vocab.get(w) for w in tokens(text)) if j is not None]
            if idx:
                w = self.weights[idx]
                out[i] = (w @ self.vectors[idx]) / w.sum()
        if remove_component and self.component.any():
            out -= np.outer(out @ self.component, self.component)
        if normalise:
            norms = np.linalg.norm(out, axis=1)
            norms[norms == 0] = 1.0
            out /= norms[:, None]
        return out


@lru_cache(maxsize=1)
def load(path: str | None = None) -> WordVectors | None:
    """The packaged table, or None when it is missing (then the channel is left out)."""
    src = Path(path) if path else TABLE
    if not src.exists():
        return None
    with np.load(src, allow_pickle=False) as data:
        return WordVectors({k: data[k] for k in data.files})
