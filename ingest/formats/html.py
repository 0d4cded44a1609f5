"""HTML (and the XHTML chapters of an EPUB): the main text, one line per block, with h1–h6
as headings.

When the page has <main> or <article>, only their text is kept; otherwise navigation, page
headers and footers, asides, forms, scripts and styles are dropped. Whitespace collapses as a
browser would show it, except that a line break between two CJK characters vanishes (it is
source wrapping, not a space). Table rows become lines with cells separated by " | ".
"""
from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser

from ..decode import check_not_binary, decode_text
from .extracted import Extracted, Limits

_BLOCKS = frozenset(
    "address article aside blockquote br caption dd div dl dt figcaption figure footer h1 h2 h3 "
    "h4 h5 h6 header hr li main ol p pre section table tbody thead tfoot tr ul body".split()
)
_ALWAYS_SKIPPED = frozenset("script style noscript template svg math iframe object canvas select button head".split())
_CHROME = frozenset("nav header footer aside form".split())  # skipped outside <main>/<article>
_VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
# a source line break beside a CJK character, unless the other side is a Latin letter or digit
_CJK_BREAK = re.compile(rf"(?:(?<=[{_CJK}])[ \t\r\f]*\n\s*(?![A-Za-z0-9\s])|(?<![A-Za-z0-9\s])[ \t\r\f]*\n\s*(?=[{_CJK}]))")
_SPACES = re.compile(r"\s+")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs"}  # pages often exceed their declared charset
_MAIN = re.compile(r"<(main|article)[\s>]", re.IGNORECASE)


class _TextParser(HTMLParser):
    def __init__(self, main_only: bool):
        super().__init__(convert_charrefs=True)
        self.main_only = main_only
        self.lines: list[tuple[str, int]] = []
        self.title: str | None = None
        self._line: list[str] = []
        self._level = 0
        self._skip: list[str] = []  # open elements whose content is dropped
        self._main_depth = 0
        self._in_title = False
        self._title_parts: list[str] = []
        self._cells = 0

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self._in_title = True
        if tag in _VOID:
            if tag in ("br", "hr"):
                self._flush()
            return
        if self._skip or tag in _ALWAYS_SKIPPED or (tag in _CHROME and not self._main_depth):
            self._skip.append(tag)
            return
        if tag in ("main", "article"):
            self._main_depth += 1
        if tag in _BLOCKS:
            self._flush()
        if tag in ("td", "th"):
            if self._cells:
                self._line.append(" | ")
            self._cells += 1
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self._flush()
            self._level = int(tag[1])

    def handle_startendtag(self, tag, attrs):
        if tag in ("br", "hr") and not self._skip:
            self._flush()

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if self._skip:
            if tag in self._skip:
                while self._skip.pop() != tag:
                    pass
            return
        if tag in ("main", "article") and self._main_depth:
            self._main_depth -= 1
        if tag in _BLOCKS:
            self._flush()
        if tag == "tr":
            self._cells = 0

    def handle_data(self, data):
        if self._in_title:
            self._title_parts.append(data)
        if self._skip or (self.main_only and not self._main_depth):
            return
        self._line.append(data)

    def _flush(self):
        raw = "".join(self._line)
        text = _SPACES.sub(" ", _CJK_BREAK.sub("", raw)).strip()
        text = text.strip(" |") if self._cells else text
        if text:
            self.lines.append((text, self._level))
            if self._level == 1 and self.title is None:
                self.title = text
        self._line = []
        self._level = 0

    def close(self):
        super().close()
        self._flush()
        page_title = _SPACES.sub(" ", "".join(self._title_parts)).strip()
        if page_title:
            self.title = page_title


def html_lines(markup: str) -> tuple[list[tuple[str, int]], str | None]:
    """(lines as (text, heading level), title) of an HTML or XHTML document."""
    parser = _TextParser(main_only=bool(_MAIN.search(markup)))
    parser.feed(markup)
    parser.close()
    return parser.lines, parser.title


def decode_html(data: bytes) -> tuple[str, str]:
    """(markup, encoding): a byte-order mark or <meta charset> first, else detection."""
    declared = _CHARSET.search(data[:4096])
    if declared and not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        name = declared.group(1).decode("ascii").lower()
        try:
            codec = _SUPERSETS.get(codecs.lookup(name).name, codecs.lookup(name).name)
            text = data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            return decode_text(data)  # a wrong or unknown declaration: detect instead
        check_not_binary(text)
        return text, codec
    return decode_text(data)


def extract(data: bytes, limits: Limits) -> Extracted:
    markup, encoding = decode_html(data)
    lines, title = html_lines(markup)
    return Extracted.from_lines(lines, encoding=encoding, title=title)
