"""all-MiniLM-L6-v2 in PyTorch (sentence-transformers), for the scripts that retrain or export it.

No newstag command imports this module: ``--semantic`` runs the same weights on onnxruntime
(:mod:`newstag.encoders.minilm_full`). ``scripts/finetune_minilm.py``,
``scripts/export_minilm_onnx.py`` and ``scripts/export_minilm_graph.py`` use it; they need the
``retrain`` extra (torch, sentence-transformers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from newstag.encoders import adapter, weights


def sentence_transformer(adapter_path: str | Path | None = None) -> Any:
    """A fresh MiniLM ``SentenceTransformer`` on the CPU, loaded from the weights package (never
    downloaded), with the adapter at ``adapter_path`` merged when given."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(weights.minilm_dir()), device="cpu", local_files_only=True)
    if adapter_path is not None:
        adapter.merge(model[0].auto_model, str(adapter_path))
    return model
