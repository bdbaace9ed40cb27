"""The one record reader (newstag.io.records) and the commands that read records through it."""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
from pathlib import Path

import pytest

from newstag.io.records import (
    RecordError,
    count_records,
    read_header,
    read_lines,
    read_records,
)
from tests.conftest import SAMPLE, run_cli

BOM = b"\xef\xbb\xbf"
STORY = {
    "title": "Strong earthquake strikes northern Japan",
    "body": "A strong earthquake struck northern Japan on Monday, officials in Tokyo said.",
}


def _csv_bytes(rows: list[list[str]]) -> bytes:
    """Rows as Excel writes CSV (quoted where needed, CRLF line ends)."""
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8")


# -- encoding --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a.csv", "a.tsv", "a.jsonl", "a.csv.gz"])
def test_a_byte_order_mark_is_dropped_in_every_format(tmp_path: Path, name: str) -> None:
    if ".jsonl" in name:
        data = b"".join(json.dumps({"id": i, "title": "T"}).encode() + b"\n" for i in "xy")
    else:
        sep = "\t" if name.endswith(".tsv") else ","
        data = f"id{sep}title\nx{sep}T\ny{sep}T\n".encode()
    path = tmp_path / name
    payload = BOM + data
    path.write_bytes(gzip.compress(payload) if name.endswith(".gz") else payload)
    records = list(read_records(path))
    assert [r.data["id"] for r in records] == ["x", "y"]
    assert all(set(r.data) == {"id", "title"} for r in records)  # no "\ufeffid" column


def test_a_line_that_is_not_utf8_is_one_bad_record(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"id,title\n1,Fine\n2,Caf\xe9 latin-1\n3,Also fine\n")
    records = list(read_records(path))
    assert [r.ok for r in records] == [True, False, True]
    assert records[1].problem == f"{path}: line 3: not UTF-8 text (byte 0xe9 at column 6)"


# -- missing values and numbering -------------------------------------------------


def test_empty_cells_null_and_nan_are_missing(tmp_path: Path) -> None:
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"id": "a", "title": "", "body": null, "date": NaN, "n": 0}\n')
    csv_path = tmp_path / "a.csv"
    csv_path.write_text("id,title,body\na,,\n")
    assert next(read_records(jsonl)).data == {"id": "a", "n": 0}
    assert next(read_records(csv_path)).data == {"id": "a"}


def test_parquet_nulls_and_nan_are_missing_and_rows_count_from_one(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    path = tmp_path / "a.parquet"
    pd.DataFrame({"id": ["a", None, "c"], "score": [1.0, math.nan, 2.0]}).to_parquet(path)
    records = list(read_records(path))
    assert [r.data for r in records] == [{"id": "a", "score": 1.0}, {}, {"id": "c", "score": 2.0}]
    assert [r.row for r in records] == [1, 2, 3] and records[1].where == f"{path}: row 2"
    assert [r.row for r in read_records(path, skip=2)] == [3] and count_records(path) == 3


def test_rows_count_records_and_lines_count_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text('id,title\n1,"two\nlines"\n\n2,x\n3,"a ""quoted"" word"\n')
    records = list(read_records(path))
    assert [(r.row, r.line) for r in records] == [(1, 2), (2, 5), (3, 6)]
    assert records[0].data["title"] == "two\nlines"
    assert records[2].data["title"] == 'a "quoted" word'
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"id": 1}\n\n   \n{"id": 2}\n')
    assert [(r.row, r.line) for r in read_records(jsonl)] == [(1, 1), (2, 4)]
    assert [r.row for r in read_records(jsonl, skip=1)] == [2] and count_records(jsonl) == 2


def test_a_file_can_be_read_in_parts_from_record_positions(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(BOM + 'id,title\n1,"multi\nline"\n2,é\n\n3,x\n4,y\n'.encode())
    whole = list(read_records(path))
    part = list(read_records(path, start=whole[1].position, limit=2))
    assert [(r.row, r.line, r.data) for r in part] == [(r.row, r.line, r.data) for r in whole[1:3]]
    rest = list(read_records(path, start=whole[3].position))
    assert [r.data["id"] for r in rest] == ["4"]


# -- bad records ------------------------------------------------------------------


def test_malformed_json_names_file_line_and_column_once(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": 1}\n{"title": "abc\n[1, 2]\n')
    bad = [r for r in read_records(path) if not r.ok]
    assert bad[0].problem == f"{path}: line 2, column 11: malformed JSON: unterminated string"
    assert bad[1].problem == f"{path}: line 3: expected a JSON object, got a list"
    assert all(" at at " not in r.problem for r in bad)


def test_a_row_with_the_wrong_number_of_fields_is_bad(tmp_path: Path) -> None:
    path = tmp_path / "a.tsv"
    path.write_text("id\ttitle\n1\tA\n2\n3\tC\textra\n")
    records = list(read_records(path))
    assert [r.problem for r in records if not r.ok] == [
        f"{path}: line 3: has 1 field, the header has 2",
        f"{path}: line 4: has 3 fields, the header has 2",
    ]


def test_files_that_cannot_be_read_raise_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match=r"^\S*nope.csv: no such file$"):
        list(read_records(tmp_path / "nope.csv"))
    with pytest.raises(RecordError, match="is a directory"):
        list(read_records(tmp_path, "csv"))
    with pytest.raises(RecordError, match="unknown input format"):
        list(read_records(tmp_path / "a.xlsx"))
    broken = tmp_path / "a.jsonl.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(RecordError, match=r"a.jsonl.gz: cannot read"):
        list(read_records(broken))
    bad_parquet = tmp_path / "a.parquet"
    bad_parquet.write_bytes(b"PAR1 nonsense")
    with pytest.raises(RecordError, match="not a readable Parquet file"):
        list(read_records(bad_parquet))


def test_text_streams_and_headers(tmp_path: Path) -> None:
    records = list(read_records("<stdin>", "jsonl", stream=['\ufeff{"a": 1}\n', "\n", "{"]))
    assert records[0].data == {"a": 1} and records[1].where == "<stdin>: line 3, column 2"
    path = tmp_path / "a.csv"
    path.write_bytes(BOM + b" id , title\n1,A\n")
    assert read_header(path) == ["id", "title"]
    lines = tmp_path / "aliases.tsv"
    lines.write_bytes(BOM + b"Spain\tEspa\xc3\xb1a\r\nbad\xff\n")
    assert list(read_lines(lines)) == [
        (1, "Spain\tEspaña", None),
        (2, "bad\ufffd", "not UTF-8 text (byte 0xff at column 4)"),
    ]


# -- the commands, as subprocesses -------------------------------------------------


def test_batch_keeps_the_ids_of_an_excel_csv_with_bom(tmp_path: Path) -> None:
    src = tmp_path / "excel.csv"
    src.write_bytes(
        BOM
        + _csv_bytes(
            [
                ["id", "title", "body"],
                ["A1", STORY["title"], STORY["body"]],
                ["A2", "", ""],
                ["A3", "Floods in Italy", "Rivers burst in Venice."],
            ]
        )
    )
    out = tmp_path / "out.jsonl"
    proc = run_cli("batch", str(src), "--out", str(out), "--model", "none", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(r["id"], r["row"]) for r in rows] == [("A1", 1), ("A3", 3)]
    rejects = [json.loads(x) for x in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert [(r["id"], r["row"]) for r in rejects] == [("A2", 2)]
    assert rejects[0]["reason"].startswith(f"{src}: line 3: ")


def test_batch_rejects_name_file_line_and_column(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        json.dumps({"id": "a", **STORY}).encode()
        + b'\n{"id": "b", "title": "x\n'
        + b'{"id": "c", "title": "Caf\xe9"}\n'
    )
    out = tmp_path / "out.jsonl"
    proc = run_cli("batch", str(src), "--out", str(out), "--model", "none", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    rejects = [json.loads(x) for x in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert [r["reason"] for r in rejects] == [
        f"{src}: line 2, column 22: malformed JSON: unterminated string",
        f"{src}: line 3: not UTF-8 text (byte 0xe9 at column 26)",
    ]


def test_index_build_reads_an_excel_csv_with_bom_and_add_names_duplicates(tmp_path: Path) -> None:
    src = tmp_path / "headlines.csv"
    src.write_bytes(
        BOM
        + _csv_bytes(
            [
                ["id", "headline"],
                ["q1", "Earthquake strikes Japan"],
                ["r1", "Central bank raises rates"],
                ["f1", "Wildfires spread on Rhodes"],
            ]
        )
    )
    idx = tmp_path / "idx"
    proc = run_cli("index", "build", str(src), "--out", str(idx), "--no-entities")
    assert proc.returncode == 0 and "indexed 3 headlines" in proc.stderr, proc.stderr
    more = tmp_path / "more.csv"
    more.write_bytes(
        BOM
        + _csv_bytes(
            [
                ["id", "headline"],
                ["n1", "Aftershocks hit Japan"],
                ["r1", "Central bank holds rates"],
            ]
        )
    )
    proc = run_cli("index", "add", str(more), "--index", str(idx))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"error: {more}: line 3: duplicate id 'r1' (already in the index); use --on-duplicate "
        "skip or replace"
    ]


def test_suggest_missing_file_is_one_line(tmp_path: Path) -> None:
    for command in ("suggest", "entities"):
        proc = run_cli(command, "missing.txt", "--model", "none")
        assert proc.returncode == 1
        assert proc.stderr.splitlines() == ["error: missing.txt: no such file"], proc.stderr


def test_suggest_malformed_json_file_says_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"title": "abc')
    proc = run_cli("suggest", str(path), "--model", "none")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"error: {path}: line 1, column 11: malformed JSON: unterminated string"
    ]


def test_suggest_jsonl_reads_the_files_given(tmp_path: Path) -> None:
    good = tmp_path / "articles.jsonl"
    good.write_text(json.dumps({"id": "q1", **STORY}) + "\n")
    proc = run_cli("suggest", "--jsonl", str(good), "--model", "none", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(x)["id"] for x in proc.stdout.splitlines()] == ["q1"]
    text = SAMPLE / "kim-putin-summit.txt"
    proc = run_cli("suggest", "--jsonl", str(text), "--model", "none")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.splitlines()[0].startswith(
        f"error: {text}: line 1, column 1: malformed JSON: expecting value"
    )


@pytest.mark.parametrize("data", ["", "\n  \n"])
def test_suggest_jsonl_with_empty_input_is_an_error(data: str, tmp_path: Path) -> None:
    proc = run_cli("suggest", "--jsonl", "--model", "none", input=data)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.splitlines() == ["error: <stdin>: no JSON lines (empty input)"]
    empty = tmp_path / "empty.jsonl"
    empty.write_text(data)
    proc = run_cli("entities", "--jsonl", str(empty))
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [f"error: {empty}: no JSON lines (empty input)"]


def test_suggest_jsonl_from_stdin_with_bom(tmp_path: Path) -> None:
    data = BOM + json.dumps({"id": "q1", **STORY}).encode() + b"\n"
    proc = run_cli("suggest", "--jsonl", "--model", "none", "--format", "json", input=data)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["id"] == "q1"
