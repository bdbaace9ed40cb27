"""Resumable batch tagging: CSV/JSONL/Parquet in, Parquet or JSONL out, nothing lost.

A run reads the input in chunks, tags each chunk and commits it to a work folder beside
the output (``OUTPUT.parts/``): the chunk's rows, its rejects and last a small ``done``
marker, each written to a temporary name and renamed into place. A run that is killed
loses at most the chunk in flight; running the same command again skips exactly the
input records of the committed chunks and carries on. When every chunk is in, the parts
are joined into ``OUTPUT`` and the rejects file, and the work folder is removed.

Input is read by :mod:`newstag.io.records` (UTF-8 with or without a BOM; a bad record is a
reject naming its file and line). Output rows hold ``id`` (the input's id, or the row number
where there is none), ``row`` (the record's number, counting from 1: a CSV header and blank
lines are not records) and the same JSON as
``newstag suggest --format json``: merged into each JSON line for JSONL output, as the
string column ``result`` (next to ``title`` and the ``tags`` names) in Parquet.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newstag.errors import InputError
from newstag.io.article import Article, ArticleError, to_article
from newstag.io.records import Record
from newstag.jobs.cache import cached_tagger, load_tagger
from newstag.jobs.loop import Tagged, tag_rows

log = logging.getLogger(__name__)

OUTPUT_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
STATE_VERSION = 1


class BatchError(InputError):
    """A batch job that cannot start or resume; the message is one line for the user."""


@dataclass
class BatchSummary:
    """What a batch run did."""

    output: Path
    rejects: Path
    total: int = 0
    tagged: int = 0
    rejected: int = 0
    resumed_from: int = 0
    seconds: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Articles tagged per second in this run (excluding resumed ones)."""
        done = self.total - self.resumed_from
        return done / self.seconds if self.seconds > 0 else 0.0

    def text(self) -> str:
        parts = [f"{self.total:,} records: {self.tagged:,} tagged, {self.rejected:,} rejected"]
        if self.rejected:
            parts.append(f"see {self.rejects}")
        if self.resumed_from:
            parts.append(f"resumed after {self.resumed_from:,}")
        parts.append(f"{self.rate:.1f} articles/s")
        return f"{self.output}: " + "; ".join(parts)


# ---------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------


def input_format(path: str | Path) -> str:
    """``jsonl``, ``csv``, ``tsv`` or ``parquet`` from the file name (``.gz`` allowed for text)."""
    from newstag.io.records import RecordError, record_format

    try:
        return record_format(path)
    except RecordError as exc:
        raise BatchError(str(exc)) from None


def output_format(path: str | Path) -> str:
    """``jsonl`` or ``parquet`` from the output file name."""
    fmt = OUTPUT_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise BatchError(f"{path}: unknown output format; use .parquet or .jsonl")
    return fmt


def iter_records(path: str | Path, skip: int = 0) -> Iterator[Record]:
    """The input's records after the first ``skip`` (see :mod:`newstag.io.records` for the rules
    on encoding, missing values, numbering and bad records); raises :class:`BatchError`."""
    from newstag.io.records import RecordError, read_records

    input_format(path)
    try:
        yield from read_records(path, skip=skip)
    except RecordError as exc:
        raise BatchError(str(exc)) from None


def count_records(path: str | Path) -> int:
    """How many records :func:`iter_records` yields (for progress bars)."""
    from newstag.io.records import RecordError
    from newstag.io.records import count_records as count

    try:
        return count(path)
    except RecordError as exc:
        raise BatchError(str(exc)) from None


# ---------------------------------------------------------------------------
# Tagging
# ---------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def record_id(row: int, data: dict[str, Any] | None) -> str:
    """The input's ``id`` as a string, or the row number where there is none."""
    from newstag.io.records import is_missing

    value = (data or {}).get("id")
    if is_missing(value):
        return str(row)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _one_blas_thread() -> None:
    """One BLAS thread per worker process (as Dask workers): no oversubscription."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    try:  # and for BLAS libraries loaded already
        from threadpoolctl import threadpool_limits

        _WORKER["limits"] = threadpool_limits(limits=1)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass


def _worker_init(factory: Callable[[], Any]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _one_blas_thread()
    try:
        _WORKER["tagger"] = cached_tagger(factory=factory)
    except Exception as exc:  # noqa: BLE001 (reported by the first task, in the parent)
        _WORKER["error"] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _worker_tag(rows: list[tuple[int, Article]], top_k: int, min_score: float) -> Tagged:
    if "error" in _WORKER:
        raise BatchError(f"cannot load the tagger in a worker process: {_WORKER['error']}")
    return tag_rows(_WORKER["tagger"], rows, top_k, min_score)


class _Runner:
    """Tags lists of ``(row key, article)`` in this process or a pool of worker processes."""

    def __init__(
        self,
        tagger: Any,
        factory: Callable[[], Any] | None,
        n_process: int,
        top_k: int,
        min_score: float,
    ) -> None:
        self.top_k, self.min_score, self.n_process = top_k, min_score, n_process
        self.pool = None
        self.tagger = tagger
        if n_process > 1:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            if factory is None:
                tagger_obj = tagger
                factory = lambda: tagger_obj  # noqa: E731  (inherited by fork)
            methods = mp.get_all_start_methods()
            ctx = mp.get_context("fork" if "fork" in methods else None)
            self.pool = ProcessPoolExecutor(
                n_process, mp_context=ctx, initializer=_worker_init, initargs=(factory,)
            )
        elif tagger is None:
            assert factory is not None
            self.tagger = cached_tagger(factory=factory)

    def tag(self, rows: list[tuple[int, Article]]) -> Tagged:
        if self.pool is None:
            return tag_rows(self.tagger, rows, self.top_k, self.min_score)
        size = max(4, -(-len(rows) // (self.n_process * 4)))
        parts = [rows[i : i + size] for i in range(0, len(rows), size)]
        from concurrent.futures.process import BrokenProcessPool

        out = Tagged([], [])
        try:
            for part in self.pool.map(
                _worker_tag, parts, [self.top_k] * len(parts), [self.min_score] * len(parts)
            ):
                out.results += part.results
                out.failures += part.failures
        except BrokenProcessPool as exc:
            raise BatchError(
                "a worker process died (out of memory?); run the same command "
                "to resume, perhaps with fewer --n-process"
            ) from exc
        return out

    def close(self, cancel: bool = False) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=not cancel, cancel_futures=cancel)
            self.pool = None


# ---------------------------------------------------------------------------
# Chunk files
# ---------------------------------------------------------------------------


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _json_default(value: Any) -> Any:
    """numpy scalars and sets, which json cannot write."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(obj: Any) -> str:
    """JSON text as ``newstag suggest --format json`` writes it."""
    return json.dumps(obj, ensure_ascii=False, default=_json_default)


def _json_line(obj: Any) -> str:
    return dumps(obj) + "\n"


PARQUET_COLUMNS = ("id", "row", "title", "tags", "result")


def _parquet_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("id", pa.string()),
            ("row", pa.int64()),
            ("title", pa.string()),
            ("tags", pa.list_(pa.string())),
            ("result", pa.string()),
        ]
    )


def _write_rows(path: Path, fmt: str, rows: list[dict[str, Any]]) -> None:
    if fmt == "jsonl":
        with open(path, "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(_json_line({"id": r["id"], "row": r["row"], **r["result"]}))
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pydict(
        {
            "id": [r["id"] for r in rows],
            "row": [r["row"] for r in rows],
            "title": [r["result"].get("title") for r in rows],
            "tags": [[t["tag"] for t in r["result"].get("tags", [])] for r in rows],
            "result": [dumps(r["result"]) for r in rows],
        },
        schema=_parquet_schema(),
    )
    pq.write_table(table, path)


class _WorkDir:
    """The ``OUTPUT.parts`` folder of a run: state, committed chunks, their rejects."""

    def __init__(self, output: Path, fmt: str) -> None:
        self.output, self.fmt = output, fmt
        self.path = output.with_name(output.name + ".parts")
        self.ext = ".jsonl" if fmt == "jsonl" else ".parquet"

    def data(self, i: int) -> Path:
        return self.path / f"chunk-{i:06d}{self.ext}"

    def rejects(self, i: int) -> Path:
        return self.path / f"chunk-{i:06d}.rejects.jsonl"

    def done(self, i: int) -> Path:
        return self.path / f"chunk-{i:06d}.done.json"

    def committed(self) -> list[dict[str, Any]]:
        """Markers of the committed chunks, in order; stray later files are removed."""
        markers = []
        i = 0
        while self.done(i).exists():
            markers.append(json.loads(self.done(i).read_text()))
            i += 1
        for p in self.path.iterdir():
            stale = p.name.startswith("chunk-") and int(p.name[6:12]) >= i
            if stale or p.name.endswith(".tmp"):
                p.unlink()
        return markers

    def commit(
        self, i: int, consumed: int, rows: list[dict[str, Any]], rejects: list[dict[str, Any]]
    ) -> None:
        _atomic_write(self.data(i), lambda p: _write_rows(p, self.fmt, rows))
        _atomic_write(
            self.rejects(i),
            lambda p: p.write_text("".join(_json_line(r) for r in rejects), encoding="utf-8"),
        )
        marker = {
            "consumed": consumed,
            "tagged": len(rows),
            "rejected": len(rejects),
            "reasons": _count_reasons(rejects),
        }
        _atomic_write(self.done(i), lambda p: p.write_text(json.dumps(marker)))

    def assemble(self, n_chunks: int, rejects_path: Path) -> None:
        """Join the chunks into the output and the rejects file; remove the folder."""

        def write_output(tmp: Path) -> None:
            if self.fmt == "jsonl":
                with open(tmp, "wb") as out:
                    for i in range(n_chunks):
                        with open(self.data(i), "rb") as part:
                            shutil.copyfileobj(part, out)
                return
            import pyarrow.parquet as pq

            with pq.ParquetWriter(tmp, _parquet_schema()) as writer:
                for i in range(n_chunks):
                    writer.write_table(pq.read_table(self.data(i), schema=_parquet_schema()))

        def write_rejects(tmp: Path) -> None:
            with open(tmp, "wb") as out:
                for i in range(n_chunks):
                    with open(self.rejects(i), "rb") as part:
                        shutil.copyfileobj(part, out)

        _atomic_write(self.output, write_output)
        _atomic_write(rejects_path, write_rejects)
        shutil.rmtree(self.path)


def _count_reasons(rejects: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rejects:
        key = r["reason"].split(": ")[-1][:80]
        counts[key] = counts.get(key, 0) + 1
    return counts


def _fingerprint(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"input": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


# ---------------------------------------------------------------------------
# The job
# ---------------------------------------------------------------------------


def default_rejects_path(output: str | Path) -> Path:
    """``out.parquet`` -> ``out.rejects.jsonl`` beside it."""
    output = Path(output)
    return output.with_name(output.stem + ".rejects.jsonl")


def _chunks(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for item in records:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _progress(enabled: bool | None, total: int | None, initial: int) -> Any:
    from tqdm import tqdm

    from newstag.jobs.frames import progress_enabled

    return tqdm(
        total=total,
        initial=initial,
        unit="article",
        desc="tagging",
        disable=not progress_enabled(enabled),
        file=sys.stderr,
        dynamic_ncols=True,
    )


def _check_rules(rules: str | Path) -> None:
    """Fail before any work when the house rules file cannot be used."""
    from newstag.tagging.house_rules import RulesError, load_rules, rules_off

    try:
        if not rules_off(rules):
            load_rules(rules)
    except RulesError as exc:
        raise BatchError(str(exc)) from None


def run_batch(
    input: str | Path,
    output: str | Path,
    *,
    model: str | None = "default",
    pipeline: str | None = None,
    rules: str | Path | None = None,
    tagger: Any = None,
    tagger_factory: Callable[[], Any] | None = None,
    top_k: int = 10,
    min_score: float = 0.0,
    chunk_size: int = 500,
    n_process: int = 1,
    rejects: str | Path | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
) -> BatchSummary:
    """Tag every record of ``input`` into ``output``; resume an interrupted run of the same job.

    The tagger is ``tagger`` (used in this process), else built by ``tagger_factory`` (once in
    each worker process), else ``Tagger.load(model, pipeline, rules)``, each through the
    process's tagger cache (:mod:`newstag.jobs.cache`). ``n_process > 1`` tags on a
    pool of worker processes, each loading the model once. ``rules``: a house rules file
    (:mod:`newstag.tagging.house_rules`) for the loaded tagger. Raises :class:`BatchError`.
    """
    src, out = Path(input), Path(output)
    fmt, rejects_path = _checked_paths(src, out, rejects, chunk_size, n_process)
    work = _WorkDir(out, fmt)
    state = {
        "version": STATE_VERSION,
        **_fingerprint(src),
        "output_format": fmt,
        "model": str(model),
        "pipeline": pipeline,
        "top_k": top_k,
        "min_score": min_score,
    }
    if rules is not None:  # a resumed run must use the same rules
        state["rules"] = str(rules)
        _check_rules(rules)
    markers = _open_work(work, state, out, overwrite)
    summary = _summary_so_far(markers, out, rejects_path)
    done = summary.resumed_from
    if done:
        log.warning(f"resuming {out}: {done:,} records already done in {len(markers)} chunks")

    from newstag.jobs.frames import progress_enabled

    total = count_records(src) if progress_enabled(progress) else None
    if tagger is None and tagger_factory is None:
        from functools import partial

        tagger_factory = partial(load_tagger, model=model, pipeline=pipeline, rules=rules)
    start = time.perf_counter()
    runner = _Runner(tagger, tagger_factory, n_process, top_k, min_score)
    bar = _progress(progress, total, done)
    i = len(markers)
    try:
        for chunk in _chunks(iter_records(src, skip=done), chunk_size):
            rows, rejected = _tag_chunk(runner, chunk)
            work.commit(i, len(chunk), rows, rejected)
            i += 1
            done += len(chunk)
            summary.tagged += len(rows)
            summary.rejected += len(rejected)
            for k, v in _count_reasons(rejected).items():
                summary.reasons[k] = summary.reasons.get(k, 0) + v
            bar.update(len(chunk))
    except BaseException:
        runner.close(cancel=True)
        bar.close()
        raise
    runner.close()
    bar.close()
    work.assemble(i, rejects_path)
    summary.total = done
    summary.seconds = time.perf_counter() - start
    return summary


def _checked_paths(
    src: Path, out: Path, rejects: str | Path | None, chunk_size: int, n_process: int
) -> tuple[str, Path]:
    """The output format and the rejects file of a batch job, after checking its arguments."""
    if not src.exists():
        raise BatchError(f"{src}: no such file")
    if src.is_dir():
        raise BatchError(f"{src}: is a directory, not a file")
    input_format(src)
    fmt = output_format(out)
    if chunk_size < 1:
        raise BatchError(f"chunk size must be at least 1, not {chunk_size}")
    if n_process < 1:
        raise BatchError(f"--n-process must be at least 1, not {n_process}")
    if not out.parent.exists():
        raise BatchError(f"{out.parent}: output folder does not exist")
    rejects_path = Path(rejects) if rejects is not None else default_rejects_path(out)
    if rejects_path.resolve() in (out.resolve(), src.resolve()):
        raise BatchError(f"{rejects_path}: the rejects file must differ from input and output")
    if out.resolve() == src.resolve():
        raise BatchError(f"{out}: the output must differ from the input")
    return fmt, rejects_path


def _open_work(
    work: _WorkDir, state: dict[str, Any], out: Path, overwrite: bool
) -> list[dict[str, Any]]:
    """The work folder of this job, created or resumed: the markers of its committed chunks."""
    if overwrite and work.path.exists():
        shutil.rmtree(work.path)
    if not work.path.exists():
        if out.exists() and not overwrite:
            raise BatchError(
                f"{out} already exists (a finished run?); pass --overwrite to replace it"
            )
        work.path.mkdir()
        _atomic_write(work.path / "state.json", lambda p: p.write_text(json.dumps(state)))
        return []
    old = _read_state(work.path / "state.json")
    diff = [k for k in state if old.get(k) != state[k]]
    if diff and not work.committed():  # nothing done yet: start afresh
        _atomic_write(work.path / "state.json", lambda p: p.write_text(json.dumps(state)))
        diff = []
    if diff:
        raise BatchError(
            f"{work.path} holds an interrupted run with a different {', '.join(diff)}; run the "
            "same command to resume it, or pass --overwrite to start again"
        )
    return work.committed()


def _summary_so_far(markers: list[dict[str, Any]], out: Path, rejects: Path) -> BatchSummary:
    """The summary of the chunks an interrupted run committed."""
    summary = BatchSummary(
        output=out,
        rejects=rejects,
        resumed_from=sum(m["consumed"] for m in markers),
        tagged=sum(m["tagged"] for m in markers),
        rejected=sum(m["rejected"] for m in markers),
    )
    for m in markers:
        for k, v in m.get("reasons", {}).items():
            summary.reasons[k] = summary.reasons.get(k, 0) + v
    return summary


def _read_state(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _tag_chunk(
    runner: _Runner, chunk: list[Record]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Output rows and rejects (unreadable or untaggable records, by row) of one chunk."""
    rejects: list[dict[str, Any]] = []
    good: list[tuple[Record, str]] = []
    articles: list[tuple[int, Article]] = []
    for record in chunk:
        rid = record_id(record.row, record.data)
        try:
            articles.append((len(good), to_article(record)))
            good.append((record, rid))
        except ArticleError as exc:
            rejects.append({"row": record.row, "id": rid, "reason": str(exc)})
    tagged = runner.tag(articles)
    rows = [
        {"id": good[i][1], "row": good[i][0].row, "result": result} for i, result in tagged.results
    ]
    for i, failure in tagged.failures:
        record, rid = good[i]
        rejects.append({"row": record.row, "id": rid, "reason": f"{record.where}: {failure}"})
    rejects.sort(key=lambda r: r["row"])
    return rows, rejects


def read_output(path: str | Path) -> Any:
    """A finished batch output as a DataFrame (``result`` parsed back into dicts for Parquet)."""
    import pandas as pd

    path = Path(path)
    if output_format(path) == "jsonl":
        return pd.read_json(path, lines=True, dtype={"id": str})
    df = pd.read_parquet(path)
    df["result"] = df["result"].map(json.loads)
    df["tags"] = df["tags"].map(list)
    return df
