"""One ingest run as a function: files in, index updated, a result per file out.

Shared by the command line and the app's uploads. Holds the index lock for the whole run;
a new index version is committed only when at least one document was read and the build
completed. Whatever goes wrong with one file (reading, decoding, naming, chunking) is that
file's `error` line and the others go on; only what concerns the whole index fails the run.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Sequence

from index.embedder import configured_model, load_embedder
from index.records import Chunk, Document
from index.sentences import SPLITTER_VERSION
from index.store import SENTENCE_VECTORS, BuildReport, Progress, build_index, index_lock, inspect_index, read_manifest, splitter_version
from index.text import TextMatcher

from .chunker import ChunkSettings, chunk_document
from .errors import IngestError, UnsupportedFile
from .formats import Ocr, OcrSettings, PageDone, describe
from .loaders import discover, load_document
from .names import FileName, file_names
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
    damage: str = ""  # what `if_stale` found damaged in the previous index (then rebuilt)

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
        and splitter_version(manifest) == SPLITTER_VERSION
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


def ocr_cache_dir(index_dir: Path) -> Path:
    """Pages read by OCR, kept beside the index folder (whose contents ingest manages)."""
    return index_dir.with_name(index_dir.name + ".ocr-cache")


def _read(name: FileName, root: Path, file: Path, tagger: Tagger, settings: ChunkSettings, ocr: Ocr) -> tuple[Document, list[Chunk]] | FileResult:
    """The file's document and its tagged chunks, or the result saying why it is skipped or refused."""
    try:
        document = load_document(root, file, name=name, ocr=ocr)
        chunks = tagger.tag(chunk_document(document, settings))
    except UnsupportedFile as exc:
        return FileResult(name.doc, "skipped", _noted(str(exc), name))
    except (IngestError, OSError) as exc:
        return FileResult(name.doc, "error", _noted(str(exc), name))
    except Exception as exc:  # a parser or chunker bug on one odd file must not stop the others
        return FileResult(name.doc, "error", _noted(f"could not be read ({type(exc).__name__}: {exc})", name))
    if not chunks:
        return FileResult(name.doc, "error", _noted("no text to index", name))
    return document, chunks


def _noted(detail: str, name: FileName) -> str:
    return f"{detail} ({name.note})" if name.note else detail


def ingest(
    paths: Sequence[Path],
    index_dir: Path,
    *,
    if_stale: bool = False,
    on_file: Callable[[FileResult], None] = lambda result: None,
    progress: Progress | None = None,
    on_page: Callable[[PageDone], None] | None = None,
    settings: ChunkSettings = ChunkSettings(),
) -> IngestResult:
    """Make the index at `index_dir` hold exactly the readable files under `paths`.
    `on_file` hears each skipped or refused file as soon as it is known; indexed files are
    known only once the build succeeded; `on_page` hears each page read by OCR. `progress` hears
    how far embedding the new passages is. Embeds in this process (on every CPU it may use, or
    the GPU), so the app's uploads embed as fast as the command line. Raises IndexBusy or
    EmbedderError."""
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
                report(FileResult(os.fsencode(path).decode("utf-8", "backslashreplace"), "error", "no such file or folder"))
        found = list(discover([p for p in paths if p.exists()]))
        files = list(zip(file_names(found), found))
        sources = {name.doc: digest for name, (_, f) in files if (digest := _sha256(f))}
        if if_stale:
            previous, damage = inspect_index(index_dir)
            if damage is None and _is_current(previous, sources, chunking, matcher):
                return IngestResult(files=tuple(results), build=None, up_to_date=True)
        else:
            previous, damage = read_manifest(index_dir), None

        documents: list[Document] = []
        chunks: list[Chunk] = []
        named: dict[str, FileName] = {}
        ocr = Ocr(OcrSettings(cache_dir=ocr_cache_dir(index_dir)), on_page)
        for name, (root, file) in files:
            read = _read(name, root, file, tagger, settings, ocr)
            if isinstance(read, FileResult):
                report(read)
                continue
            documents.append(read[0])
            chunks.extend(read[1])
            named[read[0].doc] = name
        if not documents:
            return IngestResult(files=tuple(results), build=None)

        build = build_index(documents, chunks, load_embedder(batch=True), matcher, chunking, index_dir, sources, progress)
        for document in documents:
            count = sum(1 for c in chunks if c.doc == document.doc)
            report(FileResult(document.doc, "indexed", _noted(f"{count} chunks, {describe(document)}", named[document.doc])))
        return IngestResult(files=tuple(results), build=build, changes=_changes(previous, documents), damage=damage.what if damage else "")
