"""Finding source files and reading each into a `Document` (formats in `ingest.formats`,
file names in `ingest.names`)."""
from __future__ import annotations

import dataclasses
from pathlib import Path, PurePosixPath
from typing import Iterator

from index.records import Document

from .errors import TooLarge
from .formats import Limits, read_document
from .names import FileName, file_names


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


def load_document(root: Path, file: Path, limits: Limits = Limits(), name: FileName | None = None) -> Document:
    """Read one file, named `name` (by default: its name among the files of its own folder).
    Raises an IngestError subclass (or OSError) saying why it can't be used."""
    name = name or file_names([(root, file)])[0]
    if file.stat().st_size > limits.max_file_bytes:  # refused before reading it into memory
        raise TooLarge(f"larger than the {limits.max_file_bytes // 2**20} MB limit")
    document = read_document(name.doc, PurePosixPath(name.doc).suffix, file.read_bytes(), limits)
    return dataclasses.replace(document, path_bytes=name.escaped) if name.escaped else document
