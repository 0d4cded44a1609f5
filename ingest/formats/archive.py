"""ZIP containers (DOCX, EPUB): opened only after their declared sizes pass the limits, so a
ZIP bomb is refused before anything is inflated. `zipfile` stops reading a member at its
declared size and checks its CRC, so a member cannot lie its way past the cap."""
from __future__ import annotations

import io
import zipfile
import zlib

from ..errors import CorruptDocument, EncryptedDocument, TooLarge
from .extracted import Limits


def open_zip(data: bytes, limits: Limits, kind: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise CorruptDocument(f"damaged {kind}: not a readable ZIP container ({exc})") from exc
    if len(members) > limits.max_zip_members:
        raise TooLarge(f"{kind} holds {len(members)} files, over the limit of {limits.max_zip_members}")
    unpacked = sum(m.file_size for m in members)
    if unpacked > limits.max_unzipped_bytes:
        raise TooLarge(
            f"{kind} unpacks to {unpacked / 2**20:.0f} MB, over the {limits.max_unzipped_bytes // 2**20} MB limit (a ZIP bomb?)"
        )
    return archive


def read_member(archive: zipfile.ZipFile, name: str, kind: str) -> bytes:
    try:
        return archive.read(name)
    except KeyError as exc:
        raise CorruptDocument(f"damaged {kind}: {name} is missing") from exc
    except RuntimeError as exc:  # zipfile's error for a password-protected member
        raise EncryptedDocument(f"encrypted {kind}: {name} needs a password") from exc
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, ValueError, OSError, EOFError) as exc:
        raise CorruptDocument(f"damaged {kind}: {name} cannot be unpacked ({exc})") from exc
