"""Where newstag finds its shipped model and the shared benchmark data."""

from __future__ import annotations

import sys
from pathlib import Path

from newstag import settings

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DATA = Path(__file__).resolve().parent / "data"  # files shipped inside the package
"""The checkout's top folder (valid for editable and source-tree installs)."""


WHEEL_MODEL_DIR = Path("share") / "newstag" / "models" / "default"
"""Where a wheel install puts the shipped model, below the environment's prefix."""


def default_model_dir() -> Path:
    """The shipped default model bundle: ``$NEWSTAG_DEFAULT_MODEL``, else ``models/default`` in
    the checkout (editable and source-tree installs), else the copy a wheel installs under
    ``<prefix>/share/newstag/models/default``."""
    env = settings.current().default_model
    if env:
        return Path(env)
    checkout = REPO_ROOT / "models" / "default"
    installed = Path(sys.prefix) / WHEEL_MODEL_DIR
    if not (checkout / "manifest.json").exists() and (installed / "manifest.json").exists():
        return installed
    return checkout


def model_dir(model: str | Path | None) -> Path | None:
    """The bundle folder a ``--model`` value names: ``None`` or ``"default"`` the shipped
    model (:func:`default_model_dir`), ``"none"`` entities only (``None``), else the path."""
    if model is not None and str(model).lower() == "none":
        return None
    return default_model_dir() if model is None or str(model) == "default" else Path(model)


def shared_data_dir() -> Path:
    """The read-only benchmark data: ``$NEWSTAG_SHARED_DATA`` or ``../shared/data``."""
    env = settings.current().shared_data
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


def shared_data(*parts: str) -> Path | None:
    """A path under the shared data folder, or ``None`` when it is absent."""
    path = shared_data_dir().joinpath(*parts)
    return path if path.exists() else None


def cache_dir() -> Path | None:
    """The cache folder (``$NEWSTAG_CACHE_DIR``, default ``~/.cache/newstag``); ``None`` when
    caching is off (``NEWSTAG_CACHE_DIR=off``)."""
    env = settings.current().cache_dir
    if env and env.lower() in ("off", "none", "0"):
        return None
    return Path(env) if env else Path.home() / ".cache" / "newstag"
