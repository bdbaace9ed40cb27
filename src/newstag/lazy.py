"""Imports of heavy libraries, done only when a command needs them."""

from __future__ import annotations

import importlib.util
import sys
from functools import lru_cache
from types import ModuleType

_TORCH_PIPELINE_PACKAGES = ("spacy_transformers", "spacy_curated_transformers")


def import_spacy() -> ModuleType:
    """Import spaCy without letting thinc import PyTorch when no pipeline can use it.

    thinc imports torch whenever it is installed (it is, with the ``semantic`` extra),
    which adds over a second to every start; CNN pipelines such as the embedded
    en_core_web_sm never use it. Transformer pipelines keep torch.
    """
    if (
        "spacy" in sys.modules
        or "torch" in sys.modules
        or any(importlib.util.find_spec(p) for p in _TORCH_PIPELINE_PACKAGES)
    ):
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` fail
    try:
        import spacy
    finally:
        del sys.modules["torch"]  # later users (sentence-transformers) import it as usual
    return spacy


@lru_cache(maxsize=1)
def english_stop_words() -> frozenset[str]:
    """spaCy's English stop words (a light import once spaCy is loaded)."""
    import_spacy()
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)
