"""A SYNTHETIC two-case "book" written for these tests, in every format ingest reads.

Nothing here is content from the real book: the institutions are unnamed (某…) and every
title says 合成測試. The same cases are rendered as PDF (reportlab with its built-in CID font
STSong-Light, so no font file is needed), DOCX (python-docx), EPUB (written by hand: a ZIP
with container.xml, a package document and XHTML chapters) and HTML.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

BOOK_TITLE = "數字金融創新案例（合成測試樣書）"
RUNNING_FOOTER = "— {page} —"

CASES = (
    (
        "案例一 某農商銀行的數字普惠金融實踐（合成測試文本）",
        ("機構：某農商銀行", "機構類型：商業銀行"),
        (
            ("一、創新背景", (
                "農村地區的小微企業長期面臨融資難、融資貴的問題。傳統信貸依賴抵押物,審批流程長達兩周,農戶往往等不及。",
                "該行希望借助數字技術,讓普惠金融服務真正下沉到縣域和鄉村,同時守住風險底線。",
            )),
            ("二、實施路徑", (
                "該行搭建了線上信貸平臺,整合稅務、社保和水電數據,建立智能風控模型和信用評估體系,實現貸前、貸中、貸後全流程監控。",
                "客戶通過手機銀行提交申請,系統在三分鐘內完成審批,資金當天到賬,全程無需到網點。",
            )),
            ("三、應用成效", (
                "平臺上線一年,累計發放貸款十二億元,服務農戶八千餘戶,不良率控制在百分之一以內。",
            )),
        ),
    ),
    (
        "案例二 某證券公司的碳賬戶平臺（合成測試文本）",
        ("機構：某證券公司", "機構類型：非銀行金融機構"),
        (
            ("一、創新背景", (
                "企業碳排放數據分散在不同系統中,難以核算,綠色金融產品缺少可信的定價依據。",
            )),
            ("二、實施路徑", (
                "公司利用區塊鏈記錄能耗數據,為每家企業建立碳賬戶,實現雙碳管理,並據此提供綠色債券承銷服務。",
            )),
            ("三、應用成效", (
                "碳賬戶平臺已覆蓋三百家企業,幫助企業發行綠色債券五十億元。",
            )),
        ),
    ),
)
# Two more SYNTHETIC cases for the analyst and teacher features (similar cases, comparison,
# lesson packs): case three is obviously like case one (a bank's online credit for small
# firms, data and risk models); case four is unlike both (a technology firm's large model).
MORE_CASES = (
    (
        "案例三 某城商銀行的小微企業線上信貸（合成測試文本）",
        ("機構：某城商銀行", "機構類型：商業銀行"),
        (
            ("一、創新背景", (
                "縣域小微企業和個體工商戶融資難、融資貴,傳統信貸依賴抵押物,審批慢。",
            )),
            ("二、實施路徑", (
                "該行建設線上信貸平臺,整合稅務和社保數據,建立智能風控模型和信用評估體系,客戶在手機銀行申請,系統自動審批。",
            )),
            ("三、應用成效", (
                "平臺累計發放小微企業貸款二十億元,服務個體工商戶一萬餘戶,不良率低於百分之一。",
            )),
        ),
    ),
    (
        "案例四 某科技公司的大模型客服助手（合成測試文本）",
        ("機構：某信息技術公司", "機構類型：科技企業"),
        (
            ("一、創新背景", (
                "金融機構客服坐席壓力大,知識庫更新慢,客戶等待時間長。",
            )),
            ("二、實施路徑", (
                "公司基於大模型構建客服助手,接入產品知識庫,自動生成回答並由坐席覆核。",
            )),
            ("三、應用成效", (
                "客服助手上線半年,人工坐席工作量下降三成,客戶滿意度明顯提升。",
            )),
        ),
    ),
)


def text_casebook() -> str:
    """All four SYNTHETIC cases as one plain-text book (case, facts, sections, paragraphs)."""
    lines = [BOOK_TITLE]
    for case, facts, secs in CASES + MORE_CASES:
        lines += [case, *facts]
        for heading, ps in secs:
            lines += [heading, *ps]
    return "\n".join(lines) + "\n"


TABLE = (("指標", "數值"), ("貸款餘額", "十二億元"), ("服務農戶", "八千餘戶"))


def paragraphs() -> list[str]:
    return [p for _, _, sections in CASES for _, ps in sections for p in ps]


def sections() -> set[tuple[str, str]]:
    """(case title, section heading) pairs every format must yield."""
    return {(case, heading) for case, _, secs in CASES for heading, _ in secs}


# ---- PDF ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PdfBook:
    data: bytes
    pages: tuple[tuple[str, ...], ...]  # the body lines drawn on each page


def _wrap(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)]


def pdf_book(lines_per_page: int = 8, width: int = 24, encrypt: str | None = None) -> PdfBook:
    """Body lines wrapped every `width` characters (inside sentences, as a typeset page does),
    with a running header (the book title) and footer (a page number) on every page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    lines: list[str] = []
    for case, facts, secs in CASES:
        lines.append(case)
        lines.extend(facts)
        for heading, ps in secs:
            lines.append(heading)
            for p in ps:
                lines.extend(_wrap(p, width))
    pages = tuple(tuple(lines[i : i + lines_per_page]) for i in range(0, len(lines), lines_per_page))
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, encrypt=encrypt)
    pdf.setTitle(BOOK_TITLE)
    for number, page in enumerate(pages, start=1):
        pdf.setFont("STSong-Light", 9)
        pdf.drawString(72, 800, BOOK_TITLE)
        pdf.drawString(280, 40, RUNNING_FOOTER.format(page=number))
        pdf.setFont("STSong-Light", 12)
        for row, line in enumerate(page):
            pdf.drawString(72, 760 - 20 * row, line)
        pdf.showPage()
    pdf.save()
    return PdfBook(out.getvalue(), pages)


def scanned_pdf() -> bytes:
    """Pages with drawings only, no text layer: what a scanner produces."""
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    for _ in range(2):
        pdf.rect(100, 100, 300, 500, fill=1)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


# ---- DOCX ---------------------------------------------------------------------------------

def docx_book() -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = BOOK_TITLE
    document.add_heading(BOOK_TITLE, level=0)
    for case, facts, secs in CASES:
        document.add_heading(case, level=1)
        for fact in facts:
            document.add_paragraph(fact)
        for heading, ps in secs:
            document.add_heading(heading, level=2)
            for p in ps:
                document.add_paragraph(p)
        if case == CASES[0][0]:
            table = document.add_table(rows=len(TABLE), cols=2)
            for r, row in enumerate(TABLE):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# ---- HTML and EPUB ------------------------------------------------------------------------

def _case_html(case, facts, secs, case_tag="h1", section_tag="h2") -> str:
    body = [f"<{case_tag}>{case}</{case_tag}>"] + [f"<p>{f}</p>" for f in facts]
    for heading, ps in secs:
        body.append(f"<{section_tag}>{heading}</{section_tag}>")
        # source wrapping inside a sentence, as hand-written HTML has
        body.extend(f"<p>{p[:10]}\n      {p[10:]}</p>" for p in ps)
    return "\n".join(body)


def html_book() -> bytes:
    cases = "\n".join(_case_html(*case, case_tag="h2", section_tag="h3") for case in CASES)
    table = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in TABLE)
    page = f"""<!DOCTYPE html>
<html lang="zh-Hant"><head><meta charset="utf-8"><title>{BOOK_TITLE}</title>
<style>body {{ font-family: serif; }}</style><script>var tracking = "不應被索引";</script></head>
<body>
<nav><a href="/">首頁</a> | <a href="/about">網站導航不應被索引</a></nav>
<header><p>網站頁首不應被索引</p></header>
<main><article>
<h1>{BOOK_TITLE}</h1>
{cases}
<table>{table}</table>
</article></main>
<footer>版權所有 網站頁尾不應被索引</footer>
</body></html>"""
    return page.encode("utf-8")


def _xhtml(title: str, body: str) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>{title}</title></head>
<body>{body}</body></html>"""


AES = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"  # DRM
FONT_OBFUSCATION = "http://www.idpf.org/2008/embedding"  # harmless


def epub_book(encryption: str | None = None) -> bytes:
    """Chapters listed in the manifest in reverse order, so only the spine gives the order.
    `encryption` is the algorithm META-INF/encryption.xml names for the first chapter."""
    chapters = [(f"chap{n}.xhtml", _xhtml(case[0], _case_html(*case))) for n, case in enumerate(CASES, start=1)]
    manifest = "\n".join(
        f'<item id="c{n}" href="text/{name}" media-type="application/xhtml+xml"/>'
        for n, (name, _) in reversed(list(enumerate(chapters, start=1)))
    )
    spine = "\n".join(f'<itemref idref="c{n}"/>' for n in range(1, len(chapters) + 1))
    opf = f"""<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{BOOK_TITLE}</dc:title>
<dc:identifier id="id">synthetic-test-book</dc:identifier><dc:language>zh-Hant</dc:language></metadata>
<manifest>{manifest}<item id="css" href="style.css" media-type="text/css"/></manifest>
<spine>{spine}</spine></package>"""
    container = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        z.writestr("META-INF/container.xml", container)
        if encryption:
            z.writestr("META-INF/encryption.xml", f"""<?xml version="1.0"?>
<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:enc="http://www.w3.org/2001/04/xmlenc#">
<enc:EncryptedData><enc:EncryptionMethod Algorithm="{encryption}"/>
<enc:CipherData><enc:CipherReference URI="OEBPS/text/chap1.xhtml"/></enc:CipherData></enc:EncryptedData></encryption>""")
        z.writestr("OEBPS/content.opf", opf)
        z.writestr("OEBPS/style.css", "p { margin: 0 }")
        for name, xhtml in chapters:
            z.writestr(f"OEBPS/text/{name}", xhtml)
    return out.getvalue()


def zip_bomb(member: str, size: int) -> bytes:
    """A small ZIP whose one member inflates to `size` bytes of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open(member, "w", force_zip64=True) as fh:
            chunk = b"\0" * 2**20
            for _ in range(size // len(chunk)):
                fh.write(chunk)
            fh.write(b"\0" * (size % len(chunk)))
    return out.getvalue()
