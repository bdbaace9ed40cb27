"""One tagger per process and configuration, loaded once and reused.

Batch worker processes, Dask workers and the service's model processes each ask
:func:`cached_tagger` for their tagger: the first call loads it (model, spaCy pipeline,
house rules), later calls with the same configuration get the same object. The key holds
the resolved model folder and the modification times of its manifest and of the rules file,
so a model retrained in place (or edited rules) is loaded afresh rather than served stale.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

_TAGGERS: dict[Hashable, Any] = {}
_LOCK = threading.Lock()


def _mtime(path: Path | None) -> int | None:
    try:
        return path.stat().st_mtime_ns if path is not None else None
    except OSError:
        return None


def _rules_key(rules: Any) -> Hashable:
    """A path and its modification time, or the identity of parsed rules."""
    if rules is None:
        return None
    if isinstance(rules, (str, Path)):
        path = Path(rules).resolve()
        return str(path), _mtime(path)
    return "parsed", id(rules)


def tagger_key(
    model: str | Path | None = "default", pipeline: str | None = None, rules: Any = None
) -> Hashable:
    """What identifies a loaded tagger: model folder (``None`` for entities only) and its
    manifest's modification time, pipeline name, rules file and its modification time."""
    from newstag.paths import model_dir

    folder = model_dir(model)
    where = None if folder is None else str(folder.resolve())
    manifest = None if folder is None else _mtime(folder / "manifest.json")
    return "load", where, manifest, pipeline, _rules_key(rules)


def factory_key(factory: Callable[[], Any]) -> Hashable:
    """A factory by value where it pickles (each Dask task unpickles a fresh copy of the
    same ``functools.partial``), else by identity."""
    try:
        return "factory", pickle.dumps(factory)
    except Exception:  # noqa: BLE001 (a lambda or local function: PicklingError, AttributeError)
        return "factory", id(factory)


def cached_tagger(
    model: str | Path | None = "default",
    pipeline: str | None = None,
    rules: Any = None,
    factory: Callable[[], Any] | None = None,
) -> Any:
    """This process's tagger for ``(model, pipeline, rules)``, or built by ``factory``
    (then the other arguments are ignored); loaded on the first call, then reused.

    Loading errors (``ModelError``, ``PipelineError``, ``RulesError``) propagate and
    nothing is cached, so a later call tries again."""
    key = factory_key(factory) if factory is not None else tagger_key(model, pipeline, rules)
    with _LOCK:  # one load per key even when threads ask at once
        if key not in _TAGGERS:
            _TAGGERS[key] = (
                factory() if factory is not None else load_tagger(model, pipeline, rules)
            )
        return _TAGGERS[key]


def load_tagger(
    model: str | Path | None = "default", pipeline: str | None = None, rules: Any = None
) -> Any:
    """A newly loaded ``Tagger`` (a picklable factory: ``partial(load_tagger, ...)``)."""
    from newstag.tagging.tagger import Tagger

    return Tagger.load(model=model, pipeline=pipeline, rules=rules)


def loaded_taggers() -> int:
    """How many taggers this process holds (one per configuration it was asked for)."""
    return len(_TAGGERS)


def clear() -> None:
    """Forget every cached tagger (tests; a long-lived process that wants memory back)."""
    with _LOCK:
        _TAGGERS.clear()
