"""Book pages rendered from known text, to measure OCR and to test it: Pillow draws the text in
Noto Serif TC (a Ming/Song book face with traditional and simplified glyphs, SIL OFL, shipped
in the PyPI package `pylopdf-fonts-zh-tw`), in one or two columns, with a running header and a
page number; `image_pdf` binds pages into a PDF without a text layer, as a scanner does.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont


@dataclass(frozen=True)
class Layout:
    char_px: int = 28  # character height in pixels: 28 px is 10.5 pt at 192 dpi, 20 px at 137 dpi
    width_chars: int = 38  # characters across the text block (a book's line)
    columns: int = 1
    lines_per_page: int = 28  # per column
    gap_chars: int = 3  # between columns

    @property
    def column_chars(self) -> int:
        return self.width_chars if self.columns == 1 else (self.width_chars - self.gap_chars * (self.columns - 1)) // self.columns


@lru_cache(maxsize=8)
def _font(px: int) -> ImageFont.FreeTypeFont:
    from pylopdf_fonts_zh_tw import serif_path

    return ImageFont.truetype(str(serif_path()), px)


def wrap(text: str, chars: int) -> list[str]:
    """Paragraphs cut into lines of `chars` characters (CJK text has no word breaks)."""
    lines = []
    for paragraph in text.split("\n"):
        paragraph = paragraph.strip()
        lines.extend(paragraph[i : i + chars] for i in range(0, len(paragraph), chars))
    return lines


def paginate(text: str, layout: Layout) -> list[list[list[str]]]:
    """Pages → columns → lines."""
    lines = wrap(text, layout.column_chars)
    per_page = layout.lines_per_page * layout.columns
    pages = []
    for start in range(0, len(lines), per_page):
        chunk = lines[start : start + per_page]
        pages.append([chunk[c * layout.lines_per_page : (c + 1) * layout.lines_per_page] for c in range(layout.columns)])
    return pages


def render(columns: list[list[str]], layout: Layout, header: str = "", number: int | None = None) -> Image.Image:
    """One page image (grayscale, white paper): optional running header, the columns, an
    optional page number at the foot."""
    px = layout.char_px
    font = _font(px)
    margin, leading = 3 * px, int(px * 1.7)
    width = 2 * margin + layout.width_chars * px
    height = 2 * margin + (layout.lines_per_page + 4) * leading
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    top = margin
    if header:
        draw.text((margin, top), header, font=font, fill=0)
    top += 2 * leading
    column_width = (layout.column_chars + layout.gap_chars) * px
    for c, lines in enumerate(columns):
        for row, line in enumerate(lines):
            draw.text((margin + c * column_width, top + row * leading), line, font=font, fill=0)
    if number is not None:
        label = f"— {number} —"
        draw.text(((width - font.getlength(label)) / 2, height - margin - px), label, font=font, fill=0)
    return page


def image_pdf(pages: list[Image.Image], dpi: float = 144.0) -> bytes:
    """A PDF whose pages are the images only: no text layer."""
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=dpi)
    return out.getvalue()


def png(page: Image.Image) -> bytes:
    out = io.BytesIO()
    page.save(out, "PNG")
    return out.getvalue()
