"""Plain text and Markdown: decoded (see `ingest.decode`) with line ends unified."""
from __future__ import annotations

import re

from ..decode import decode_text
from .extracted import Extracted, Limits


def extract(data: bytes, limits: Limits) -> Extracted:
    text, encoding = decode_text(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return Extracted(text=text, encoding=encoding, title=_markdown_title(text))


def _markdown_title(text: str) -> str | None:
    """A Markdown file's first `# ` heading (plain text has none: the file name is used)."""
    match = re.search(r"^#\s+(.+)$", text, flags=re.MULTILINE)
    return match.group(1).strip() if match else None
