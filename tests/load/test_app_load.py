"""A class of 30 opens the app at once (`make test-load`): 30 concurrent sessions of 5
questions each over the default corpus, the app's way (`bench/load.py`), in a fresh process.
No errors, every answer and every citation valid; the timings are `python -m bench`'s."""
import json
import subprocess
import sys

import pytest

from ..conftest import REPO

pytestmark = [pytest.mark.load, pytest.mark.slow]


def test_thirty_concurrent_sessions_get_valid_cited_answers(tmp_path):
    index = tmp_path / "index"
    subprocess.run([sys.executable, "-m", "ingest", "corpus", "--index", str(index)], cwd=REPO, check=True, capture_output=True, timeout=900)
    done = subprocess.run(
        [sys.executable, "-m", "bench.load", "--index", str(index), "--corpus", "corpus", "--sessions", "30", "--questions", "5", "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=1500,
    )
    assert done.stdout.strip(), done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["errors"] == [] and figures["invalid_citations"] == [], figures
    assert figures["answers"] == 150 and done.returncode == 0
