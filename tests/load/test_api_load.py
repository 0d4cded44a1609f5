"""The HTTP API under load (issue 13; `make test-load`): 50 concurrent users for 25 s (and their last requests) against
the real server (one worker per core) on 127.0.0.1 over the real default corpus, a mix of
searches, chat completions and streamed ones, each asking another real question (on-topic and off-topic). No request may fail and every citation must be
verbatim. Latency and throughput are reported here and measured in `python -m bench`; this
test does not judge them (tests never time things)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from bench.api import KINDS, corpus_texts, question_pool, run_load, running_api

from ..conftest import REPO

pytestmark = pytest.mark.load


def test_fifty_users_get_only_verbatim_cited_answers(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    subprocess.run([sys.executable, "-m", "ingest", str(corpus), "--index", str(tmp_path / "index")], cwd=REPO, check=True, capture_output=True)
    questions = question_pool()
    with running_api(tmp_path / "index", tmp_path / "server.log", workers=os.cpu_count() or 1) as server:
        result = run_load(server.url, users=50, seconds=25, questions=questions, texts=corpus_texts(corpus))
    figures = result.figures()
    print(json.dumps(figures, ensure_ascii=False))
    assert figures["errors"] == 0, figures["first_errors"]
    assert all(figures["by_kind"][kind] >= 10 for kind in KINDS), figures["by_kind"]
    assert figures["citations_checked"] >= figures["by_kind"]["search"] * 5  # search hits and answer citations, all verbatim
