"""The HTTP API under load (issue 13; `make test-load`): 50 concurrent users for 30 s against
the real server (one worker per core) on 127.0.0.1 over the real default corpus, a mix of
searches, chat completions and streamed ones. No request may fail and every citation must be
verbatim. Latency and throughput are reported here and measured in `python -m bench`; this
test does not judge them (tests never time things)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from bench.api import KINDS, corpus_texts, run_load, running_api

from ..conftest import REPO

pytestmark = pytest.mark.load

DEV = REPO.parent / "shared" / "eval" / "dev.jsonl"


@pytest.mark.skipif(not DEV.exists(), reason="the shared dev questions are not beside this checkout")
def test_fifty_users_get_only_verbatim_cited_answers(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    subprocess.run([sys.executable, "-m", "ingest", str(corpus), "--index", str(tmp_path / "index")], cwd=REPO, check=True, capture_output=True)
    questions = [json.loads(line)["question"] for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    with running_api(tmp_path / "index", tmp_path / "server.log", workers=os.cpu_count() or 1) as url:
        result = run_load(url, users=50, seconds=30, questions=questions, texts=corpus_texts(corpus))
    figures = result.figures()
    print(json.dumps(figures, ensure_ascii=False))
    assert figures["errors"] == 0, figures["first_errors"]
    assert all(figures["by_kind"][kind] >= 10 for kind in KINDS), figures["by_kind"]
    assert figures["citations_checked"] >= figures["requests"]  # every answer cited something, all verbatim
