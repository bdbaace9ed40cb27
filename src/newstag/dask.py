"""Scale-out on Dask: tag a ``dask.dataframe`` partition by partition on the workers.

Each worker process loads the tagger once (a per-process cache keyed by model and
pipeline) and reuses it for every partition it gets. Workers need newstag (with the
same spaCy pipeline package) installed, and the model bundle at the same path or passed
as a path every worker can read (a shared file system or the same folder on each node).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newstag.article import ArticleError
from newstag.batch import (
    BatchError,
    BatchSummary,
    _parquet_schema,
    default_rejects_path,
    dumps,
    input_format,
    record_id,
    tag_articles,
    to_article,
)

if TYPE_CHECKING:  # pragma: no cover
    import dask.dataframe as dd
    import pandas as pd

RESULT_COLUMNS = ["id", "title", "tags", "result", "error"]

_TAGGERS: dict[tuple[Any, ...], Any] = {}
_LOCK = threading.Lock()


def worker_tagger(model: str | None = "default", pipeline: str | None = None,
                  factory: Callable[[], Any] | None = None) -> Any:
    """The tagger of this process for ``(model, pipeline)`` (or ``factory``), loaded once."""
    key = (factory,) if factory is not None else (str(model), pipeline)
    with _LOCK:
        if key not in _TAGGERS:
            if factory is not None:
                _TAGGERS[key] = factory()
            else:
                from newstag import load

                _TAGGERS[key] = load(model=model, pipeline=pipeline)
        return _TAGGERS[key]


def loaded_taggers() -> int:
    """How many taggers this process has loaded (one per model it was asked for)."""
    return len(_TAGGERS)


def _meta() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({"id": pd.Series([], dtype=object), "title": pd.Series([], dtype=object),
                         "tags": pd.Series([], dtype=object),
                         "result": pd.Series([], dtype=object),
                         "error": pd.Series([], dtype=object)})


def suggest_partition(part: pd.DataFrame, model: str | None = "default",
                      pipeline: str | None = None, top_k: int = 10, min_score: float = 0.0,
                      title_col: str = "title", body_col: str = "body",
                      text_col: str | None = None, id_col: str = "id",
                      row_col: str | None = None,
                      tagger_factory: Callable[[], Any] | None = None) -> pd.DataFrame:
    """Tag one pandas partition: columns ``id, title, tags, result, error``, same index.

    ``result`` is the suggestion as a JSON string (as ``newstag suggest --format json``
    prints it); rows that cannot be read or tagged have ``result`` missing and the reason in
    ``error``. ``id`` is ``id_col``'s value, else ``row_col``'s (the row number), else the
    index label.
    """
    import pandas as pd

    tagger = worker_tagger(model, pipeline, tagger_factory)
    records = part.to_dict("records")
    rows = part[row_col].tolist() if row_col else list(part.index)
    ids, articles, errors = [], [], []
    for row, rec in zip(rows, records, strict=True):
        rid = record_id(row, {"id": rec.get(id_col)})
        ids.append(rid)
        fields = {"id": rid}
        if text_col is not None:
            fields["body"] = rec.get(text_col)
        else:
            fields["title"] = rec.get(title_col)
            fields["body"] = rec.get(body_col)
        for key in ("html", "date"):
            if key in rec:
                fields[key] = rec[key]
        try:
            articles.append(to_article(row, _strings(fields), "dask"))
            errors.append(None)
        except ArticleError as exc:
            articles.append(None)
            errors.append(str(exc))
    good = [a for a in articles if a is not None]
    results = iter(tag_articles(tagger, good, top_k, min_score))
    out: dict[str, list[Any]] = {c: [] for c in RESULT_COLUMNS}
    for rid, article, error in zip(ids, articles, errors, strict=True):
        result = next(results) if article is not None else None
        if article is not None and not isinstance(result, dict):
            error, result = f"dask: row {rid}: {type(result).__name__}: {result}", None
        out["id"].append(rid)
        out["title"].append(result.get("title") if result else None)
        out["tags"].append([t["tag"] for t in result.get("tags", [])] if result else None)
        out["result"].append(dumps(result) if result else None)
        out["error"].append(error)
    return pd.DataFrame(out, index=part.index, columns=RESULT_COLUMNS)


def _strings(fields: dict[str, Any]) -> dict[str, Any]:
    clean = {}
    for key, value in fields.items():
        if value is None or (isinstance(value, float) and value != value):
            continue
        clean[key] = value if isinstance(value, str) or key == "id" else str(value)
    return clean


def suggest(ddf: dd.DataFrame, model: str | None = "default", pipeline: str | None = None,
            top_k: int = 10, min_score: float = 0.0, title_col: str = "title",
            body_col: str = "body", text_col: str | None = None, id_col: str = "id",
            row_col: str | None = None,
            tagger_factory: Callable[[], Any] | None = None) -> dd.DataFrame:
    """Suggested tags for every row of a ``dask.dataframe`` (lazy; ``.compute()`` to run).

    Columns ``id, title, tags, result, error`` with the input's index and partitions; see
    :func:`suggest_partition`. Each worker process loads the model once (or calls
    ``tagger_factory`` once: a picklable callable that builds a tagger).
    """
    return ddf.map_partitions(
        suggest_partition, model=model, pipeline=pipeline, top_k=top_k, min_score=min_score,
        title_col=title_col, body_col=body_col, text_col=text_col, id_col=id_col,
        row_col=row_col, tagger_factory=tagger_factory, meta=_meta())


def read_input(path: str | Path, blocksize: str | int = "16MB",
               min_partitions: int = 1) -> dd.DataFrame:
    """A CSV/TSV/JSONL/Parquet input as a dask DataFrame with a 1-based ``_row`` column.

    ``_row`` matches the rows of :func:`newstag.batch.iter_records` for CSV and Parquet and
    for JSONL without blank lines. Uncompressed text is split into blocks of ``blocksize``
    bytes, smaller if needed to give at least ``min_partitions`` partitions.
    """
    import dask.dataframe as dd
    from dask.utils import parse_bytes

    fmt = input_format(path)
    size = Path(path).stat().st_size
    blocksize = max(64_000, min(parse_bytes(blocksize) if isinstance(blocksize, str)
                                else blocksize, size // max(1, min_partitions) + 1))
    if fmt == "parquet":
        ddf = dd.read_parquet(str(path))
        if ddf.npartitions < min_partitions:
            ddf = ddf.repartition(npartitions=min_partitions)
    elif fmt == "jsonl":
        compression = "gzip" if str(path).endswith(".gz") else None
        ddf = dd.read_json(str(path), lines=True, blocksize=None if compression else blocksize,
                           compression=compression, dtype=False)
    else:
        sep = "\t" if fmt == "tsv" else ","
        ddf = dd.read_csv(str(path), sep=sep, dtype=str, keep_default_na=False,
                          na_values=[""], blocksize=None if str(path).endswith(".gz")
                          else blocksize)
    lengths = ddf.map_partitions(len).compute()
    offsets = [0]
    for n in lengths[:-1]:
        offsets.append(offsets[-1] + int(n))

    def add_row(part: pd.DataFrame, partition_info: dict[str, Any] | None = None) -> Any:
        start = offsets[partition_info["number"]] if partition_info else 0
        part = part.copy()
        part["_row"] = range(start + 1, start + 1 + len(part))
        return part

    return ddf.map_partitions(add_row)


def run_batch(input: str | Path, output: str | Path, scheduler: str, *,
              model: str | None = "default", pipeline: str | None = None, top_k: int = 10,
              min_score: float = 0.0, rejects: str | Path | None = None,
              overwrite: bool = False) -> BatchSummary:
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
        result = suggest(ddf, model=model, pipeline=pipeline, top_k=top_k, min_score=min_score,
                         row_col="_row")
        result = result.assign(row=ddf["_row"].astype("int64"))
        good = result[result["error"].isna()][["id", "row", "title", "tags", "result"]]
        bad = result[~result["error"].isna()][["row", "id", "error"]]
        write = good.to_parquet(str(out), write_index=False, compute=False,
                                overwrite=overwrite, schema=_parquet_schema())
        _, rejected = dask.compute(write, bad)
    except (ValueError, TypeError, OSError) as exc:  # unreadable input, e.g. a malformed line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if type(exc).__name__ in ("ModelError", "PipelineError"):
            raise BatchError(f"a Dask worker cannot load the tagger: {first}") from exc
        raise BatchError(f"{src}: cannot be read on the cluster ({first}); run without --dask "
                         "to get each bad row in the rejects file") from exc
    finally:
        client.close()
    with open(rejects_path, "w", encoding="utf-8") as fh:
        for rec in rejected.sort_values("row").to_dict("records"):
            fh.write(json.dumps({"row": int(rec["row"]), "id": rec["id"],
                                 "reason": rec["error"]}, ensure_ascii=False) + "\n")
    import pyarrow.parquet as pq

    tagged = pq.ParquetDataset(str(out)).read(columns=["row"]).num_rows
    summary = BatchSummary(output=out, rejects=rejects_path, total=tagged + len(rejected),
                           tagged=tagged, rejected=len(rejected))
    summary.seconds = time.perf_counter() - start
    return summary
