"""Data-only storage and numpy arithmetic for the model parts: no pickle, no SciPy.

A part is saved as ``.npy`` arrays (read with ``allow_pickle=False``; large ones memory-
mapped, so worker processes share one copy in the page cache) plus JSON. :class:`CSR` is
a minimal compressed-sparse-row matrix, and :func:`postings_sum` multiplies a sparse row by
one the way SciPy's sparse product does (float32, in increasing term order), so scores
are bit-for-bit those of the scikit-learn/SciPy objects the parts were trained as.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MMAP_BYTES = 1 << 20
"""Arrays files larger than this are memory-mapped rather than read."""


@dataclass
class CSR:
    """A compressed-sparse-row matrix held as three numpy arrays."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1]) if len(self.indptr) else 0

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and values of row ``i``."""
        lo, hi = int(self.indptr[i]), int(self.indptr[i + 1])
        return self.indices[lo:hi], self.data[lo:hi]

    @classmethod
    def from_scipy(cls, M: Any, index_dtype: Any = np.int32) -> CSR:
        """A copy of a SciPy sparse matrix (canonical: sorted, no duplicates)."""
        M = M.tocsr(copy=True)
        M.sum_duplicates()
        return cls(
            np.asarray(M.indptr, dtype=np.int64 if M.nnz >= 2**31 else np.int32),
            np.asarray(M.indices, dtype=index_dtype),
            np.asarray(M.data),
            (int(M.shape[0]), int(M.shape[1])),
        )

    @classmethod
    def from_rows(
        cls, rows: list[tuple[np.ndarray, np.ndarray]], n_cols: int, dtype: Any = np.float32
    ) -> CSR:
        """Stack ``(indices, values)`` rows."""
        lengths = [len(c) for c, _ in rows]
        indptr = np.zeros(len(rows) + 1, dtype=np.int32)
        np.cumsum(lengths, out=indptr[1:])
        indices = (
            np.concatenate([c for c, _ in rows]).astype(np.int32)
            if rows
            else np.zeros(0, dtype=np.int32)
        )
        data = (
            np.concatenate([v for _, v in rows]).astype(dtype) if rows else np.zeros(0, dtype=dtype)
        )
        return cls(indptr, indices, data, (len(rows), n_cols))

    def to_scipy(self) -> Any:
        """The same matrix as SciPy CSR (training code only)."""
        import scipy.sparse as sp

        return sp.csr_matrix(
            (
                np.asarray(self.data),
                np.asarray(self.indices, dtype=np.int32),
                np.asarray(self.indptr),
            ),
            shape=self.shape,
        )

    def save(self, folder: Path, name: str) -> list[Path]:
        """Write ``name.indptr.npy``, ``name.indices.npy``, ``name.data.npy``."""
        return [
            save_array(folder / f"{name}.{part}.npy", getattr(self, part))
            for part in ("indptr", "indices", "data")
        ]

    @classmethod
    def load(cls, folder: Path, name: str, shape: tuple[int, int]) -> CSR:
        return cls(
            *(load_array(folder / f"{name}.{part}.npy") for part in ("indptr", "indices", "data")),
            shape=tuple(shape),
        )


def save_array(path: Path, array: np.ndarray) -> Path:
    np.save(path, np.ascontiguousarray(array), allow_pickle=False)
    return path


def load_array(path: Path) -> np.ndarray:
    """An ``.npy`` file, never unpickled; memory-mapped read-only when large."""
    mmap = "r" if path.stat().st_size > MMAP_BYTES else None
    return np.load(path, mmap_mode=mmap, allow_pickle=False)


def save_json(path: Path, obj: Any) -> Path:
    """JSON, gzip-compressed when the name ends in ``.gz``."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    if path.suffix == ".gz":
        with gzip.GzipFile(path, "wb", compresslevel=6, mtime=0) as fh:
            fh.write(text.encode("utf-8"))
    else:
        path.write_text(text + "\n", encoding="utf-8")
    return path


def load_json(path: Path) -> Any:
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as fh:
            return json.loads(fh.read().decode("utf-8"))
    return json.loads(path.read_text(encoding="utf-8"))


def postings_sum(cols: np.ndarray, vals: np.ndarray, P: CSR) -> np.ndarray:
    """``sum_k vals[k] * P[cols[k]]`` as a dense float32 row.

    Products are float32 and each output adds them up in the order of ``cols`` (sorted
    for a canonical row), exactly as SciPy's CSR product does.
    """
    out = np.zeros(P.shape[1], dtype=np.float32)
    cols = np.asarray(cols, dtype=np.int64)
    starts = np.asarray(P.indptr[cols], dtype=np.int64)
    lengths = np.asarray(P.indptr[cols + 1], dtype=np.int64) - starts
    total = int(lengths.sum())
    if total == 0:
        return out
    offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(total)
    products = np.repeat(np.asarray(vals, dtype=np.float32), lengths) * P.data[offsets]
    np.add.at(out, P.indices[offsets], products)
    return out


def normalize_rows(X: CSR) -> CSR:
    """Unit L2 rows, computed as scikit-learn's ``normalize`` does for float32 CSR
    (squares summed in float64, in order; each value divided in float64)."""
    data = np.array(X.data, dtype=np.float32)
    for i in range(X.shape[0]):
        lo, hi = int(X.indptr[i]), int(X.indptr[i + 1])
        if hi == lo:
            continue
        row = data[lo:hi]
        total = float(np.cumsum((row * row).astype(np.float64))[-1])
        if total == 0.0:
            continue
        data[lo:hi] = (row.astype(np.float64) / np.sqrt(total)).astype(np.float32)
    return CSR(X.indptr, X.indices, data, X.shape)


def save_npz(path: Path, arrays: dict[str, np.ndarray], compress: bool = False) -> Path:
    """Arrays in one ``.npz`` (``np.load``-able, no pickles), byte-identical across runs
    (fixed member times, unlike ``np.savez``), so checksums only change with the data."""
    import io
    import zipfile

    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, array in arrays.items():
            buf = io.BytesIO()
            np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            zf.writestr(info, buf.getvalue())
    return path
