"""Crash safety of index commits: a real `python -m ingest` (with its embedding workers) killed
with SIGKILL at random points while another process searches in a loop (slow, real model), and the commit protocol's steps
failing one by one (fast, fake embedder). SYNTHETIC corpus."""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import index.commit as commit
from index.embedder import configured_model
from index.store import IndexDamaged, build_index, open_index
from ingest.chunker import ChunkSettings, chunk_document
from ingest.loaders import discover, load_document

from .conftest import REPO, SYNTHETIC_SIMPLIFIED_GREEN, SYNTHETIC_TRADITIONAL

EXTRA = "案例三 某保險公司的養老金融服務（合成測試文本）\n一、創新背景\n老年客戶需要線上辦理養老金業務。\n"

SEARCHER = r"""
import json, sys
from pathlib import Path
from index.embedder import configured_model, load_embedder
from index.store import open_index
from index.text import TextMatcher
from qa.retrieve import Retriever

index_dir, stop, corpora = Path(sys.argv[1]), Path(sys.argv[2]), [Path(p) for p in sys.argv[3:]]
texts = {f.name: f.read_text(encoding="utf-8") for c in corpora for f in c.iterdir()}
allowed = [sorted(f.name for f in c.iterdir()) for c in corpora]
matcher, embedder = TextMatcher(), load_embedder()
ok, failures, versions = 0, [], set()
while not stop.exists():
    try:
        index = open_index(index_dir, configured_model(), matcher)
        try:
            documents = sorted(index.manifest["documents"])
            assert documents in allowed, f"documents {documents}"
            sizes = (len(index.chunks), index.manifest["chunks"], index.vectors.shape[0], index.dense.ntotal)
            assert len(set(sizes)) == 1, f"sizes {sizes}"
            hits = Retriever(index, embedder, matcher).search("農村小微企業的貸款多久完成審批？", k=3)
            assert len(hits) == 3, f"{len(hits)} hits"
            for hit in hits:  # every passage is verbatim source text
                assert texts[hit.chunk.doc][hit.chunk.start : hit.chunk.end] == hit.chunk.text, f"not verbatim: {hit.chunk.id}"
            versions.add(index.manifest["version"])
            ok += 1
        finally:
            index.hold.release()
    except Exception as exc:
        failures.append(f"{type(exc).__name__}: {exc}")
print(json.dumps({"ok": ok, "failed": len(failures), "failures": failures[:5], "versions": sorted(versions)}))
"""


def _corpora(tmp_path: Path) -> tuple[Path, Path]:
    small, large = tmp_path / "small", tmp_path / "large"
    for folder in (small, large):
        folder.mkdir()
        (folder / "case1_synthetic.txt").write_text(SYNTHETIC_TRADITIONAL, encoding="utf-8")
        (folder / "case2_synthetic.txt").write_text(SYNTHETIC_SIMPLIFIED_GREEN, encoding="utf-8")
    (large / "case3_synthetic.txt").write_text(EXTRA, encoding="utf-8")
    return small, large


def _ingest(corpus: Path, index: Path) -> subprocess.Popen:
    """A real ingest in its own process group: killing the group kills its embedding workers too."""
    return subprocess.Popen(
        [sys.executable, "-m", "ingest", str(corpus), "--index", str(index)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


def _timed_run(corpus: Path, index: Path) -> tuple[float, float]:
    """Seconds until the run's new version folder appears, and until it ends."""
    before = {p.name for p in index.iterdir()} if index.exists() else set()
    start, writing = time.monotonic(), None
    process = _ingest(corpus, index)
    while process.poll() is None:
        if writing is None and index.exists() and any(p.name.startswith("v") and p.name not in before for p in index.iterdir()):
            writing = time.monotonic() - start
        time.sleep(0.02)
    assert process.returncode == 0
    total = time.monotonic() - start
    return writing or total, total


def _usable(index: Path, matcher, corpora: tuple[Path, Path]) -> None:
    opened = open_index(index, configured_model(), matcher, verify=True)
    try:
        assert sorted(opened.manifest["documents"]) in [sorted(f.name for f in c.iterdir()) for c in corpora]
    finally:
        opened.hold.release()


@pytest.mark.slow
def test_kill_9_at_random_points_while_searching(tmp_path, matcher):
    corpora = _corpora(tmp_path)
    index = tmp_path / "idx"
    _timed_run(corpora[0], index)
    stop = tmp_path / "stop"
    searcher = subprocess.Popen(
        [sys.executable, "-c", SEARCHER, str(index), str(stop), *map(str, corpora)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    rng, outcomes, deadline = random.Random(20261127), [], time.monotonic() + 300
    try:
        # Every text embedded once; later runs reuse most. Timed beside the searcher, as the runs
        # below run: timed alone, the kill window ended before any commit on a busy machine.
        writing, total = _timed_run(corpora[1], index)
        for run in range(24):
            if time.monotonic() > deadline and run >= 12:
                break
            process = _ingest(corpora[run % 2], index)
            try:
                process.wait(timeout=rng.uniform(0.5 * writing, 1.1 * total))  # biased towards writing and committing
                outcomes.append("finished")
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                outcomes.append("killed")
            _usable(index, matcher, corpora)  # at once, without any repair
    finally:
        stop.touch()
        found = json.loads(searcher.communicate(timeout=300)[0].strip().splitlines()[-1])
    assert found["failed"] == 0, found
    assert found["ok"] > 0 and len(found["versions"]) >= 2, found
    assert outcomes.count("killed") >= len(outcomes) // 3, outcomes
    _timed_run(corpora[0], index)  # a finished run removes what killed runs left behind
    assert sorted(p.name for p in index.iterdir()) == sorted(["manifest.json", json.loads((index / "manifest.json").read_text())["version"]])


# The commit protocol, step by step, with the fake embedder.

SETTINGS = ChunkSettings()


def _build(corpus: Path, dest: Path, embedder, matcher):
    documents = [load_document(root, f) for root, f in discover([corpus])]
    chunks = [c for d in documents for c in chunk_document(d, SETTINGS)]
    return build_index(documents, chunks, embedder, matcher, SETTINGS.to_json(), dest, sources={d.doc: d.sha256 for d in documents})


class Crash(BaseException):
    """Stands for the process dying at this point (BaseException: nothing may catch it)."""


STEPS = {  # where a writer can die: (function, which call of it), and whether the new version is committed by then
    "writing and sealing files": ("_seal", 1, False),
    "writing the version's own manifest": ("_write_json", 1, False),
    "writing the commit point": ("_write_json", 2, False),
    "renaming the commit point into place": ("os.replace", 2, False),
    "retiring old versions": ("_retire", 1, True),
}


@pytest.mark.parametrize("step", STEPS)
def test_a_writer_dying_at_each_step_leaves_a_complete_index(synthetic_corpus, tmp_path, fake_embedder, matcher, monkeypatch, step):
    dest = tmp_path / "idx"
    _build(synthetic_corpus, dest, fake_embedder, matcher)
    (synthetic_corpus / "case3_synthetic.txt").write_text(EXTRA, encoding="utf-8")
    target, dies_at, committed = STEPS[step]
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == dies_at:
            raise Crash(step)
        return original(*args, **kwargs)

    owner = commit.os if target == "os.replace" else commit
    name = target.split(".")[-1]
    original = getattr(owner, name)
    monkeypatch.setattr(owner, name, dying)
    with pytest.raises(Crash):
        _build(synthetic_corpus, dest, fake_embedder, matcher)
    monkeypatch.setattr(owner, name, original)

    opened = open_index(dest, fake_embedder.name, matcher, verify=True)
    assert ("case3_synthetic.txt" in opened.manifest["documents"]) is committed
    opened.hold.release()
    _build(synthetic_corpus, dest, fake_embedder, matcher)  # the next commit cleans up
    assert sorted(p.name for p in dest.iterdir()) == sorted(["manifest.json", json.loads((dest / "manifest.json").read_text())["version"]])


def test_a_reader_keeps_its_version_until_it_lets_go(synthetic_corpus, tmp_path, fake_embedder, matcher):
    dest = tmp_path / "idx"
    _build(synthetic_corpus, dest, fake_embedder, matcher)
    reader = open_index(dest, fake_embedder.name, matcher)
    (synthetic_corpus / "case3_synthetic.txt").write_text(EXTRA, encoding="utf-8")
    _build(synthetic_corpus, dest, fake_embedder, matcher)
    assert (dest / reader.manifest["version"]).is_dir()  # held: not removed by the commit
    assert "case3_synthetic.txt" not in reader.manifest["documents"]
    assert "case3_synthetic.txt" in open_index(dest, fake_embedder.name, matcher).manifest["documents"]
    reader.hold.release()
    _build(synthetic_corpus, dest, fake_embedder, matcher)
    assert not (dest / reader.manifest["version"]).exists()


def test_a_reader_follows_a_commit_that_retired_its_version_meanwhile(synthetic_corpus, tmp_path, fake_embedder, matcher, monkeypatch):
    dest = tmp_path / "idx"
    _build(synthetic_corpus, dest, fake_embedder, matcher)
    read_commit = commit.read_commit
    stale = read_commit(dest)
    (synthetic_corpus / "case3_synthetic.txt").write_text(EXTRA, encoding="utf-8")
    _build(synthetic_corpus, dest, fake_embedder, matcher)  # retires the version `stale` names
    answers = iter([stale])
    monkeypatch.setattr(commit, "read_commit", lambda d: next(answers, None) or read_commit(d))
    opened = open_index(dest, fake_embedder.name, matcher)
    assert opened.manifest["version"] != stale["version"] and "case3_synthetic.txt" in opened.manifest["documents"]
    opened.hold.release()


def test_a_missing_version_with_an_unmoved_commit_point_is_damage(synthetic_corpus, tmp_path, fake_embedder, matcher):
    dest = tmp_path / "idx"
    _build(synthetic_corpus, dest, fake_embedder, matcher)
    import shutil

    shutil.rmtree(dest / commit.read_commit(dest)["version"])
    with pytest.raises(IndexDamaged, match="version folder v000001/ is missing"):
        open_index(dest, fake_embedder.name, matcher)
