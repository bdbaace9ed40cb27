"""``newstag train`` / ``newstag eval`` as subprocesses, on the sample corpus."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from newstag.paths import REPO_ROOT

SAMPLE = REPO_ROOT / "data" / "sample" / "corpus.jsonl"
pytestmark = pytest.mark.slow


def run(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWSTAG_CACHE_DIR": str(cache), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "newstag", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("cli_model")
    cache = tmp / "cache"
    out = tmp / "model"
    proc = run("train", str(SAMPLE), "--out", str(out), "--folds", "3", cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert "used 34 articles" in proc.stderr
    assert "saved" in proc.stdout
    return out, cache


def test_train_writes_a_bundle_and_caches_entities(trained: tuple[Path, Path]) -> None:
    out, cache = trained
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["pipeline"] == "newstag_ner"
    assert manifest["corpus"]["articles"] == 34
    assert "Spain" in manifest["labels"]
    assert (cache / "entities.sqlite3").exists()


def test_eval_json_and_per_tag(trained: tuple[Path, Path], tmp_path: Path) -> None:
    out, cache = trained
    per_tag = tmp_path / "tags.csv"
    plot = tmp_path / "plot.png"
    proc = run(
        "eval",
        str(SAMPLE),
        "--model",
        str(out),
        "--format",
        "json",
        "--per-tag",
        str(per_tag),
        "--plot",
        str(plot),
        cache=cache,
    )
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(proc.stdout)
    for key in (
        "micro_f1",
        "macro_f1",
        "micro_precision",
        "micro_recall",
        "p_at_5",
        "n_docs",
        "n_tags",
        "p_at_1",
        "r_at_3",
    ):
        assert key in metrics
    assert metrics["n_docs"] == 34
    assert metrics["micro_f1"] > 0.8  # its own training data, templated: must be learned
    rows = list(csv.DictReader(per_tag.open()))
    assert {"tag", "support", "precision", "recall", "f1"} <= set(rows[0])
    assert plot.stat().st_size > 1000


def test_eval_counts_unseen_tags_as_misses(trained: tuple[Path, Path], tmp_path: Path) -> None:
    out, cache = trained
    corpus = tmp_path / "c.jsonl"
    lines = [json.loads(x) for x in SAMPLE.read_text().splitlines()[:5]]
    for rec in lines:
        rec["tags"] = [*rec["tags"], "Never Seen Tag"]
    corpus.write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    proc = run("eval", str(corpus), "--model", str(out), "--format", "json", cache=cache)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(proc.stdout)
    assert metrics["micro_recall"] <= 0.75 + 1e-9  # 4 known tags at best of 5 per article
    assert metrics["unseen_gold_share"] == pytest.approx(0.25)


def test_bad_inputs_give_one_line_errors(trained: tuple[Path, Path], tmp_path: Path) -> None:
    out, cache = trained
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    untagged = tmp_path / "untagged.jsonl"
    untagged.write_text('{"title": "A", "body": "B"}\n')
    badcol = tmp_path / "bad.csv"
    badcol.write_text('title,body,tags\nA,B,"[1, 2]"\n')
    cases = [
        (("train", str(empty), "--out", str(tmp_path / "m1")), "no usable articles"),
        (("train", str(untagged), "--out", str(tmp_path / "m2")), "no article has tags"),
        (("train", str(badcol), "--out", str(tmp_path / "m3")), "tags must be strings"),
        (("train", str(SAMPLE), "--out", str(out)), "not empty"),
        (("eval", str(SAMPLE), "--model", str(tmp_path / "nope")), "no such model folder"),
        (
            ("eval", str(SAMPLE), "--model", str(out), "--pipeline", "en_other"),
            "trained with spaCy pipeline",
        ),
    ]
    for args, message in cases:
        proc = run(*args, cache=cache)
        assert proc.returncode != 0, args
        assert message in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copytree(out, broken, dirs_exist_ok=True)
    (broken / "linker" / "linker.json.gz").write_bytes(b"garbage")
    proc = run("eval", str(SAMPLE), "--model", str(broken), cache=cache)
    assert proc.returncode != 0 and "sha256" in proc.stderr and "Traceback" not in proc.stderr


def test_eval_reads_excel_csv_with_bom_and_names_bad_rows(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    out, cache = trained
    rows = [json.loads(x) for x in SAMPLE.read_text().splitlines()[:4]]
    corpus = tmp_path / "excel.csv"
    with corpus.open("w", encoding="utf-8-sig", newline="") as fh:  # Excel's "CSV UTF-8"
        writer = csv.writer(fh)
        writer.writerow(["id", "title", "body", "tags"])
        for rec in rows[:2]:
            writer.writerow([rec.get("id", ""), rec["title"], rec["body"], ";".join(rec["tags"])])
        writer.writerow(["short", "row"])  # line 4: too few fields
        for rec in rows[2:]:
            writer.writerow([rec.get("id", ""), rec["title"], rec["body"], ";".join(rec["tags"])])
    proc = run("eval", str(corpus), "--model", str(out), "--format", "json", cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["n_docs"] == 4
    assert f"skipped {corpus}: line 4: has 2 fields, the header has 4" in proc.stderr


def test_train_with_tag_aliases_reports_bad_lines(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    _, cache = trained
    aliases = tmp_path / "aliases.tsv"
    aliases.write_text(
        "# tag<TAB>alias\n"
        "Spain\tKingdom of Spain\tEspaña\n"
        "Economy\n"  # line 3: no alias
        '{"tag": "Politics", "aliases": ["Political affairs"]}\n'
        '{"tag": "Japan", "aliases": 5}\n',  # line 5: aliases not a list
        encoding="utf-8",
    )
    out = tmp_path / "with-aliases"
    proc = run(
        "train",
        str(SAMPLE),
        "--out",
        str(out),
        "--folds",
        "3",
        "--tag-aliases",
        str(aliases),
        cache=cache,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"skipped {aliases}: line 3: no alias" in proc.stderr
    assert f"skipped {aliases}: line 5:" in proc.stderr
    assert "3 aliases of 2 tags" in proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tag_aliases"] == {"source": str(aliases), "tags": 2, "aliases": 3}
    assert "tag_thresholds" in manifest["heldout_metrics"]
    from newstag.tagging import load_model

    assert load_model(out).linker_.aliases_["Spain"] == ["Kingdom of Spain", "España"]
    missing = run(
        "train",
        str(SAMPLE),
        "--out",
        str(tmp_path / "m"),
        "--tag-aliases",
        str(tmp_path / "nope.tsv"),
        cache=cache,
    )
    assert missing.returncode != 0 and "no such alias file" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_eval_warns_when_the_test_corpus_is_the_training_corpus(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    out, cache = trained
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["corpus"]["article_fingerprints"]  # recorded at train time
    proc = run("eval", str(SAMPLE), "--model", str(out), "--format", "json", cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert "34 of 34 articles (100%) were in the model's training corpus" in proc.stderr
    assert json.loads(proc.stdout)["train_overlap"] == 1.0
    # a partial overlap, found whatever the ids, tags, case and spacing
    lines = [json.loads(x) for x in SAMPLE.read_text().splitlines()[:4]]
    for n, rec in enumerate(lines):
        rec["id"], rec["tags"] = f"copy-{n}", ["Elsewhere"]
        rec["body"] = "  " + rec["body"].upper().replace(" ", "\n ")
    lines += [
        {
            "id": f"new-{n}",
            "title": f"Unseen story {n}",
            "body": "Rain fell in Oslo.",
            "tags": ["Norway"],
        }
        for n in range(4)
    ]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    proc = run("eval", str(mixed), "--model", str(out), "--format", "json", cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert "4 of 8 articles (50%) were in the model's training corpus" in proc.stderr
    assert json.loads(proc.stdout)["train_overlap"] == 0.5
    fresh = tmp_path / "fresh.jsonl"
    fresh.write_text("\n".join(json.dumps(r) for r in lines[4:]) + "\n")
    proc = run("eval", str(fresh), "--model", str(out), "--format", "json", cache=cache)
    assert proc.returncode == 0 and "training corpus" not in proc.stderr
    assert json.loads(proc.stdout)["train_overlap"] == 0.0


def test_eval_model_none_scores_entity_tags(trained: tuple[Path, Path], tmp_path: Path) -> None:
    _, cache = trained
    corpus = tmp_path / "people.jsonl"
    rows = [
        {
            "id": "a",
            "title": "Angela Merkel visits Paris",
            "body": "German Chancellor Angela Merkel met Emmanuel Macron in Paris on Monday.",
            "tags": ["Angela Merkel", "Emmanuel Macron", "Economy"],
        },
        {
            "id": "b",
            "title": "Storm hits Japan",
            "body": "A storm hit Japan on Tuesday, officials in Tokyo said.",
            "tags": ["Japan"],
        },
    ]
    corpus.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    plot = tmp_path / "none.png"
    proc = run(
        "eval", str(corpus), "--model", "none", "--format", "json", "--plot", str(plot), cache=cache
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "training corpus" not in proc.stderr
    metrics = json.loads(proc.stdout)
    assert metrics["model"] == "none" and metrics["n_docs"] == 2
    # Merkel, Macron and Japan are entity tags; "Economy" is a topic no entity names
    assert metrics["micro_recall"] == pytest.approx(3 / 4)
    assert metrics["p_at_1"] == 1.0
    assert plot.stat().st_size > 1000
    top1 = run(
        "eval", str(corpus), "--model", "none", "--top-k", "1", "--format", "json", cache=cache
    )
    assert json.loads(top1.stdout)["n_predicted"] == 2


def test_eval_scores_what_suggest_prints_or_the_model_alone(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    out, cache = trained
    test = REPO_ROOT / "data" / "sample" / "test.jsonl"
    public = json.loads(
        run("eval", str(test), "--model", str(out), "-f", "json", "-k", "3", cache=cache).stdout
    )
    alone = json.loads(
        run(
            "eval", str(test), "--model", str(out), "-f", "json", "--scores", "model", cache=cache
        ).stdout
    )
    assert (public["scores"], alone["scores"]) == ("suggest", "model")
    assert set(public) == set(alone)  # the same keys either way
    proc = run(
        "suggest", "--jsonl", str(test), "--model", str(out), "-f", "json", "-k", "3", cache=cache
    )
    assert proc.returncode == 0, proc.stderr
    printed = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    if len(printed) == 1 and isinstance(printed[0], list):
        printed = printed[0]
    assert public["n_predicted"] == sum(len(r["tags"]) for r in printed)
    one = json.loads(
        run("eval", str(test), "--model", str(out), "-f", "json", "-k", "1", cache=cache).stdout
    )
    assert one["n_predicted"] <= one["n_docs"] < alone["n_predicted"]  # -k: as suggest -k
