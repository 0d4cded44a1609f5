"""Index versions: committed atomically, checked when opened, removed only when unused.

An index folder holds numbered version folders (`v000007/`) and one commit point,
`manifest.json`, which names the current version and records each of its files with its size
and xxh3 checksum (and carries a checksum of itself). A writer fills a new version folder, makes
its files durable, and commits by replacing `manifest.json` with one atomic `os.replace`: the
folder holds a complete committed version whatever moment a process dies at, and a crashed
writer leaves at most an uncommitted folder that the next commit removes. A reader reads the
commit point once and keeps its version with a shared `flock` on the version folder for as long
as it holds it; after a commit, old versions are removed only when no reader holds them. Each
version folder keeps a copy of its manifest, so a rebuild can still trust its files when the
commit point itself is lost.

Owns the layout, commits, holds and the checks (sizes always, checksums when asked). What the
files contain and mean is `index.store`'s.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import weakref
from pathlib import Path
from typing import Callable, Iterable, Iterator

import xxhash

from .errors import IndexDamaged, IndexMismatch, IndexMissing

FORMAT = 2  # 2: versioned folders and a checksummed commit point
MANIFEST = "manifest.json"
_VERSION = re.compile(r"v\d{6}")
_BLOCK = 1 << 20


def _digest(path: Path) -> str:
    digest = xxhash.xxh3_64()
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _self_checksum(manifest: dict) -> str:
    body = json.dumps({k: v for k, v in manifest.items() if k != "checksum"}, sort_keys=True, ensure_ascii=True)
    return xxhash.xxh3_64_hexdigest(body.encode("ascii"))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json(path: Path, data: dict) -> None:
    """Replace `path` with `data` in one atomic step, durably."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, ensure_ascii=False, indent=2))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temporary, path)
    _fsync(path.parent)


def _versions(dest: Path) -> list[Path]:
    try:
        return sorted(p for p in dest.iterdir() if _VERSION.fullmatch(p.name) and p.is_dir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def _parse(dest: Path, path: Path, raw: bytes) -> dict:
    """A manifest's content, checked against its own checksum."""
    where = path.relative_to(dest).as_posix()
    try:
        manifest = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise IndexDamaged(dest, f"{where} is not valid JSON ({len(raw):,} bytes)") from None
    if not isinstance(manifest, dict):
        raise IndexDamaged(dest, f"{where} is not a manifest")
    if manifest.get("format") != FORMAT:
        raise IndexMismatch(f"index at {dest} has format {manifest.get('format')}, this version reads {FORMAT}; rebuild it with `python -m ingest`")
    if manifest.get("checksum") != _self_checksum(manifest):
        raise IndexDamaged(dest, f"{where} was altered (its checksum does not match)")
    if not _VERSION.fullmatch(str(manifest.get("version"))) or not isinstance(manifest.get("files"), dict):
        raise IndexDamaged(dest, f"{where} does not name its version and files")
    return manifest


def read_commit(dest: Path) -> dict:
    """The committed manifest. Raises IndexMissing, IndexMismatch (another format) or IndexDamaged."""
    try:
        raw = (dest / MANIFEST).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        if _versions(dest):
            raise IndexDamaged(dest, f"{MANIFEST} is missing") from None
        raise IndexMissing(f"no index at {dest}; build one with `python -m ingest corpus --index {dest}`") from None
    return _parse(dest, dest / MANIFEST, raw)


def check_files(dest: Path, manifest: dict, full: bool, names: Iterable[str] | None = None) -> None:
    """Raise IndexDamaged naming the first of the version's files (all, or `names`) that is
    missing or has another size than recorded, or, when `full`, another checksum."""
    folder = dest / manifest["version"]
    for name in manifest["files"] if names is None else names:
        record = manifest["files"].get(name)
        if record is None:
            raise IndexDamaged(dest, f"{MANIFEST} does not list {name}")
        try:
            size = (folder / name).stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            raise IndexDamaged(dest, f"{manifest['version']}/{name} is missing") from None
        if size != record["size"]:
            how = "truncated" if size < record["size"] else "longer than recorded"
            raise IndexDamaged(dest, f"{manifest['version']}/{name} is {how} ({size:,} bytes, {record['size']:,} expected)")
        if full and _digest(folder / name) != record["xxh3"]:
            raise IndexDamaged(dest, f"{manifest['version']}/{name} was altered (its checksum does not match)")


class Hold:
    """A reader's shared lock on one committed version. Released by `release()` or when the
    holder is garbage-collected; the operating system releases it when the process ends."""

    def __init__(self, dest: Path, manifest: dict, fd: int):
        self.dest, self.manifest = dest, manifest
        self.folder = dest / manifest["version"]
        self.release = weakref.finalize(self, os.close, fd)


def hold_current(dest: Path, full: bool = False, attempts: int = 5) -> Hold:
    """Hold the committed version after checking its files (sizes; checksums when `full`).
    A commit that retires the version in between is noticed and the new one is held instead.
    Raises IndexMissing, IndexMismatch or IndexDamaged."""
    for attempt in range(attempts):
        manifest = read_commit(dest)
        try:
            fd = os.open(dest / manifest["version"], os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            problem = IndexDamaged(dest, f"its version folder {manifest['version']}/ is missing")
        else:
            fcntl.flock(fd, fcntl.LOCK_SH)  # waits while a writer is removing it
            hold = Hold(dest, manifest, fd)
            try:
                check_files(dest, manifest, full)
                return hold
            except IndexDamaged as exc:
                hold.release()
                problem = exc
        if _commit_moved(dest, manifest) and attempt < attempts - 1:
            continue
        raise problem
    raise AssertionError("unreachable")


def _commit_moved(dest: Path, manifest: dict) -> bool:
    try:
        return read_commit(dest)["version"] != manifest["version"]
    except (IndexMissing, IndexMismatch, IndexDamaged):
        return False


def trusted_versions(dest: Path) -> Iterator[tuple[Path, dict]]:
    """(folder, manifest) of versions whose manifest is intact: the committed one first, then
    the others' own copies, newest first. Their files still need checking before use."""
    seen = set()
    try:
        manifest = read_commit(dest)
        seen.add(manifest["version"])
        yield dest / manifest["version"], manifest
    except (IndexMissing, IndexMismatch, IndexDamaged):
        pass
    for folder in reversed(_versions(dest)):
        if folder.name in seen:
            continue
        try:
            manifest = _parse(dest, folder / MANIFEST, (folder / MANIFEST).read_bytes())
        except (OSError, IndexMismatch, IndexDamaged):
            continue
        if manifest["version"] == folder.name:
            yield folder, manifest


def _new_folder(dest: Path) -> tuple[Path, int]:
    """A new, empty version folder, held exclusively so that no commit removes it while it is written."""
    dest.mkdir(parents=True, exist_ok=True)
    number = max((int(p.name[1:]) for p in _versions(dest)), default=0) + 1
    while True:
        folder = dest / f"v{number:06d}"
        try:
            folder.mkdir()
            break
        except FileExistsError:
            number += 1
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return folder, fd


def _seal(folder: Path, manifest: dict) -> dict:
    """`manifest` with the version's name, each file's size and checksum, and its own checksum;
    the files are made durable first."""
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        _fsync(path)
        files[path.relative_to(folder).as_posix()] = {"size": path.stat().st_size, "xxh3": _digest(path)}
    for sub in {p.parent for p in folder.rglob("*")} | {folder}:
        _fsync(sub)
    sealed = {**manifest, "version": folder.name, "files": files}
    sealed.pop("checksum", None)
    return {**sealed, "checksum": _self_checksum(sealed)}


def commit_version(dest: Path, write: Callable[[Path], dict], leftovers: Iterable[str] = ()) -> dict:
    """Write a new version of the index at `dest` with `write(folder)`, which fills the folder
    and returns its manifest, then commit it and retire what no reader holds any more (older
    versions, uncommitted folders of crashed writers, and `leftovers`: names of an older
    layout's files). Returns the committed manifest. Until the commit point is replaced,
    readers and a crash see only the previous version. Callers keep writers one at a time."""
    folder, fd = _new_folder(dest)
    try:
        manifest = _seal(folder, write(folder))
        _write_json(folder / MANIFEST, manifest)
        _write_json(dest / MANIFEST, manifest)  # the commit
    except BaseException:
        if not _is_committed(dest, folder):
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        os.close(fd)
    _retire(dest, folder.name, leftovers)
    return manifest


def _is_committed(dest: Path, folder: Path) -> bool:
    try:
        return json.loads((dest / MANIFEST).read_bytes()).get("version") == folder.name
    except (OSError, ValueError, AttributeError):
        return False


def _retire(dest: Path, current: str, leftovers: Iterable[str]) -> None:
    """Remove versions other than `current` that no reader or writer holds, temporary commit
    files, and `leftovers`."""
    for folder in _versions(dest):
        if folder.name == current:
            continue
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a reader holds it: a later commit removes it
        else:
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            os.close(fd)
    for path in dest.glob(f".{MANIFEST}.*.tmp"):
        path.unlink(missing_ok=True)
    for name in leftovers:
        path = dest / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
