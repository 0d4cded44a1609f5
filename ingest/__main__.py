"""`python -m ingest [PATH ...] --index DIR`: build or update the index from files.

Prints one line per file (indexed / skipped / error, with the reason). Exits 0 when at least
one document is indexed; otherwise exits 1 and leaves an existing index exactly as it was.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from index.embedder import EmbedderError, configured_model, load_embedder
from index.records import Chunk, Document
from index.store import build_index, default_index_dir, read_manifest
from index.text import TextMatcher

from .chunker import ChunkSettings, chunk_document
from .errors import IngestError, UnsupportedFile
from .loaders import discover, document_name, load_document


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[Path("corpus")], metavar="PATH")
    parser.add_argument("--index", type=Path, default=None, help="index directory (default: $INDEX_DIR or var/index)")
    parser.add_argument("--if-stale", action="store_true", help="do nothing when the index already matches the files and settings")
    return parser.parse_args(argv)


def _is_current(manifest: dict | None, sources: dict[str, str], settings: ChunkSettings, matcher: TextMatcher) -> bool:
    return bool(manifest) and (
        manifest.get("sources") == sources
        and manifest.get("embedding_model") == configured_model()
        and manifest.get("chunking") == settings.to_json()
        and manifest.get("dictionary_hash") == matcher.dictionary_hash
    )


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    index_dir = args.index or default_index_dir()
    settings = ChunkSettings()
    matcher = TextMatcher()
    for path in args.paths:
        if not path.exists():
            print(f"error    {path}: no such file or folder")
    files = [(document_name(root, f), root, f) for root, f in discover([p for p in args.paths if p.exists()])]
    sources = {name: hashlib.sha256(f.read_bytes()).hexdigest() for name, _, f in files}
    if args.if_stale and _is_current(read_manifest(index_dir), sources, settings, matcher):
        print(f"index at {index_dir} is up to date")
        return 0

    documents: list[Document] = []
    chunks: list[Chunk] = []
    for name, root, file in files:
        try:
            document = load_document(root, file)
        except UnsupportedFile as exc:
            print(f"skipped  {name}: {exc}")
            continue
        except (IngestError, OSError) as exc:
            print(f"error    {name}: {exc}")
            continue
        document_chunks = chunk_document(document, settings)
        if not document_chunks:
            print(f"error    {name}: no text to index")
            continue
        documents.append(document)
        chunks.extend(document_chunks)

    if not documents:
        print(f"nothing indexed; the index at {index_dir} is unchanged", file=sys.stderr)
        return 1
    try:
        report = build_index(documents, chunks, load_embedder(batch=True), matcher, settings.to_json(), index_dir, sources)
    except EmbedderError as exc:
        print(f"error: {exc}; the index at {index_dir} is unchanged", file=sys.stderr)
        return 1
    for document in documents:
        count = sum(1 for c in chunks if c.doc == document.doc)
        print(f"indexed  {document.doc}: {count} chunks, {document.encoding}")
    print(f"index at {index_dir}: {report.chunks} chunks ({report.embedded} embedded, {report.reused} reused)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
