"""Scale-out on Dask: tag a ``dask.dataframe`` partition by partition on the workers.

Each worker process loads the tagger once (the per-process cache of
:mod:`newstag.jobs.cache`, keyed by model and pipeline) and reuses it for every partition it
gets; a partition is tagged by the batch loop of :mod:`newstag.jobs.loop` (a row that
breaks the tagger gets its reason in ``error``, the others their results). Workers need
newstag (with the same spaCy pipeline package) installed, and the model bundle at the same
path or passed as a path every worker can read (a shared file system or the same folder on
each node).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newstag.io.article import ArticleError, from_record
from newstag.io.records import Position, RecordError, clean, is_missing, where
from newstag.jobs.batch import (
    BatchError,
    BatchSummary,
    _parquet_schema,
    default_rejects_path,
    dumps,
    input_format,
    record_id,
)
from newstag.jobs.cache import cached_tagger, loaded_taggers
from newstag.jobs.loop import TagFailure, tag_batch

if TYPE_CHECKING:  # pragma: no cover
    import dask.dataframe as dd
    import pandas as pd

RESULT_COLUMNS = ["id", "title", "tags", "result", "error"]
INPUT_FIELDS = ["id", "title", "headline", "body", "text", "html", "date"]
"""The record fields :func:`read_input` keeps (those ``newstag.io.article.from_record`` reads)."""

__all__ = [
    "loaded_taggers",
    "read_input",
    "run_batch",
    "suggest",
    "suggest_partition",
    "worker_tagger",
]


def worker_tagger(
    model: str | None = "default",
    pipeline: str | None = None,
    factory: Callable[[], Any] | None = None,
) -> Any:
    """The tagger of this process for ``(model, pipeline)`` (or ``factory``), loaded once
    (:func:`newstag.jobs.cache.cached_tagger`)."""
    return cached_tagger(model, pipeline, factory=factory)


def _meta() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        {
            "id": pd.Series([], dtype=object),
            "title": pd.Series([], dtype=object),
            "tags": pd.Series([], dtype=object),
            "result": pd.Series([], dtype=object),
            "error": pd.Series([], dtype=object),
        }
    )


def suggest_partition(
    part: pd.DataFrame,
    model: str | None = "default",
    pipeline: str | None = None,
    top_k: int = 10,
    min_score: float = 0.0,
    title_col: str = "title",
    body_col: str = "body",
    text_col: str | None = None,
    id_col: str = "id",
    row_col: str | None = None,
    tagger_factory: Callable[[], Any] | None = None,
    where_col: str | None = None,
    error_col: str | None = None,
) -> pd.DataFrame:
    """Tag one pandas partition: columns ``id, title, tags, result, error``, same index.

    ``result`` is the suggestion as a JSON string (as ``newstag suggest --format json``
    prints it); rows that cannot be read or tagged have ``result`` missing and the reason in
    ``error``. ``id`` is ``id_col``'s value, else ``row_col``'s (the row number), else the
    index label. ``where_col`` names each row in messages (default ``dask: row N``);
    ``error_col`` holds why a row could not be read (as :func:`read_input` gives it).
    """
    import pandas as pd

    tagger = worker_tagger(model, pipeline, tagger_factory)
    records = part.to_dict("records")
    rows = part[row_col].tolist() if row_col else list(part.index)
    ids, articles, errors = [], [], []
    for row, rec in zip(rows, records, strict=True):
        rid = record_id(row, {"id": rec.get(id_col)})
        ids.append(rid)
        source = rec[where_col] if where_col else where("dask", None, row)
        try:
            if error_col and not is_missing(rec.get(error_col)):
                raise ArticleError(rec[error_col])
            fields = _fields(rec, rid, title_col, body_col, text_col)
            articles.append(from_record(fields, source))
            errors.append(None)
        except ArticleError as exc:
            articles.append(None)
            errors.append(str(exc))
    good = [a for a in articles if a is not None]
    results = iter(tag_batch(tagger, good, top_k, min_score))
    out: dict[str, list[Any]] = {c: [] for c in RESULT_COLUMNS}
    for rid, article, error in zip(ids, articles, errors, strict=True):
        result = next(results) if article is not None else None
        if isinstance(result, TagFailure):
            error = f"{article.source}: {result}"
            result = None
        out["id"].append(rid)
        out["title"].append(result.get("title") if result else None)
        out["tags"].append([t["tag"] for t in result.get("tags", [])] if result else None)
        out["result"].append(dumps(result) if result else None)
        out["error"].append(error)
    return pd.DataFrame(out, index=part.index, columns=RESULT_COLUMNS)


def _fields(
    rec: dict[str, Any], rid: str, title_col: str, body_col: str, text_col: str | None
) -> dict[str, Any]:
    """The article fields of one row, as ``newstag.io.article.from_record`` reads them."""
    fields: dict[str, Any] = {"id": rid}
    if text_col is not None:
        fields["body"] = rec.get(text_col)
    else:
        fields["title"] = rec.get(title_col)
        fields["body"] = rec.get(body_col)
        for key in ("headline", "text"):  # from_record's other names for title and body
            if key in rec and key not in (title_col, body_col):
                fields[key] = rec[key]
    for key in ("html", "date"):
        if key in rec:
            fields[key] = rec[key]
    return _strings(fields)


def _strings(fields: dict[str, Any]) -> dict[str, Any]:
    """Missing values dropped, the others as strings (a number in a CSV title column)."""
    return {k: v if isinstance(v, str) or k == "id" else str(v) for k, v in clean(fields).items()}


def suggest(
    ddf: dd.DataFrame,
    model: str | None = "default",
    pipeline: str | None = None,
    top_k: int = 10,
    min_score: float = 0.0,
    title_col: str = "title",
    body_col: str = "body",
    text_col: str | None = None,
    id_col: str = "id",
    row_col: str | None = None,
    tagger_factory: Callable[[], Any] | None = None,
    **read_cols: str | None,
) -> dd.DataFrame:
    """Suggested tags for every row of a ``dask.dataframe`` (lazy; ``.compute()`` to run).

    Columns ``id, title, tags, result, error`` with the input's index and partitions; see
    :func:`suggest_partition`. Each worker process loads the model once (or calls
    ``tagger_factory`` once: a picklable callable that builds a tagger). ``where_col`` and
    ``error_col`` are passed on to :func:`suggest_partition`.
    """
    return ddf.map_partitions(
        suggest_partition,
        model=model,
        pipeline=pipeline,
        top_k=top_k,
        min_score=min_score,
        title_col=title_col,
        body_col=body_col,
        text_col=text_col,
        id_col=id_col,
        row_col=row_col,
        tagger_factory=tagger_factory,
        meta=_meta(),
        **read_cols,
    )


def read_input(
    path: str | Path, blocksize: str | int = "16MB", min_partitions: int = 1
) -> dd.DataFrame:
    """A CSV/TSV/JSONL/Parquet input as a dask DataFrame, read by :mod:`newstag.io.records`.

    Columns: :data:`INPUT_FIELDS`, ``_row`` (the record's number, as ``newstag batch``
    gives it), ``_where`` (``FILE: line N``) and ``_error`` (why a record cannot be read, as
    ``FILE: line N: reason``; missing for good records). Uncompressed text is split at record
    starts into parts of about ``blocksize`` bytes, smaller if needed to give at least
    ``min_partitions`` partitions; a gzipped file is one partition.
    """
    import dask.dataframe as dd
    from dask.utils import parse_bytes

    fmt = input_format(path)
    size = Path(path).stat().st_size
    step = parse_bytes(blocksize) if isinstance(blocksize, str) else blocksize
    step = max(64_000, min(step, size // max(1, min_partitions) + 1))
    if fmt == "parquet":
        parts = _parquet_parts(path, min_partitions)
    elif str(path).lower().endswith(".gz"):
        parts = [(None, 0, None)]
    else:
        parts = _text_parts(path, step)
    return dd.from_map(
        _read_part, parts, path=str(path), meta=_input_meta(), enforce_metadata=False
    )


def _text_parts(path: str | Path, step: int) -> list[tuple[Position | None, int, int | None]]:
    """``(start, 0, count)`` of parts of about ``step`` bytes, cut at record starts."""
    from newstag.io.records import read_records

    starts: list[Position] = []
    counts: list[int] = []
    for rec in read_records(path):
        if not starts or rec.offset is not None and rec.offset >= starts[-1].offset + step:
            starts.append(rec.position)
            counts.append(0)
        counts[-1] += 1
    return [(s, 0, n) for s, n in zip(starts, counts, strict=True)] or [(None, 0, None)]


def _parquet_parts(path: str | Path, n: int) -> list[tuple[None, int, int]]:
    """``(None, skip, count)`` of ``n`` parts of a Parquet file's rows."""
    from newstag.io.records import count_records

    total = count_records(path)
    size = max(1, -(-total // max(1, n)))
    return [(None, skip, min(size, total - skip)) for skip in range(0, total, size)] or [
        (None, 0, 0)
    ]


def _input_meta() -> pd.DataFrame:
    import pandas as pd

    columns = {c: pd.Series([], dtype=object) for c in INPUT_FIELDS}
    return pd.DataFrame(
        {
            **columns,
            "_row": pd.Series([], dtype="int64"),
            "_where": pd.Series([], dtype=object),
            "_error": pd.Series([], dtype=object),
        }
    )


def _read_part(part: tuple[Position | None, int, int | None], path: str) -> pd.DataFrame:
    """One partition: the records of ``part`` (start, skip, count) of ``path``."""
    import pandas as pd

    from newstag.io.records import read_records

    start, skip, count = part
    rows: list[dict[str, Any]] = []
    for rec in read_records(path, skip=skip, start=start, limit=count):
        data = rec.data or {}
        rows.append(
            {
                **{c: data.get(c) for c in INPUT_FIELDS},
                "_row": rec.row,
                "_where": rec.where,
                "_error": None if rec.ok else rec.problem,
            }
        )
    frame = pd.DataFrame(rows, columns=list(_input_meta().columns))
    return frame.astype({c: object for c in INPUT_FIELDS + ["_where", "_error"]}).astype(
        {"_row": "int64"}
    )


def run_batch(
    input: str | Path,
    output: str | Path,
    scheduler: str,
    *,
    model: str | None = "default",
    pipeline: str | None = None,
    top_k: int = 10,
    min_score: float = 0.0,
    rejects: str | Path | None = None,
    overwrite: bool = False,
) -> BatchSummary:
    """Tag ``input`` on the Dask cluster at ``scheduler`` into the Parquet folder ``output``.

    ``output`` gets columns ``id, row, title, tags, result`` (as ``newstag batch``'s Parquet
    output); rejected rows go to the rejects JSON-lines file.
    """
    import time

    import dask
    from dask.distributed import Client

    src, out = Path(input), Path(output)
    if not src.exists():
        raise BatchError(f"{src}: no such file")
    if out.exists() and not overwrite:
        raise BatchError(f"{out} already exists; pass --overwrite to replace it")
    if out.suffix.lower() in (".jsonl", ".ndjson"):
        raise BatchError(f"{out}: with --dask the output is a folder of Parquet files")
    rejects_path = Path(rejects) if rejects is not None else default_rejects_path(out)
    start = time.perf_counter()
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise BatchError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from exc
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        ddf = read_input(src, min_partitions=4 * workers)
        result = suggest(
            ddf,
            model=model,
            pipeline=pipeline,
            top_k=top_k,
            min_score=min_score,
            row_col="_row",
            where_col="_where",
            error_col="_error",
        )
        result = result.assign(row=ddf["_row"].astype("int64"))
        good = result[result["error"].isna()][["id", "row", "title", "tags", "result"]]
        bad = result[~result["error"].isna()][["row", "id", "error"]]
        write = good.to_parquet(
            str(out),
            write_index=False,
            compute=False,
            overwrite=overwrite,
            schema=_parquet_schema(),
        )
        _, rejected = dask.compute(write, bad)
    except RecordError as exc:  # a file that cannot be read at all
        raise BatchError(str(exc)) from exc
    except (ValueError, TypeError, OSError) as exc:  # e.g. a worker that cannot read the file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if type(exc).__name__ in ("ModelError", "PipelineError"):
            raise BatchError(f"a Dask worker cannot load the tagger: {first}") from exc
        raise BatchError(f"{src}: cannot be read on the cluster ({first})") from exc
    finally:
        client.close()
    with open(rejects_path, "w", encoding="utf-8") as fh:
        for rec in rejected.sort_values("row").to_dict("records"):
            fh.write(
                json.dumps(
                    {"row": int(rec["row"]), "id": rec["id"], "reason": rec["error"]},
                    ensure_ascii=False,
                )
                + "\n"
            )
    import pyarrow.parquet as pq

    tagged = pq.ParquetDataset(str(out)).read(columns=["row"]).num_rows
    summary = BatchSummary(
        output=out,
        rejects=rejects_path,
        total=tagged + len(rejected),
        tagged=tagged,
        rejected=len(rejected),
    )
    summary.seconds = time.perf_counter() - start
    return summary
