"""Finding source files and reading each into a `Document` (formats in `ingest.formats`)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from index.records import Document

from .errors import TooLarge
from .formats import Limits, Ocr, read_document


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


def load_document(root: Path, file: Path, limits: Limits = Limits(), ocr: Ocr | None = None) -> Document:
    """Read one file (scanned pages by `ocr`). Raises an IngestError subclass (or OSError)
    saying why it can't be used."""
    if file.stat().st_size > limits.max_file_bytes:  # refused before reading it into memory
        raise TooLarge(f"larger than the {limits.max_file_bytes // 2**20} MB limit")
    return read_document(document_name(root, file), file.suffix, file.read_bytes(), limits, ocr)
