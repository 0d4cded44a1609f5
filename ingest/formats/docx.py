"""DOCX (python-docx, MIT): body paragraphs and tables in document order. Paragraphs styled
Title / Heading N (標題 N, 标题 N) are headings of that level; each table row is a line with
its cells separated by " | ". Page headers, footers and comments are left out."""
from __future__ import annotations

import io
import re

from ..errors import CorruptDocument, WrongContent
from .archive import open_zip
from .extracted import Extracted, Limits

_HEADING_STYLE = re.compile(r"^(?:heading|标题|標題)\s*(\d)$", re.IGNORECASE)


def _level(style_name: str) -> int:
    if style_name.lower() == "title":
        return 1
    match = _HEADING_STYLE.match(style_name.strip())
    return int(match.group(1)) if match else 0


def _row_text(row) -> str:
    cells, seen = [], set()
    for cell in row.cells:
        if id(cell._tc) in seen:  # a merged cell is repeated once per grid column it spans
            continue
        seen.add(id(cell._tc))
        cells.append(" ".join(cell.text.split()))
    return " | ".join(c for c in cells if c)


def extract(data: bytes, limits: Limits) -> Extracted:
    archive = open_zip(data, limits, "DOCX")
    if "word/document.xml" not in archive.namelist():
        raise WrongContent("named .docx but is a ZIP archive without a Word document in it")
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        lines: list[tuple[str, int]] = []
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                lines.extend((_row_text(row), 0) for row in item.rows)
            else:
                style = item.style.name if item.style is not None else ""
                lines.append((item.text, _level(style or "")))
        title = (document.core_properties.title or "").strip() or None
    except Exception as exc:  # python-docx and lxml raise many types for a damaged package
        raise CorruptDocument(f"damaged DOCX: {type(exc).__name__}: {exc}") from exc
    return Extracted.from_lines(lines, encoding="docx", title=title)
