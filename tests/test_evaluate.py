"""Metrics: micro/macro P/R/F1, P@k, R@k; unseen gold tags count as misses."""

from __future__ import annotations

import pytest

from newstag.evaluate import evaluate


def test_micro_macro_and_at_k() -> None:
    gold = [["a", "b"], ["a"], ["c"]]
    pred = [["a"], ["a", "b"], []]
    ranked = [["a", "c", "b"], ["a", "b"], ["b", "c"]]
    m = evaluate(gold, pred, ranked).metrics
    # tp: a, a = 2; fp: b = 1; fn: b, c = 2
    assert m["micro_precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["micro_recall"] == pytest.approx(2 / 4, abs=1e-4)
    assert m["micro_f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 2), abs=1e-4)
    # per tag F1: a = 1, b = 0, c = 0 (macro over gold labels a, b, c)
    assert m["macro_f1"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["p_at_1"] == pytest.approx((1 + 1 + 0) / 3, abs=1e-4)
    assert m["r_at_3"] == pytest.approx((1 + 1 + 1) / 3, abs=1e-4)
    assert m["n_docs"] == 3 and m["n_tags"] == 3


def test_unseen_tags_are_misses_and_label_filter() -> None:
    gold = [["a", "new"], ["a"]]
    pred = [["a"], ["a"]]
    m = evaluate(gold, pred, known={"a"}).metrics
    assert m["micro_recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["unseen_gold_share"] == pytest.approx(1 / 3, abs=1e-4)
    only_a = evaluate(gold, pred, labels={"a"}).metrics
    assert only_a["micro_f1"] == 1.0


def test_per_tag_rows_and_length_check() -> None:
    ev = evaluate([["x"], ["y"]], [["x"], ["x"]])
    rows = {r["tag"]: r for r in ev.per_tag}
    assert rows["x"]["tp"] == 1 and rows["x"]["fp"] == 1 and rows["y"]["fn"] == 1
    with pytest.raises(ValueError):
        evaluate([["x"]], [])
