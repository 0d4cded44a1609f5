# The project's commands. Everything it needs is installed here, never by hand.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
INDEX_DIR ?= var/index
export INDEX_DIR

.PHONY: setup run test bench index

setup: $(VENV)/.installed

# torch first, pinned: it is the one wheel that must come from the local CPU build.
$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# Builds the index only when the corpus or the chunking/model settings changed.
index: setup
	$(PY) -m ingest corpus --index $(INDEX_DIR) --if-stale

run: index
	$(PY) -m streamlit run app.py --server.headless true --browser.gatherUsageStats false \
		--server.address 127.0.0.1 --server.port $(PORT)

test: setup
	$(PY) -m pytest

# Quality against peers and speed up to 100k passages; JSON on stdout, report in var/bench/.
bench: setup
	$(PY) -m bench --json --report var/bench/report.md
