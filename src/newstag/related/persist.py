"""Saving and loading an index directory; format checks; converting format-3 indexes.

An index is a directory: ``manifest.json`` (settings, sizes), ``rows.jsonl`` (one item a line,
with its entities and an ``alive`` flag) and each channel's files (``word.npz``/``char.npz`` and
``vocab-word.*``/``vocab-char.*``, ``minilm.npy``, ``embeddings.npy``). Nothing is pickled.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newstag.related.errors import RelatedError
from newstag.related.store import RowStore

if TYPE_CHECKING:
    from newstag.related.index import RelatedIndex

FORMAT_VERSION = 4  # 2: static word-vector channel; 3: int8 MiniLM channel (minilm.npy);
# 4: vectorisers as data (vocab-*.json, terms, idf) instead of vectorizers.joblib
PICKLE_VERSION = 3


def save_index(index: RelatedIndex, out: Path) -> Path:
    """Write ``index`` to ``out`` (created); every file goes through a temporary name."""
    from newstag.related.channels import REGISTRY

    out.mkdir(parents=True, exist_ok=True)

    def _tmp(name: str) -> Path:
        return out / f".tmp-{name}"

    files: list[str] = []
    for ch in index.channels_:
        files += ch.save(out, _tmp)
    index.store.save(_tmp("rows.jsonl"))
    files.append("rows.jsonl")
    for cls in REGISTRY.values():  # files of channels the index no longer has
        for name in cls.stored_files:
            if name not in files and (out / name).exists():
                (out / name).unlink()
    minilm = index.channel("minilm")
    manifest = {
        "format": "newstag-related",
        "version": FORMAT_VERSION,
        "created": getattr(index, "created_", None),
        "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "params": index.get_params(),
        "size": index.n_live,
        "rows": len(index.store),
        "features": {
            ch.name: ch.n_features() for ch in index.channels_ if ch.n_features() is not None
        },
        "semantic_model": index.semantic_model_name(),
        "minilm_model": getattr(minilm, "fingerprint_", None) if minilm else None,
        "files": files,
    }
    for name in files:
        os.replace(_tmp(name), out / name)
    tmp = _tmp("manifest.json")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out / "manifest.json")
    return out


def load_index(directory: str | Path, cls: Any = None) -> RelatedIndex:
    """Load an index written by :func:`save_index` (no unpickling)."""
    from newstag.related.channels import REGISTRY

    if cls is None:
        from newstag.related.index import RelatedIndex as cls
    src = Path(directory)
    manifest = read_manifest(src)
    params = manifest.get("params", {})
    index = cls(**{k: v for k, v in params.items() if k in cls().get_params()})
    try:
        index.store = RowStore.load(src / "rows.jsonl", index.fields)
        found = [c.load(src, manifest, params, index) for c in REGISTRY.values()]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RelatedError(f"{src}: damaged index ({exc})") from exc
    channels = [ch for ch in found if ch is not None]
    if any(ch.n_rows() != len(index.store) for ch in channels):
        raise RelatedError(f"{src}: damaged index (row counts disagree)")
    index.channels_ = [ch for ch in (c.check(src, manifest) for c in channels) if ch is not None]
    index.created_ = manifest.get("created")
    index.problems_, index.timings_, index._cache = [], {}, {}
    index.semantic = index.has("semantic")
    index.minilm = index.has("minilm")
    index.check_reranker()
    return index


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The manifest of an index directory, or a :class:`RelatedError` saying what is wrong."""
    src = Path(directory)
    path = src / "manifest.json"
    if not src.is_dir():
        raise RelatedError(f"{src}: no such index directory")
    if not path.exists():
        raise RelatedError(f"{src}: not a newstag index (no manifest.json)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RelatedError(f"{path}: unreadable manifest ({exc})") from exc
    if manifest.get("format") != "newstag-related":
        raise RelatedError(f"{src}: not a newstag related-headlines index")
    if manifest.get("version", 0) > FORMAT_VERSION:
        raise RelatedError(
            f"{src}: index format {manifest.get('version')} is newer than this "
            f"newstag supports ({FORMAT_VERSION})"
        )
    if manifest.get("version") == PICKLE_VERSION:
        raise RelatedError(
            f"{src}: an index with pickled vectorisers (format 3), which newstag "
            "no longer loads because unpickling can run code; if you trust its "
            f"source, convert it once with `newstag index convert {src} NEW`"
        )
    if manifest.get("version", 0) < FORMAT_VERSION:
        raise RelatedError(
            f"{src}: index format {manifest.get('version', 0)} was written by an "
            f"older newstag; rebuild the index with `newstag index build` "
            f"(this newstag reads format {FORMAT_VERSION})"
        )
    return manifest


def disk_size(directory: str | Path) -> int:
    """Bytes used by the files of an index directory."""
    return sum(p.stat().st_size for p in Path(directory).iterdir() if p.is_file())


def convert_index(old: str | Path, new: str | Path) -> Path:
    """Rewrite a format-3 index (pickled vectorisers) as a data-only index in ``new``.

    Unpickling ``vectorizers.joblib`` runs code: call this only for an index you trust.
    The other files are copied unchanged.
    """
    import shutil

    import joblib

    from newstag.related.vectorizers import save_vectorizers

    src, out = Path(old), Path(new)
    path = src / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RelatedError(f"{src}: not a newstag index ({exc})") from exc
    if manifest.get("format") != "newstag-related" or manifest.get("version") != PICKLE_VERSION:
        raise RelatedError(
            f"{src}: not an index with pickled vectorisers (format "
            f"{PICKLE_VERSION}); nothing to convert"
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RelatedError(f"{out}: already exists and is not an empty folder; choose a new one")
    try:
        vecs = joblib.load(src / "vectorizers.joblib")  # the explicit, trusted conversion
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad index
        raise RelatedError(f"{src}: cannot read vectorizers.joblib ({exc})") from exc
    out.mkdir(parents=True, exist_ok=True)
    files = save_vectorizers(
        out, {"word": vecs["word"], "char": vecs["char"]}, lambda name: out / name
    )
    for name in manifest.get("files", []):
        if name != "vectorizers.joblib":
            shutil.copy2(src / name, out / name)
            files.append(name)
    manifest.update(
        version=FORMAT_VERSION,
        files=files,
        converted={
            "from_version": PICKLE_VERSION,
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    )
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return out
