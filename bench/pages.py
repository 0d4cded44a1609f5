"""Book pages rendered from known text, to measure OCR and to test it: Pillow draws the text in
Noto Serif TC (a Ming/Song book face, SIL OFL, from the PyPI package `pylopdf-fonts-zh-tw`),
falling back to Noto Serif SC (`pylopdf-fonts-zh-cn`) for characters the TC font lacks (most
simplified-only ones), in one or two columns, with a running header and a page number;
`image_pdf` binds pages into a PDF without a text layer, as a scanner does.
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
def _fonts(px: int) -> tuple[ImageFont.FreeTypeFont, ImageFont.FreeTypeFont]:
    from pylopdf_fonts_zh_cn import serif_path as sc
    from pylopdf_fonts_zh_tw import serif_path as tc

    return ImageFont.truetype(str(tc()), px), ImageFont.truetype(str(sc()), px)


@lru_cache(maxsize=20000)
def _font_for(char: str, px: int) -> ImageFont.FreeTypeFont:
    """The TC font when it has a glyph for `char` (it draws a missing one as its .notdef box,
    the same as for a private-use character), else the SC font."""
    tc, sc = _fonts(px)
    return tc if bytes(tc.getmask(char)) != bytes(tc.getmask("\ue000")) else sc


def _draw(draw: ImageDraw.ImageDraw, x: float, y: float, text: str, px: int) -> None:
    for char in text:
        font = _font_for(char, px)
        draw.text((x, y), char, font=font, fill=0)
        x += font.getlength(char)


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
    margin, leading = 3 * px, int(px * 1.7)
    width = 2 * margin + layout.width_chars * px
    height = 2 * margin + (layout.lines_per_page + 4) * leading
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    top = margin
    if header:
        _draw(draw, margin, top, header, px)
    top += 2 * leading
    column_width = (layout.column_chars + layout.gap_chars) * px
    for c, lines in enumerate(columns):
        for row, line in enumerate(lines):
            _draw(draw, margin + c * column_width, top + row * leading, line, px)
    if number is not None:
        label = f"— {number} —"
        _draw(draw, (width - sum(_font_for(c, px).getlength(c) for c in label)) / 2, height - margin - px, label, px)
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
