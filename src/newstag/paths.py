"""Where newstag finds its shipped model and the shared benchmark data."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The checkout's top folder (valid for editable and source-tree installs)."""


def default_model_dir() -> Path:
    """The shipped default model bundle (``models/default`` in the checkout)."""
    return Path(os.environ.get("NEWSTAG_DEFAULT_MODEL", REPO_ROOT / "models" / "default"))


def shared_data_dir() -> Path:
    """The read-only benchmark data: ``$NEWSTAG_SHARED_DATA`` or ``../shared/data``."""
    env = os.environ.get("NEWSTAG_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


def shared_data(*parts: str) -> Path | None:
    """A path under the shared data folder, or ``None`` when it is absent."""
    path = shared_data_dir().joinpath(*parts)
    return path if path.exists() else None


def cache_dir() -> Path | None:
    """The cache folder (``$NEWSTAG_CACHE_DIR``, default ``~/.cache/newstag``); ``None`` when
    caching is off (``NEWSTAG_CACHE_DIR=off``)."""
    env = os.environ.get("NEWSTAG_CACHE_DIR")
    if env and env.lower() in ("off", "none", "0"):
        return None
    return Path(env) if env else Path.home() / ".cache" / "newstag"
