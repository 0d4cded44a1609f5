"""PDF: the text layer of each page through pypdfium2 (PDFium, the PDF engine of Chromium;
Apache-2.0/BSD-3), chosen for its faithful CJK extraction (CID fonts, ToUnicode maps) and its
tolerance of damaged files. Layout clean-up is `formats.pdf_layout`. Scanned pages have no
text layer and OCR is not supported: a PDF with no text at all is refused as such."""
from __future__ import annotations

from ..errors import CorruptDocument, EncryptedDocument, NoTextLayer, TooLarge
from .extracted import Extracted, Limits
from .pdf_layout import drop_running_lines, join_pages, page_lines

_JUNK_TITLES = ("untitled", "microsoft word - ", "無標題", "无标题")


def _title(metadata: dict) -> str | None:
    title = (metadata.get("Title") or "").strip()
    if not title or title.lower().startswith(_JUNK_TITLES):
        return None
    return title


def extract(data: bytes, limits: Limits) -> Extracted:
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
    try:
        raw_pages = []
        for number in range(len(pdf)):
            page = pdf[number]
            textpage = page.get_textpage()
            raw_pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
        metadata = pdf.get_metadata_dict()
    except pdfium.PdfiumError as exc:
        raise CorruptDocument(f"damaged PDF, page {len(raw_pages) + 1} cannot be read ({exc})") from exc
    finally:
        pdf.close()
    pages = [page_lines(raw) for raw in raw_pages]
    if not any(pages):
        raise NoTextLayer(f"no text layer in its {len(pages)} page(s) (a scan?); OCR is not supported")
    text, page_starts = join_pages(drop_running_lines(pages))
    return Extracted(text=text, encoding="pdf", title=_title(metadata), page_starts=page_starts)
