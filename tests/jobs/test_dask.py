"""Scale-out on a local Dask cluster of 2 worker processes: same results as one process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

pytest.importorskip("dask.dataframe", reason="needs the [dask] extra")
pytest.importorskip("dask.distributed", reason="needs the [dask] extra")

import dask.dataframe as dd  # noqa: E402

from newstag.jobs import dask as ndask  # noqa: E402
from newstag.jobs.batch import read_output, run_batch  # noqa: E402
from tests.jobs.test_batch import FakeTagger, make_records, write_jsonl  # noqa: E402


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, silence_logs=40
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def articles_frame(n: int) -> pd.DataFrame:
    df = pd.DataFrame(make_records(n))
    df.loc[5, "title"] = None
    df.loc[5, "body"] = None
    return df


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain Python values (dask may store strings as Arrow strings)."""
    out = []
    for label, row in zip(df.index, df.to_dict("records"), strict=True):
        clean = {
            k: (
                None
                if not isinstance(v, list) and pd.isna(v)
                else list(v)
                if isinstance(v, list)
                else v
            )
            for k, v in row.items()
        }
        out.append({"_index": label, **clean})
    return out


def test_dask_suggest_equals_single_process_and_loads_once(client: Any) -> None:
    df = articles_frame(24)
    ddf = dd.from_pandas(df, npartitions=6)
    lazy = ndask.suggest(ddf, top_k=3, tagger_factory=FakeTagger)
    got = lazy.compute()
    want = ndask.suggest_partition(df, top_k=3, tagger_factory=FakeTagger)
    assert records(got) == records(want)
    assert len(got) == len(df) and list(got.index) == list(df.index)
    assert "empty" in got.loc[5, "error"] and pd.isna(got.loc[5, "result"])
    assert json.loads(got.loc[0, "result"]) == FakeTagger().suggest(_article(df.loc[0]), top_k=3)
    # each worker built its tagger at most once for six partitions
    loads = client.run(ndask.loaded_taggers)
    assert len(loads) == 2 and all(n <= 1 for n in loads.values())
    assert sum(loads.values()) >= 1


def _article(row: pd.Series) -> Any:
    from newstag.io.article import from_record

    return from_record({"title": row["title"], "body": row["body"]})


@pytest.mark.slow
def test_cli_batch_on_dask_equals_single_process_batch(client: Any, tmp_path: Path) -> None:
    recs = make_records(10)
    recs[3] = {"id": "empty", "title": "", "body": ""}
    recs[6]["title"] = "Vladimir Putin meets Kim Jong Un in Vladivostok"
    src = write_jsonl(tmp_path / "in.jsonl", recs)
    address = client.scheduler.address
    out_dir = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "newstag",
            "batch",
            str(src),
            "--out",
            str(out_dir),
            "--model",
            "none",
            "--dask",
            address,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    single = tmp_path / "single.parquet"
    summary = run_batch(src, single, model="none", progress=False)
    assert summary.rejected == 1
    a = read_output(single)
    b = pd.read_parquet(out_dir).sort_values("row").reset_index(drop=True)
    b["result"] = b["result"].map(json.loads)
    b["tags"] = b["tags"].map(list)
    assert a[["id", "row", "title", "tags"]].to_dict("records") == b[
        ["id", "row", "title", "tags"]
    ].to_dict("records")
    assert a["result"].tolist() == b["result"].tolist()
    assert any(a["tags"].map(len))  # real tags came out
    rejects = [json.loads(x) for x in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert [(r["row"], r["id"]) for r in rejects] == [(4, "empty")]
    loads = client.run(ndask.loaded_taggers)
    assert all(n <= 2 for n in loads.values())


def test_dask_cli_reports_unreachable_scheduler(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", make_records(2))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "newstag",
            "batch",
            str(src),
            "--out",
            str(tmp_path / "o"),
            "--dask",
            "tcp://127.0.0.1:9",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode != 0
    assert "Dask scheduler" in proc.stderr and "Traceback" not in proc.stderr


def test_dask_batch_reports_a_model_the_workers_cannot_load(client: Any, tmp_path: Path) -> None:
    from newstag.jobs.batch import BatchError

    src = write_jsonl(tmp_path / "in.jsonl", make_records(3))
    with pytest.raises(BatchError, match="cannot load the tagger.*no-such-model"):
        ndask.run_batch(
            src, tmp_path / "out", client.scheduler.address, model=str(tmp_path / "no-such-model")
        )


def test_read_input_uses_the_batch_reader_in_parts(tmp_path: Path) -> None:
    """BOM, a quoted multi-line cell, a blank line and a bad row: the same rows, ids and
    messages as ``newstag batch``'s reader, however the file is cut into partitions."""
    from newstag.jobs.batch import iter_records

    filler = "More words about the story. " * 90  # rows of ~2.5 kB: several 64 kB parts
    lines = ["id,title,body"] + [
        f'a{i},"Story {i}","Body of story {i},\n{filler}"' for i in range(250)
    ]
    lines.insert(10, "short,row")
    lines.insert(20, "")
    src = tmp_path / "excel.csv"
    src.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode())
    want = list(iter_records(src))
    for parts in (1, 7):
        ddf = ndask.read_input(src, min_partitions=parts)
        got = ddf.compute()
        assert parts <= ddf.npartitions <= parts + 1  # cut at record starts
        assert got["_row"].tolist() == [r.row for r in want]
        ids = [None if pd.isna(v) else v for v in got["id"]]
        assert ids == [(r.data or {}).get("id") for r in want]
        assert got["_where"].tolist() == [r.where for r in want]
        errors = got["_error"].dropna().tolist()
        assert errors == [f"{src}: line 20: has 2 fields, the header has 3"]


@pytest.mark.slow
def test_dask_batch_sends_bad_rows_to_the_rejects_file(client: Any, tmp_path: Path) -> None:
    """A malformed line no longer fails the whole cluster job: it is a reject with its line."""
    src = tmp_path / "in.jsonl"
    good = [json.dumps(r) for r in make_records(3)]
    src.write_bytes(
        b"\xef\xbb\xbf"
        + "\n".join([good[0], '{"id": "x", "title": "oops', good[1], good[2]]).encode()
        + b"\n"
    )
    out = tmp_path / "out"
    summary = ndask.run_batch(src, out, client.scheduler.address, model="none")
    assert (summary.tagged, summary.rejected) == (3, 1)
    rows = pd.read_parquet(out).sort_values("row")
    assert rows["id"].tolist() == ["a0", "a1", "a2"] and rows["row"].tolist() == [1, 3, 4]
    rejects = [json.loads(x) for x in summary.rejects.read_text().splitlines()]
    assert rejects == [
        {
            "row": 2,
            "id": "2",
            "reason": f"{src}: line 2, column 22: malformed JSON: unterminated string",
        }
    ]
