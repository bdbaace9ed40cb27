"""Trained tag suggestion: candidate sources (:mod:`.sources`) + combiner, saved as bundles.

``load_model(path)`` returns a verified :class:`TagModel`; ``TagModel.fit`` trains one
(see :mod:`newstag.tagging.train` for training from a corpus file). Heavy libraries load lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from newstag.tagging.errors import ModelError

if TYPE_CHECKING:  # pragma: no cover
    from newstag.tagging.tagmodel import TagModel

__all__ = ["ModelError", "TagModel", "load_model", "save_model"]


def load_model(path: Any, pipeline: str | None = None) -> TagModel:
    """Load a bundle folder, checking checksums, versions and (if given) the pipeline."""
    from newstag.tagging.bundle import load_model as _load

    return _load(path, pipeline)


def save_model(model: TagModel, out: Any, **kwargs: Any) -> Any:
    from newstag.tagging.bundle import save_model as _save

    return _save(model, out, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "TagModel":
        from newstag.tagging.tagmodel import TagModel

        return TagModel
    raise AttributeError(f"module 'newstag.tagging' has no attribute {name!r}")
