"""newstag: read news articles and tell an editor what they are about.

Heavy modules (spaCy, scikit-learn, pandas) are imported lazily, so importing
``newstag`` and running ``newstag --help`` stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "load", "read_corpus", "Tagger"]

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from newstag.tagging.tagger import Tagger


def load(model: str | None = "default", pipeline: str | None = None, **kwargs: Any) -> Tagger:
    """Load a :class:`Tagger` with ``model`` (a bundle directory, ``"default"`` or ``None``)."""
    from newstag.tagging.tagger import Tagger

    return Tagger.load(model=model, pipeline=pipeline, **kwargs)


def read_corpus(path: str, **kwargs: Any) -> pd.DataFrame:
    """Read any corpus format the CLI reads into a DataFrame."""
    from newstag.io.corpus import read_corpus_frame

    return read_corpus_frame(path, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "Tagger":
        from newstag.tagging.tagger import Tagger

        return Tagger
    raise AttributeError(f"module 'newstag' has no attribute {name!r}")
