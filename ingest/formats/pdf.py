"""PDF: the text layer of each page through pypdfium2 (PDFium, the PDF engine of Chromium;
Apache-2.0/BSD-3), chosen for its faithful CJK extraction (CID fonts, ToUnicode maps) and its
tolerance of damaged files. A page without a text layer (a scan) is rendered by PDFium and
read by OCR (`formats.ocr`); pages with a text layer keep it, and blank pages are skipped. Layout clean-up is
`formats.pdf_layout`, for text-layer and OCR'd pages alike."""
from __future__ import annotations

import math

from ..errors import CorruptDocument, EncryptedDocument, NoTextLayer, TooLarge
from .extracted import Extracted, Limits
from .ocr import Ocr, assemble, page_keys
from .pdf_layout import page_lines

_JUNK_TITLES = ("untitled", "microsoft word - ", "無標題", "无标题")


def _title(metadata: dict) -> str | None:
    title = (metadata.get("Title") or "").strip()
    if not title or title.lower().startswith(_JUNK_TITLES):
        return None
    return title


def extract(data: bytes, limits: Limits, ocr: Ocr, name: str) -> Extracted:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise EncryptedDocument("encrypted PDF: it needs a password") from exc
        raise CorruptDocument(f"damaged PDF, cannot be opened ({exc})") from exc
    if (count := len(pdf)) > limits.max_pdf_pages:
        pdf.close()
        raise TooLarge(f"{count} pages, more than the {limits.max_pdf_pages}-page limit")
    pages: list[list] = []
    scans: list[int] = []  # pages with something drawn but no text layer
    number = 0
    try:
        for number in range(len(pdf)):
            page = pdf[number]
            textpage = page.get_textpage()
            pages.append(page_lines(textpage.get_text_range()))
            if not pages[-1] and pdfium.raw.FPDFPage_CountObjects(page.raw) > 0:  # a blank page needs no OCR
                scans.append(number)
            textpage.close()
            page.close()
        metadata = pdf.get_metadata_dict()
        key = page_keys(data)
        seconds = 0.0
        for done, number in enumerate(scans, start=1):
            page = pdf[number]
            width, height = page.get_size()
            # the pixel cap holds whatever size the page claims to be
            scale = min(ocr.settings.pdf_scale, math.sqrt(ocr.settings.max_pixels / max(width * height, 1.0)))
            pages[number], took = ocr.page(lambda: page.render(scale=scale).to_pil(), key(number + 1), name, done, len(scans))
            seconds += took
            page.close()
    except pdfium.PdfiumError as exc:
        raise CorruptDocument(f"damaged PDF, page {number + 1} cannot be read ({exc})") from exc
    finally:
        pdf.close()
    if not any(pages):
        raise NoTextLayer(f"no text layer in its {len(pages)} page(s) (a scan?), and OCR found no text on them")
    text, page_starts, notes = assemble(pages, scans, ocr.settings, seconds)
    return Extracted(text=text, encoding="pdf", title=_title(metadata), page_starts=page_starts, ocr=notes)
