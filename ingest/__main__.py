"""`python -m ingest [PATH ...] --index DIR`: build or update the index from files.

Prints one line per file (indexed / skipped / error, with the reason). Exits 0 when at least
one document is indexed; otherwise exits 1 and leaves an existing index exactly as it was.
The index then holds exactly the files found under PATH: new and changed files are
(re)indexed, deleted ones dropped, and only passages whose text is new are embedded. One
ingest at a time per index: a second one exits 1 at once, naming the first.

`--verify` checks the index instead (every file's size and checksum, then opens it): one line,
exit 0 when intact, 1 when not. `--if-stale` checks it the same way and rebuilds a damaged
index, reusing the embeddings whose files are intact.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from index.embedder import EmbedderError, configured_model
from index.store import EmbedProgress, IndexBusy, IndexUnavailable, Progress, default_index_dir, open_index
from index.terminal import guard_streams
from index.text import TextMatcher

from .formats import PageDone
from .pipeline import ingest


def _terminal_progress() -> Progress:
    """A progress bar on stderr while new passages are embedded: passages, files, rate and ETA."""
    bar = None

    def update(state: EmbedProgress) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=state.passages_total, desc="embedding", unit="passage", file=sys.stderr, disable=state.passages_total == 0)
        bar.set_postfix_str(f"files {state.files_done}/{state.files_total}", refresh=False)
        bar.update(state.passages_done - bar.n)
        if state.passages_done >= state.passages_total:
            bar.close()

    return update


def _ocr_progress() -> Callable[[PageDone], None]:
    """A progress bar on stderr per document read by OCR; tqdm shows the seconds per page."""
    bar = None

    def update(page: PageDone) -> None:
        nonlocal bar
        if bar is None or bar.desc != f"OCR {page.doc}":
            bar = tqdm(total=page.pages, desc=f"OCR {page.doc}", unit="page", file=sys.stderr)
        bar.update(1)
        if page.page >= page.pages:
            bar.close()

    return update


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[Path("corpus")], metavar="PATH")
    parser.add_argument("--index", type=Path, default=None, help="index directory (default: $INDEX_DIR or var/index)")
    parser.add_argument("--if-stale", action="store_true", help="do nothing when the index is intact and already matches the files and settings")
    parser.add_argument("--verify", action="store_true", help="only check the index: every file's size and checksum, then open it")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    index_dir = args.index or default_index_dir()
    if args.verify:
        return _verify(index_dir)
    try:
        result = ingest(
            args.paths, index_dir, if_stale=args.if_stale,
            on_file=lambda file: print(file.line(), flush=True), progress=_terminal_progress(), on_page=_ocr_progress(),
        )
    except (IndexBusy, EmbedderError) as exc:
        print(f"error: {exc}; the index at {index_dir} is unchanged", file=sys.stderr)
        return 1
    except OSError as exc:  # files are read one by one and never end here: this is writing the index
        print(f"error: could not write the index at {index_dir} ({exc}); the previous version is unchanged", file=sys.stderr)
        return 1
    if result.up_to_date:
        print(f"index at {index_dir} is up to date")
        return 0
    if result.build is None:
        print(f"nothing indexed; the index at {index_dir} is unchanged", file=sys.stderr)
        return 1
    build = result.build
    if result.damage:
        print(f"the index at {index_dir} was damaged ({result.damage}): rebuilt", file=sys.stderr)
    print(
        f"index at {index_dir}: {build.chunks} chunks ({build.embedded} passages embedded as {build.texts_embedded} texts, "
        f"{build.reused} reused); "
        f"documents {result.changes}",
        file=sys.stderr,
    )
    return 0


def _verify(index_dir: Path) -> int:
    try:
        index = open_index(index_dir, configured_model(), TextMatcher(), verify=True)
    except IndexUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    files = index.manifest["files"].values()
    print(
        f"index at {index_dir} is intact: {len(files)} files, {sum(f['size'] for f in files) / 2**20:.1f} MB checked "
        f"({index.manifest['version']}, {len(index.chunks)} chunks)"
    )
    return 0


if __name__ == "__main__":
    guard_streams()  # document text and file names never reach the terminal as control codes
    sys.exit(main())
