"""One ingest run as a function: files in, index updated, a result per file out.

Shared by the command line and the app's uploads. Holds the index lock for the whole run;
the index is swapped in only when at least one document was read and the build completed.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Sequence

from index.embedder import configured_model, load_embedder
from index.records import Chunk, Document
from index.store import SENTENCE_VECTORS, BuildReport, Progress, build_index, index_lock, read_manifest
from index.text import TextMatcher

from .chunker import ChunkSettings, chunk_document
from .errors import IngestError, UnsupportedFile
from .formats import describe
from .loaders import discover, document_name, load_document
from .tags import Tagger

Status = Literal["indexed", "skipped", "error"]


@dataclass(frozen=True)
class FileResult:
    name: str
    status: Status
    detail: str  # "12 chunks, pdf, 4 pages", or why the file was skipped or refused

    def line(self) -> str:
        return f"{self.status:<8} {self.name}: {self.detail}"


@dataclass(frozen=True)
class IngestResult:
    files: tuple[FileResult, ...]
    build: BuildReport | None  # None: the index was left as it was
    changes: str = ""  # "1 added, 0 changed, …" against the previous index
    up_to_date: bool = False

    @property
    def indexed(self) -> int:
        return sum(1 for f in self.files if f.status == "indexed")


def _sha256(file: Path) -> str | None:
    try:
        with open(file, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None  # reading it again will report why


def _is_current(manifest: dict | None, sources: dict[str, str], chunking: dict, matcher: TextMatcher) -> bool:
    return bool(manifest) and (
        manifest.get("sources") == sources
        and manifest.get("embedding_model") == configured_model()
        and manifest.get("chunking") == chunking
        and manifest.get("dictionary_hash") == matcher.dictionary_hash
        and manifest.get("sentence_vectors") == SENTENCE_VECTORS
    )


def _changes(manifest: dict | None, documents: list[Document]) -> str:
    before = {name: entry.get("sha256") for name, entry in (manifest or {}).get("documents", {}).items()}
    now = {d.doc: d.sha256 for d in documents}
    kept = now.keys() & before.keys()
    changed = sum(1 for name in kept if now[name] != before[name])
    return (
        f"{len(now.keys() - before.keys())} added, {changed} changed, {len(kept) - changed} unchanged, "
        f"{len(before.keys() - now.keys())} removed"
    )


def _read(name: str, root: Path, file: Path) -> Document | FileResult:
    """The file's document, or the result saying why it is skipped or refused."""
    try:
        return load_document(root, file)
    except UnsupportedFile as exc:
        return FileResult(name, "skipped", str(exc))
    except (IngestError, OSError) as exc:
        return FileResult(name, "error", str(exc))
    except Exception as exc:  # a parser bug on one odd file must not stop the others
        return FileResult(name, "error", f"could not be read ({type(exc).__name__}: {exc})")


def ingest(
    paths: Sequence[Path],
    index_dir: Path,
    *,
    if_stale: bool = False,
    on_file: Callable[[FileResult], None] = lambda result: None,
    progress: Progress | None = None,
    settings: ChunkSettings = ChunkSettings(),
) -> IngestResult:
    """Make the index at `index_dir` hold exactly the readable files under `paths`.
    `on_file` hears each skipped or refused file as soon as it is known; indexed files are
    known only once the build succeeded. `progress` hears how far embedding the new passages
    is. Embeds in this process (on every CPU it may use, or the GPU), so the app's uploads
    embed as fast as the command line. Raises IndexBusy or EmbedderError."""
    with index_lock(index_dir):
        matcher = TextMatcher()
        tagger = Tagger(matcher.normalize)
        chunking = {**settings.to_json(), "taxonomy_hash": tagger.taxonomy_hash}
        results: list[FileResult] = []

        def report(result: FileResult) -> None:
            results.append(result)
            on_file(result)

        for path in paths:
            if not path.exists():
                report(FileResult(str(path), "error", "no such file or folder"))
        files = [(document_name(root, f), root, f) for root, f in discover([p for p in paths if p.exists()])]
        sources = {name: digest for name, _, f in files if (digest := _sha256(f))}
        previous = read_manifest(index_dir)
        if if_stale and _is_current(previous, sources, chunking, matcher):
            return IngestResult(files=tuple(results), build=None, up_to_date=True)

        documents: list[Document] = []
        chunks: list[Chunk] = []
        for name, root, file in files:
            read = _read(name, root, file)
            if isinstance(read, FileResult):
                report(read)
                continue
            document_chunks = tagger.tag(chunk_document(read, settings))
            if not document_chunks:
                report(FileResult(name, "error", "no text to index"))
                continue
            documents.append(read)
            chunks.extend(document_chunks)
        if not documents:
            return IngestResult(files=tuple(results), build=None)

        build = build_index(documents, chunks, load_embedder(batch=True), matcher, chunking, index_dir, sources, progress)
        for document in documents:
            count = sum(1 for c in chunks if c.doc == document.doc)
            report(FileResult(document.doc, "indexed", f"{count} chunks, {describe(document)}"))
        return IngestResult(files=tuple(results), build=build, changes=_changes(previous, documents))
