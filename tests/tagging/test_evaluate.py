"""Metrics: micro/macro P/R/F1, P@k, R@k; unseen gold tags count as misses."""

from __future__ import annotations

import pytest

from newstag.tagging.evaluate import evaluate


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


def test_fingerprints_find_copies_whatever_the_spacing_and_case() -> None:
    from types import SimpleNamespace

    from newstag.tagging.evaluate import pack_fingerprints, training_overlap

    train = [SimpleNamespace(title=f"Story {n}", body=f"Body of story {n}.") for n in range(5)]
    manifest = {"corpus": {"article_fingerprints": pack_fingerprints(train)}}
    test = [
        SimpleNamespace(title="STORY 1", body="  Body of\nstory 1. "),
        SimpleNamespace(title="Story 9", body="Body of story 9."),
    ]
    assert training_overlap(test, manifest) == 0.5
    assert training_overlap(test[1:], manifest) == 0.0
    assert training_overlap(test, {"corpus": {}}) is None


def test_plot_title_says_how_many_tags_it_shows() -> None:
    from newstag.tagging.evaluate import PLOT_TAGS, plot_evaluation

    gold = [[f"t{i}"] for i in range(16)]
    ranked = [[{"tag": f"t{i}", "score": 0.9}, {"tag": "x", "score": 0.1}] for i in range(16)]
    ev = evaluate(gold, [["t0"]] * 16, [[c["tag"] for c in r] for r in ranked])
    fig = plot_evaluation(ev, ranked, gold)
    bars, curve = fig.axes
    assert bars.get_title() == "Per-tag F1 of all 16 gold tags"
    assert len(bars.patches) == 16  # "x" is predicted but never gold: not a bar
    many = [[f"t{i}"] for i in range(40)]
    ev = evaluate(many, many)
    fig = plot_evaluation(ev, [[{"tag": g[0], "score": 1.0}] for g in many], many)
    assert fig.axes[0].get_title() == f"Per-tag F1 of the {PLOT_TAGS} most frequent of 40 gold tags"
    assert len(fig.axes[0].patches) == PLOT_TAGS
