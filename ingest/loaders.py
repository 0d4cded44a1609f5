"""Finding and reading source files into `Document`s. Formats: .txt and .md."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Iterator

from index.records import Document

from .decode import decode_text
from .errors import IngestError, UnsupportedFile

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
MAX_BYTES = 50 * 1024 * 1024


def discover(paths: list[Path]) -> Iterator[tuple[Path, Path]]:
    """(root, file) for every file under `paths`, recursively, in a stable order. Hidden files
    and folders are left out. `root` is what document names are relative to."""
    for path in paths:
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                relative = file.relative_to(path)
                if file.is_file() and not any(part.startswith(".") for part in relative.parts):
                    yield path, file
        else:
            yield path.parent, path


def document_name(root: Path, file: Path) -> str:
    return file.relative_to(root).as_posix()


def load_document(root: Path, file: Path) -> Document:
    """Read and decode one file. Raises an IngestError subclass saying why it can't be used."""
    if file.suffix.lower() not in TEXT_SUFFIXES:
        raise UnsupportedFile(f"unsupported format {file.suffix or '(no extension)'}")
    size = file.stat().st_size
    if size > MAX_BYTES:
        raise IngestError(f"larger than the {MAX_BYTES // (1024 * 1024)} MB limit")
    data = file.read_bytes()
    text, encoding = decode_text(data)
    if not text.strip():
        raise IngestError("empty file")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return Document(
        doc=document_name(root, file),
        title=_title(text, file),
        text=text,
        encoding=encoding,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _title(text: str, file: Path) -> str:
    """A Markdown file's first `# ` heading, otherwise the file name without its extension."""
    if file.suffix.lower() in {".md", ".markdown"}:
        match = re.search(r"^#\s+(.+)$", text, flags=re.MULTILINE)
        if match:
            return match.group(1).strip()
    return file.stem
