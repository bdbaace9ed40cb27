"""Training configs: a TOML file with the TagModel's parameters (``newstag train --config``).

    [model]
    min_tag_count = 2
    char_ngrams = false     # off; [3, 5] adds character 3-5-grams
    sources = ["classifier", "knn", "linker", "labels"]

A top-level ``rules = "path"`` (relative to the config file) names a house rules file to
copy into the bundle (as ``train --rules`` does). ``fold_split = "date"`` makes the
combiner's held-out folds contiguous in time (:mod:`newstag.tagging.folds`).

Every key of the ``[model]`` table must be a :class:`~newstag.tagging.tagmodel.TagModel`
parameter, with a value of the parameter's type; ``false`` turns off a parameter whose
default may be ``None``. Parameters the file leaves out keep their defaults. Read with
the standard library's ``tomllib`` (``tomli`` on Python 3.10).
"""

from __future__ import annotations

import hashlib
import inspect
import sys
from pathlib import Path
from typing import Any

from newstag.errors import NewstagError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

OPTIONAL = {"char_ngrams", "max_word_features", "max_char_features"}
"""Parameters that ``false`` turns off (``None``)."""
CHOICES = {"fold_split": ("random", "date"), "archive": ("own", "general")}
"""Parameters that take one of a few words."""


class ConfigError(NewstagError, ValueError):
    """A training config that cannot be read or names a parameter wrongly."""


def read_config(path: str | Path) -> dict[str, Any]:
    """The TagModel parameters of a training config file, checked."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    extra = sorted(set(data) - {"model", "rules"})
    if extra:
        raise ConfigError(
            f"{path}: unknown table or key {extra[0]!r} (the settings go in a [model] table)"
        )
    table = data.get("model", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: 'model' must be a table ([model])")
    return {key: _checked(path, key, value) for key, value in table.items()}


def _parameters() -> dict[str, inspect.Parameter]:
    from newstag.tagging.tagmodel import TagModel

    params = inspect.signature(TagModel.__init__).parameters
    return {k: p for k, p in params.items() if k != "self"}


def _checked(path: Path, key: str, value: Any) -> Any:
    """``value`` as the TagModel parameter ``key`` takes it, or a :class:`ConfigError`."""
    params = _parameters()
    if key not in params:
        raise ConfigError(f"{path}: unknown model parameter {key!r} (known: {', '.join(params)})")
    default = params[key].default
    if value is False and key in OPTIONAL:
        return None
    if key in CHOICES:
        ok = value in CHOICES[key]
    elif isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int) or (default is None and key != "char_ngrams"):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif key == "char_ngrams":
        ok = (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        )
        value = tuple(value) if ok else value
    else:  # sources
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        value = tuple(value) if ok else value
    if not ok:
        raise ConfigError(f"{path}: {key} = {value!r} is not a valid value (default: {default!r})")
    return value


def config_rules(path: str | Path) -> Path | None:
    """The house rules file a training config names (``rules = "path"``, relative to the
    config's folder), or None."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from None
    rules = data.get("rules")
    if rules is None:
        return None
    if not isinstance(rules, str) or not rules.strip():
        raise ConfigError(f"{path}: rules must be the path of a rules file (TOML)")
    return path.parent / rules if not Path(rules).is_absolute() else Path(rules)


def config_record(path: str | Path, params: dict[str, Any]) -> dict[str, Any]:
    """What a bundle's manifest records of the config it was trained with."""
    path = Path(path)
    text = path.read_bytes()
    return {
        "file": path.name,
        "sha256": hashlib.sha256(text).hexdigest(),
        "text": text.decode("utf-8"),
        "model": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
    }
