"""Cost of the index's self-checks, side by side on one index: opening it with the checks done
on every open (file sizes, headers, shapes against the manifest) and with full verification
(every file's checksum too, as `python -m ingest --verify` and `--if-stale` do)."""
from __future__ import annotations

import statistics
import time
from pathlib import Path

from index.store import open_index, read_manifest
from index.text import TextMatcher


def measure_checks(index_dir: Path, matcher: TextMatcher, repeats: int = 3) -> dict:
    """Median seconds to open the index at `index_dir` without and with full verification,
    alternating the two so that both see the same page cache and load."""
    manifest = read_manifest(index_dir)
    seconds: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(repeats):
        for verify in (False, True):
            start = time.perf_counter()
            index = open_index(index_dir, manifest["embedding_model"], matcher, verify=verify)
            seconds[verify].append(time.perf_counter() - start)
            index.hold.release()
    cheap, full = statistics.median(seconds[False]), statistics.median(seconds[True])
    size = sum(f["size"] for f in manifest["files"].values())
    return {
        "chunks": manifest["chunks"],
        "files": len(manifest["files"]),
        "index_mb": round(size / 2**20, 1),
        "open_s": round(cheap, 3),
        "open_verified_s": round(full, 3),
        "verified_over_open": round(full / cheap, 2),
        "checksum_mb_per_s": round(size / 2**20 / max(full - cheap, 1e-9)),
    }
