"""Saving uploaded files into the corpus: safe, unique names; nothing is ever overwritten;
nothing over the size cap or of a format we cannot read is written; files the ingest then
refuses are removed again, so the corpus holds only what is indexed.

An uploaded file name is a label chosen by someone else, never a path: only its last
component is kept, stripped to letters (any script), digits and a few punctuation marks.
What one upload may take is capped too: files per batch (`MAX_UPLOAD_FILES`), and a file is
not saved when the disk would be left with less than 1 GB, so visitors cannot fill the disk.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import unicodedata
from pathlib import Path
from typing import Iterable, Mapping

from .errors import NoSpace, TooLarge, UnsupportedFile
from .formats import SUFFIXES, Limits

MAX_NAME_CHARS = 100
MAX_UPLOAD_FILES = 50  # per upload batch; MAX_UPLOAD_FILES in the environment changes it
MIN_FREE_BYTES = 2**30
_UNSAFE = re.compile(r"[^\w\-.()（）\[\] ]+")


def safe_name(uploaded: str) -> str:
    """A file name made from `uploaded` that cannot leave its folder or hide itself."""
    name = unicodedata.normalize("NFC", uploaded).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", "".join(ch for ch in name if ch.isprintable()))
    name = re.sub(r"\s+", " ", name).strip(" ._") or "upload"
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    suffix = suffix.lower()[:10]
    stem = stem[: MAX_NAME_CHARS - len(suffix) - 1].rstrip(" ._") or "upload"
    return f"{stem}.{suffix}" if suffix else stem


def max_upload_files(env: Mapping[str, str] = os.environ) -> int:
    """Files one upload may add (MAX_UPLOAD_FILES, default 50). Raises ValueError naming the setting."""
    value = env.get("MAX_UPLOAD_FILES", "").strip()
    if not value:
        return MAX_UPLOAD_FILES
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"MAX_UPLOAD_FILES is {value!r}: set a whole number of files, at least 1")
    return int(value)


def _check(uploaded_name: str, size: int, limits: Limits) -> None:
    if size > limits.max_file_bytes:
        raise TooLarge(f"{safe_name(uploaded_name)}: larger than the {limits.max_file_bytes // 2**20} MB limit; not saved")
    suffix = Path(safe_name(uploaded_name)).suffix.lower()
    if suffix not in SUFFIXES:
        raise UnsupportedFile(f"{safe_name(uploaded_name)}: unsupported format {suffix or '(no extension)'}; not saved")


def save_upload(
    folder: Path, uploaded_name: str, data: bytes, limits: Limits = Limits(), min_free_bytes: int = MIN_FREE_BYTES,
) -> tuple[Path, bool]:
    """Write `data` into `folder` under a safe, unused name. Returns (path, created); when the
    same bytes are already there under that name (or a numbered variant), nothing is written.
    Raises TooLarge (over `limits.max_file_bytes`), UnsupportedFile (an extension the ingest
    does not read) or NoSpace (the disk would keep less than `min_free_bytes`) before writing
    anything."""
    _check(uploaded_name, len(data), limits)
    folder.mkdir(parents=True, exist_ok=True)
    if shutil.disk_usage(folder).free - len(data) < min_free_bytes:
        raise NoSpace(f"{safe_name(uploaded_name)}: not saved: the disk would have less than {min_free_bytes / 2**30:.1f} GB free")
    name = safe_name(uploaded_name)
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    digest = hashlib.sha256(data).digest()
    for number in range(1, 10_000):
        candidate = folder / (name if number == 1 else f"{stem} ({number}){dot}{suffix}")
        try:
            with open(candidate, "xb") as fh:  # exclusive: never replaces an existing file
                fh.write(data)
            return candidate, True
        except FileExistsError:
            if hashlib.sha256(candidate.read_bytes()).digest() == digest:
                return candidate, False
    raise FileExistsError(f"too many files named like {name!r} in {folder}")


def remove_refused(saved: Iterable[Path], root: Path, refused: Iterable[str]) -> list[Path]:
    """Delete the `saved` uploads whose name relative to `root` (as the ingest reports it)
    is among the `refused` ones; returns those deleted. A refused upload would otherwise stay
    in the corpus, refused again on every ingest."""
    refused = set(refused)
    removed = [path for path in saved if path.relative_to(root).as_posix() in refused]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed
