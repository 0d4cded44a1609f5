"""Indexes the benchmarks build, cached under the work folder and keyed by corpus content.

Owns where a corpus's index lives (`<work>/indexes/<folder name>-<hash of its files' names and
contents>`) and keeping it current: the shipped `ingest` pipeline runs with `if_stale`, so an
unchanged index is opened as it is, and a change of chunking, dictionary, splitter or model
rebuilds it re-embedding only passages whose text is new. Re-runs are cheap.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from ingest.loaders import discover
from ingest.pipeline import ingest


def index_path(corpus: Path, work: Path) -> Path:
    digest = hashlib.sha256()
    for root, file in sorted(discover([corpus]), key=lambda pair: str(pair[1])):
        digest.update(str(file.relative_to(root)).encode("utf-8") + b"\0" + hashlib.sha256(file.read_bytes()).digest())
    named = "-".join(corpus.resolve().parts[-2:])
    return work / "indexes" / f"{named}-{digest.hexdigest()[:12]}"


def corpus_index(corpus: Path, work: Path, log=lambda message: None) -> Path:
    """The current index of `corpus` (built or updated when needed)."""
    dest = index_path(corpus, work)
    result = ingest([corpus], dest, if_stale=True)
    if result.build is None and not result.up_to_date:
        raise ValueError(f"nothing in {corpus} could be indexed")
    log(f"index of {corpus}: {dest} ({'up to date' if result.up_to_date else f'built, {result.build.embedded} passages embedded'})")
    return dest
