"""Model bundles: a folder of joblib artifacts plus ``manifest.json``.

The manifest records the versions of newstag, scikit-learn and spaCy, the spaCy pipeline,
the labels with their counts, the training corpus checksum and size, hyper-parameters,
held-out metrics, the creation time and a sha256 for every artifact. Loading checks the
checksums before unpickling anything and refuses tampered or incompatible bundles.

Bundles are pickles: load only bundles from a source you trust.
"""

from __future__ import annotations

import hashlib
import json
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from newstag.model.errors import ModelError

FORMAT = 1
ARTIFACTS = {"features": "features_", "classifier": "clf_", "knn": "knn_", "linker": "linker_",
             "combiner": "combiner_"}


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


def _dump(obj: Any, path: Path) -> None:
    """A gzip-compressed pickle: ``joblib.load`` reads it, and so does the fast C unpickler.

    joblib's own format is read by a pure-Python unpickler, which took over ten seconds
    for the default model's vocabularies and tag tables.
    """
    import gzip
    import pickle

    with gzip.open(path, "wb", compresslevel=6) as fh:
        pickle.dump(obj, fh, protocol=5)


def _load(path: Path) -> Any:
    import gzip
    import pickle

    with gzip.open(path, "rb") as fh:
        return pickle.load(fh)


def save_model(model: Any, out: str | Path, corpus: dict[str, Any] | None = None,
               extra: dict[str, Any] | None = None) -> Path:
    """Write ``model`` (a fitted TagModel) as a bundle folder; returns the manifest path."""
    from newstag import __version__

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, dict[str, Any]] = {}
    for name, attr in ARTIFACTS.items():
        path = folder / f"{name}.joblib"
        _dump(getattr(model, attr), path)
        artifacts[path.name] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    labels = {t: {"count": int(n), "type": model.tag_types_.get(t, "topic")}
              for t, n in sorted(model.tag_counts_.items(), key=lambda x: (-x[1], x[0]))}
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
        "hyper_parameters": model.get_params(),
        "heldout_metrics": model.heldout_,
        "fit_seconds": model.fit_seconds_,
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


def verify(folder: str | Path, manifest: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check the format, versions and every artifact's sha256; return the manifest."""
    folder = Path(folder)
    manifest = manifest or read_manifest(folder)
    if manifest.get("format") != FORMAT:
        raise ModelError(f"{folder}: bundle format {manifest.get('format')!r} is not supported "
                         f"(this newstag reads format {FORMAT}); retrain the model")
    have = _version("scikit-learn")
    if _minor(manifest.get("scikit_learn")) != _minor(have):
        raise ModelError(f"{folder}: trained with scikit-learn {manifest.get('scikit_learn')}, "
                         f"but {have} is installed; retrain the model or install that version")
    expected = {f"{n}.joblib" for n in ARTIFACTS}
    if not isinstance(manifest["artifacts"], dict) or set(manifest["artifacts"]) != expected:
        raise ModelError(f"{folder}: corrupted manifest (wrong artifact list)")
    for name, info in manifest["artifacts"].items():
        path = folder / name
        if not path.exists():
            raise ModelError(f"{folder}: missing artifact {name}")
        if sha256_file(path) != info.get("sha256"):
            raise ModelError(f"{folder}: {name} does not match its sha256 in manifest.json; "
                             "the bundle was modified or corrupted (refusing to load it)")
    return manifest


def load_model(folder: str | Path, pipeline: str | None = None) -> Any:
    """Load and verify a bundle; ``pipeline`` (if given) must be the one it was trained with."""
    from newstag.model.labeltext import tag_label_forms
    from newstag.model.tagmodel import TagModel

    folder = Path(folder)
    manifest = verify(folder)
    if pipeline and manifest.get("pipeline") and pipeline != manifest["pipeline"]:
        raise ModelError(f"{folder}: the model was trained with spaCy pipeline "
                         f"{manifest['pipeline']!r}, not {pipeline!r}; retrain it or use that "
                         "pipeline")
    model = TagModel(**{k: (tuple(v) if isinstance(v, list) else v)
                        for k, v in manifest["hyper_parameters"].items()})
    for name, attr in ARTIFACTS.items():
        try:
            setattr(model, attr, _load(folder / f"{name}.joblib"))
        except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad bundle
            raise ModelError(f"{folder}: cannot load {name}.joblib ({type(exc).__name__}: "
                             f"{exc})") from exc
    model.pipeline_ = manifest.get("pipeline") or ""
    model.threshold_ = float(manifest["threshold"])
    model.heldout_ = manifest.get("heldout_metrics", {})
    model.fit_seconds_ = manifest.get("fit_seconds")
    model.n_docs_ = manifest.get("n_docs", 0)
    model.tag_counts_ = {t: v["count"] for t, v in manifest["labels"].items()}
    model.tag_types_ = {t: v["type"] for t, v in manifest["labels"].items() if v["type"] != "topic"}
    # derived, not stored: the tags' names and the aliases the linker keeps
    model.label_forms_ = tag_label_forms(model.tag_counts_, getattr(model.linker_, "aliases_", {}))
    model.manifest_ = manifest
    model.path_ = str(folder)
    return model
