"""`python -m ingest [PATH ...] --index DIR`: build or update the index from files.

Prints one line per file (indexed / skipped / error, with the reason). Exits 0 when at least
one document is indexed; otherwise exits 1 and leaves an existing index exactly as it was.
The index then holds exactly the files found under PATH: new and changed files are
(re)indexed, deleted ones dropped, and only passages whose text is new are embedded. One
ingest at a time per index: a second one exits 1 at once, naming the first.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from index.embedder import EmbedderError, configured_model, load_embedder
from index.records import Chunk, Document
from index.store import IndexBusy, build_index, default_index_dir, index_lock, read_manifest
from index.text import TextMatcher

from .chunker import ChunkSettings, chunk_document
from .errors import IngestError, UnsupportedFile
from .formats import describe
from .loaders import discover, document_name, load_document
from .tags import Tagger


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[Path("corpus")], metavar="PATH")
    parser.add_argument("--index", type=Path, default=None, help="index directory (default: $INDEX_DIR or var/index)")
    parser.add_argument("--if-stale", action="store_true", help="do nothing when the index already matches the files and settings")
    return parser.parse_args(argv)


def _is_current(manifest: dict | None, sources: dict[str, str], chunking: dict, matcher: TextMatcher) -> bool:
    return bool(manifest) and (
        manifest.get("sources") == sources
        and manifest.get("embedding_model") == configured_model()
        and manifest.get("chunking") == chunking
        and manifest.get("dictionary_hash") == matcher.dictionary_hash
    )


def _sha256(file: Path) -> str | None:
    try:
        with open(file, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None  # reading it again will report why


def _changes(manifest: dict | None, documents: list[Document]) -> str:
    before = {name: entry.get("sha256") for name, entry in (manifest or {}).get("documents", {}).items()}
    now = {d.doc: d.sha256 for d in documents}
    kept = now.keys() & before.keys()
    changed = sum(1 for name in kept if now[name] != before[name])
    return (
        f"{len(now.keys() - before.keys())} added, {changed} changed, {len(kept) - changed} unchanged, "
        f"{len(before.keys() - now.keys())} removed"
    )


def _read(name: str, root: Path, file: Path) -> Document | None:
    """The file's document, or None after printing why it is skipped or refused."""
    try:
        return load_document(root, file)
    except UnsupportedFile as exc:
        print(f"skipped  {name}: {exc}")
    except (IngestError, OSError) as exc:
        print(f"error    {name}: {exc}")
    except Exception as exc:  # a parser bug on one odd file must not stop the others
        print(f"error    {name}: could not be read ({type(exc).__name__}: {exc})")
    return None


def _ingest(args: argparse.Namespace, index_dir: Path) -> int:
    settings = ChunkSettings()
    matcher = TextMatcher()
    tagger = Tagger(matcher.normalize)
    chunking = {**settings.to_json(), "taxonomy_hash": tagger.taxonomy_hash}
    for path in args.paths:
        if not path.exists():
            print(f"error    {path}: no such file or folder")
    files = [(document_name(root, f), root, f) for root, f in discover([p for p in args.paths if p.exists()])]
    sources = {name: digest for name, _, f in files if (digest := _sha256(f))}
    previous = read_manifest(index_dir)
    if args.if_stale and _is_current(previous, sources, chunking, matcher):
        print(f"index at {index_dir} is up to date")
        return 0

    documents: list[Document] = []
    chunks: list[Chunk] = []
    for name, root, file in files:
        document = _read(name, root, file)
        if document is None:
            continue
        document_chunks = tagger.tag(chunk_document(document, settings))
        if not document_chunks:
            print(f"error    {name}: no text to index")
            continue
        documents.append(document)
        chunks.extend(document_chunks)

    if not documents:
        print(f"nothing indexed; the index at {index_dir} is unchanged", file=sys.stderr)
        return 1
    try:
        report = build_index(documents, chunks, load_embedder(), matcher, chunking, index_dir, sources)
    except EmbedderError as exc:
        print(f"error: {exc}; the index at {index_dir} is unchanged", file=sys.stderr)
        return 1
    for document in documents:
        count = sum(1 for c in chunks if c.doc == document.doc)
        print(f"indexed  {document.doc}: {count} chunks, {describe(document)}")
    print(
        f"index at {index_dir}: {report.chunks} chunks ({report.embedded} embedded, {report.reused} reused); "
        f"documents {_changes(previous, documents)}",
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    index_dir = args.index or default_index_dir()
    try:
        with index_lock(index_dir):
            return _ingest(args, index_dir)
    except IndexBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
