"""Model bundles: a folder of data-only parts plus ``manifest.json``.

Each part (``features/``, ``combiner/`` and the folder of each candidate source that keeps
state: ``classifier/``, ``knn/``, ``linker/``) saves its own ``.npy``/``.npz`` arrays and
JSON; loading reads them with ``allow_pickle=False`` and memory-maps the large arrays, so a
bundle from anyone can be loaded without running its code, and worker processes share one
copy of the arrays. Scoring needs numpy only.

The manifest records the bundle format, the versions of newstag, scikit-learn (training)
and spaCy, the spaCy pipeline, the labels with their counts, the training corpus checksum
and size, hyper-parameters (with the candidate sources) and the training config file used,
held-out metrics, the creation time and a sha256 for every file. Loading checks the
checksums and refuses tampered or incompatible bundles.

Format 1 bundles were pickles (``*.joblib``): they are refused, and
``newstag model convert OLD NEW`` (:func:`convert_bundle`) rewrites one as format 2 in a
process whose user chooses to trust it (classes named by their module paths before the
layered layout, ``newstag.model.classifier.LinearOvR``, are read from where they live now).
"""

from __future__ import annotations

import hashlib
import json
import pickle
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from newstag.tagging.errors import ModelError

FORMAT = 2
PICKLE_FORMAT = 1
MODEL_PARTS = {"features": "features_", "combiner": "combiner_"}
"""The parts every bundle has; each candidate source with a ``part`` adds its own."""
ARTIFACTS = {
    "features": "features_",
    "classifier": "clf_",
    "knn": "knn_",
    "linker": "linker_",
    "combiner": "combiner_",
}  # format 1: ``NAME.joblib``
OLD_MODULES = {
    "newstag.model.cache": "newstag.nlp.cache",
    "newstag.suggest": "newstag.tagging.tagger",
}
"""Modules that pickles of older newstag versions name, and where they live now (and
``newstag.model.X`` is ``newstag.tagging.X``)."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _minor(version: str | None) -> str:
    return ".".join((version or "").split(".")[:2])


def _part_class(name: str) -> Any:
    if name == "features":
        from newstag.tagging.classifier import FeatureBuilder

        return FeatureBuilder
    from newstag.tagging.combiner import Combiner

    return Combiner


def _sources(hyper_parameters: dict[str, Any]) -> list[Any]:
    """The candidate sources a manifest's model uses, unfitted."""
    from newstag.tagging.sources import DEFAULT_SOURCES, source_class

    names = hyper_parameters.get("sources") or DEFAULT_SOURCES
    return [source_class(n) for n in names]


def expected_parts(hyper_parameters: dict[str, Any]) -> set[str]:
    """The part folders of a bundle whose model has these hyper-parameters."""
    return set(MODEL_PARTS) | {s.part for s in _sources(hyper_parameters) if s.part}


def save_model(
    model: Any,
    out: str | Path,
    corpus: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` (a fitted TagModel) as a bundle folder; returns the manifest path."""
    from newstag import __version__

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, dict[str, Any]] = {}
    parts: dict[str, bool] = {}
    savers = {name: getattr(model, attr).save for name, attr in MODEL_PARTS.items()}
    savers.update({s.part: s.save for s in model.sources_.values() if s.part})
    for name, save in savers.items():
        files = save(folder / name)
        parts[name] = bool(files)
        for path in files:
            artifacts[path.relative_to(folder).as_posix()] = {
                "sha256": sha256_file(path),
                "bytes": path.stat().st_size,
            }
    labels = {
        t: {"count": int(n), "type": model.tag_types_.get(t, "topic")}
        for t, n in sorted(model.tag_counts_.items(), key=lambda x: (-x[1], x[0]))
    }
    manifest = {
        "format": FORMAT,
        "newstag": __version__,
        "scikit_learn": _version("scikit-learn"),
        "spacy": _version("spacy"),
        "pipeline": model.pipeline_,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "corpus": corpus or {},
        "n_docs": model.n_docs_,
        "n_labels": len(labels),
        "n_classifier_labels": len(model.clf_.labels_) if model.clf_ is not None else 0,
        "threshold": model.threshold_,
        "hyper_parameters": model.init_params(),
        "heldout_metrics": model.heldout_,
        "fit_seconds": model.fit_seconds_,
        "parts": parts,
        "artifacts": artifacts,
        "labels": labels,
        **(extra or {}),
    }
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of a bundle folder, or :class:`ModelError` when there is none."""
    folder = Path(folder)
    if not folder.exists():
        raise ModelError(f"{folder}: no such model folder")
    if not folder.is_dir():
        raise ModelError(f"{folder}: a model is a folder with manifest.json, not a file")
    path = folder / "manifest.json"
    if not path.exists():
        raise ModelError(f"{folder}: not a model bundle (no manifest.json)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: corrupted manifest ({exc})") from exc
    if not isinstance(manifest, dict) or "artifacts" not in manifest:
        raise ModelError(f"{path}: corrupted manifest (no artifacts)")
    return manifest


def pickle_bundle_error(folder: Path) -> ModelError:
    return ModelError(
        f"{folder}: an old pickle-based bundle (format 1), which newstag no "
        "longer loads because unpickling can run code; if you trust its source, "
        f"convert it once with `newstag model convert {folder} NEW`"
    )


def _check_artifacts(folder: Path, manifest: dict[str, Any], expected: set[str] | None) -> None:
    artifacts = manifest["artifacts"]
    if not isinstance(artifacts, dict) or (expected is not None and set(artifacts) != expected):
        raise ModelError(f"{folder}: corrupted manifest (wrong artifact list)")
    for name, info in artifacts.items():
        path = folder / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            raise ModelError(f"{folder}: corrupted manifest (artifact {name!r} outside it)")
        if not path.exists():
            raise ModelError(f"{folder}: missing artifact {name}")
        if not isinstance(info, dict) or sha256_file(path) != info.get("sha256"):
            raise ModelError(
                f"{folder}: {name} does not match its sha256 in manifest.json; "
                "the bundle was modified or corrupted (refusing to load it)"
            )


def verify(folder: str | Path, manifest: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check the format and every artifact's sha256; return the manifest."""
    folder = Path(folder)
    manifest = manifest or read_manifest(folder)
    if manifest.get("format") == PICKLE_FORMAT:
        raise pickle_bundle_error(folder)
    if manifest.get("format") != FORMAT:
        raise ModelError(
            f"{folder}: bundle format {manifest.get('format')!r} is not supported "
            f"(this newstag reads format {FORMAT}); retrain the model"
        )
    parts = manifest.get("parts")
    try:
        expected = expected_parts(manifest.get("hyper_parameters") or {})
    except ValueError as exc:
        raise ModelError(f"{folder}: {exc}") from None
    if not isinstance(parts, dict) or set(parts) != expected or not parts.get("features"):
        raise ModelError(f"{folder}: corrupted manifest (wrong part list)")
    _check_artifacts(folder, manifest, None)
    return manifest


def _new_model(manifest: dict[str, Any]) -> Any:
    """A TagModel with the manifest's hyper-parameters and learned figures."""
    from newstag.tagging.tagmodel import TagModel

    params = {"archive": "general"}  # bundles from before the parameter: as they were
    params.update(manifest["hyper_parameters"])
    model = TagModel(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in params.items()})
    model.pipeline_ = manifest.get("pipeline") or ""
    model.threshold_ = float(manifest["threshold"])
    model.heldout_ = manifest.get("heldout_metrics", {})
    model.fit_seconds_ = manifest.get("fit_seconds")
    model.n_docs_ = manifest.get("n_docs", 0)
    model.tag_counts_ = {t: v["count"] for t, v in manifest["labels"].items()}
    model.tag_types_ = {t: v["type"] for t, v in manifest["labels"].items() if v["type"] != "topic"}
    return model


def _finish(model: Any, folder: Path, manifest: dict[str, Any]) -> Any:
    for source in model.sources_.values():  # state derived from other parts (label forms)
        source.bind(model)
    model.manifest_ = manifest
    model.path_ = str(folder)
    return model


def load_model(folder: str | Path, pipeline: str | None = None) -> Any:
    """Load and verify a bundle; ``pipeline`` (if given) must be the one it was trained with
    (or its stand-in, :func:`newstag.nlp.pipeline.pipelines_for_bundle`)."""
    from newstag.nlp.pipeline import pipelines_for_bundle

    folder = Path(folder)
    manifest = verify(folder)
    if (
        pipeline
        and manifest.get("pipeline")
        and pipeline not in pipelines_for_bundle(manifest["pipeline"])
    ):
        raise ModelError(
            f"{folder}: the model was trained with spaCy pipeline "
            f"{manifest['pipeline']!r}, not {pipeline!r}; retrain it or use that "
            "pipeline"
        )
    model = _new_model(manifest)
    present = manifest["parts"]
    for name, attr in MODEL_PARTS.items():
        setattr(model, attr, _load_part(folder, name, lambda f, n=name: _part_class(n).load(f)))
    model.sources_ = {}
    for source in model.new_sources():
        part = source.part
        where = folder / part if part and present.get(part) else None
        model.sources_[source.name] = _load_part(
            folder, part or source.name, lambda f, s=source, w=where: s.load_part(w)
        )
    return _finish(model, folder, manifest)


def _load_part(folder: Path, name: str, load: Any) -> Any:
    """``load(folder / name)``, its failures as a :class:`ModelError`."""
    try:
        return load(folder / name)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{folder}: cannot load {name}/ ({type(exc).__name__}: {exc})") from exc


def load_pickle_bundle(folder: str | Path) -> Any:
    """Unpickle a format-1 bundle (runs whatever code it holds: trusted bundles only).

    Used by :func:`convert_bundle` alone; checks the checksums and the scikit-learn
    version first, reads classes from their current modules (:class:`BundleUnpickler`)
    and compiles every part to its array form.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest.get("format") != PICKLE_FORMAT:
        raise ModelError(
            f"{folder}: not a pickle-based bundle (format "
            f"{manifest.get('format')!r}); nothing to convert"
        )
    have = _version("scikit-learn")
    if _minor(manifest.get("scikit_learn")) != _minor(have):
        raise ModelError(
            f"{folder}: pickled with scikit-learn {manifest.get('scikit_learn')}, "
            f"but {have} is installed; convert it with that version"
        )
    _check_artifacts(folder, manifest, {f"{n}.joblib" for n in ARTIFACTS})
    model = _new_model(manifest)
    parts = {name: _unpickle_part(folder, name) for name in ARTIFACTS}
    model.features_, model.combiner_ = parts["features"], parts["combiner"]
    model.sources_ = {}
    for source in model.new_sources():
        if source.part in parts:  # the built-in sources' parts: classifier, knn, linker
            setattr(source, ARTIFACTS[source.part], parts[source.part])
        model.sources_[source.name] = source
    return _finish(model, folder, manifest)


def _unpickle_part(folder: Path, name: str) -> Any:
    import gzip

    try:
        with gzip.open(folder / f"{name}.joblib", "rb") as fh:
            part = BundleUnpickler(fh).load()
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad bundle
        raise ModelError(
            f"{folder}: cannot load {name}.joblib ({type(exc).__name__}: {exc})"
        ) from exc
    if part is not None and hasattr(part, "compile"):
        part.compile()
    return part


def current_module(module: str) -> str:
    """Where a module an old pickle names lives now (``newstag.model.classifier`` ->
    ``newstag.tagging.classifier``; the entity cache moved to ``newstag.nlp.cache``)."""
    if module in OLD_MODULES:
        return OLD_MODULES[module]
    old = "newstag.model."
    return "newstag.tagging." + module[len(old) :] if module.startswith(old) else module


class BundleUnpickler(pickle.Unpickler):
    """A pickle reader for format-1 bundles: classes from their current modules, and only
    from newstag, scikit-learn, numpy, SciPy, joblib and the standard containers."""

    ALLOWED = {
        "newstag",
        "sklearn",
        "numpy",
        "scipy",
        "joblib",
        "collections",
        "builtins",
        "copyreg",
        "_codecs",
        "functools",
        "__builtin__",
        "copy_reg",
    }  # + Python 2 names
    REFUSED = {"eval", "exec", "compile", "open", "__import__", "breakpoint", "input"}

    def find_class(self, module: str, name: str) -> Any:
        module = current_module(module)
        if module.split(".")[0] not in self.ALLOWED or (
            module in ("builtins", "__builtin__") and name in self.REFUSED
        ):
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a model bundle")
        return super().find_class(module, name)


NEW_KEYS = (
    "format",
    "newstag",
    "spacy",
    "parts",
    "artifacts",
    "labels",
    "hyper_parameters",
    "n_labels",
    "n_classifier_labels",
    "threshold",
    "heldout_metrics",
    "fit_seconds",
    "n_docs",
    "pipeline",
    "corpus",
)


def convert_bundle(old: str | Path, new: str | Path) -> Path:
    """Rewrite the pickle bundle ``old`` as a data-only bundle in ``new``; returns its manifest.

    The old manifest's other records (creation time, scikit-learn version, training
    times, ...) are kept, with a ``converted`` note.
    """
    from newstag import __version__

    old, new = Path(old), Path(new)
    if new.exists() and (not new.is_dir() or any(new.iterdir())):
        raise ModelError(f"{new}: already exists and is not an empty folder; choose a new one")
    model = load_pickle_bundle(old)
    before = model.manifest_
    keep = {k: v for k, v in before.items() if k not in NEW_KEYS}
    keep["converted"] = {
        "from_format": PICKLE_FORMAT,
        "by_newstag": __version__,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "original_newstag": before.get("newstag"),
    }
    return save_model(model, new, corpus=before.get("corpus"), extra=keep)


def describe(folder: str | Path) -> dict[str, Any]:
    """What a bundle is, what it was trained on and its figures (from its manifest only)."""
    folder = Path(folder)
    m = read_manifest(folder)
    files = m.get("artifacts") or {}
    return {
        "path": str(folder),
        "format": m.get("format"),
        "storage": "pickles (convert it)" if m.get("format") == PICKLE_FORMAT else "arrays + JSON",
        "newstag": m.get("newstag"),
        "created": m.get("created"),
        "converted": m.get("converted"),
        "pipeline": m.get("pipeline"),
        "spacy": m.get("spacy"),
        "scikit_learn": m.get("scikit_learn"),
        "corpus": m.get("corpus") or {},
        "n_docs": m.get("n_docs"),
        "n_labels": m.get("n_labels"),
        "n_classifier_labels": m.get("n_classifier_labels"),
        "threshold": m.get("threshold"),
        "heldout_metrics": m.get("heldout_metrics") or {},
        "hyper_parameters": m.get("hyper_parameters") or {},
        "files": len(files),
        "bytes": sum(int(v.get("bytes", 0)) for v in files.values() if isinstance(v, dict)),
        "top_labels": list(m.get("labels") or {})[:10],
        "rules": m.get("rules"),
    }
