"""Structure of a text: headings with their level, which headings open a case, and
paragraphs, as offsets.

Headings are recognised by their numbering (第X章, 案例X, 01, 一、, （一）, 1.1, short 1、
lines), Markdown `#`, the usual section names of a case (創新背景, 實施路徑, 應用成效 …) and
front-matter titles (序言, 內容簡介 …), in traditional and simplified forms; a file's markup
may declare more (DOCX styles, HTML h1–h6). A table of contents is read too: its lines stay
body text, and the titles it lists become case headings where they recur in the text. Every
span is a (start, end) pair into the original text; sentences come from
`index.sentences.sentence_spans`, which answers use too.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


_NUM = "一二三四五六七八九十百零〇两兩"
_CASE_TITLE = re.compile(rf"^(第\s*[{_NUM}\d]+\s*[章篇部编編]|案例\s*[{_NUM}\d]+|case\s*\d+\b|0\d(?:\s+|[、.．:：]\s*)\S)", re.IGNORECASE)
_HEADING_RULES: tuple[tuple[re.Pattern[str], int, int], ...] = (
    # (pattern on the stripped line, level, longest line it may be)
    (_CASE_TITLE, 1, 60),
    (re.compile(rf"^第[{_NUM}\d]+[节節]"), 2, 60),
    (re.compile(rf"^[{_NUM}]+\s*[、.．]"), 2, 40),
    (re.compile(rf"^[（(]\s*[{_NUM}]+\s*[)）]"), 3, 40),
    (re.compile(r"^\d+(\.\d+)+\s*\S"), 3, 40),
    (re.compile(r"^\d+\s*[、.．]\s*\S[^，,。；;：:！？!?]*$"), 4, 24),
)
_FRONT_MATTER = frozenset(
    "序 序言 前言 引言 導言 导言 導讀 导读 內容簡介 内容简介 編輯推薦 编辑推荐 目錄 目录 "
    "後記 后记 附錄 附录 推薦序 推荐序 作者簡介 作者简介 結語 结语 參考文獻 参考文献".split()
)
# What the usual sections of a case are for: background, approach, results (the book's
# 創新背景 / 實施路徑 / 應用成效), traditional and simplified. Comparisons line cases up by role.
SECTION_ROLES: dict[str, frozenset[str]] = {
    "background": frozenset("創新背景 创新背景 項目背景 项目背景 案例背景 背景介紹 背景介绍 建設背景 建设背景".split()),
    "approach": frozenset(
        "實施路徑 实施路径 實施方案 实施方案 主要做法 具體做法 具体做法 解決方案 解决方案 技術方案 技术方案 建設內容 建设内容".split()
    ),
    "results": frozenset("應用成效 应用成效 實施成效 实施成效 主要成效 取得成效 案例成效 應用效果 应用效果".split()),
}
# Section names a case is written in; a short line that is one of them (numbered or not) is a
# section heading.
SECTION_NAMES = frozenset().union(*SECTION_ROLES.values()) | frozenset(
    "創新點 创新点 創新亮點 创新亮点 案例亮點 案例亮点 "
    "經驗啟示 经验启示 經驗總結 经验总结 推廣價值 推广价值 未來展望 未来展望 下一步計劃 下一步计划".split()
)
_SECTION_PREFIX = re.compile(rf"^(?:[{_NUM}]+\s*[、.．]|[（(]\s*[{_NUM}\d]+\s*[)）]|\d+\s*[、.．]?)?\s*")
_MARKDOWN = re.compile(r"^(#{1,6})\s+\S")
# A table-of-contents line: a title, a run of leader dots (or a wide gap), a page number.
_TOC_LINE = re.compile(r"^(?P<title>\S.{0,80}?)\s*(?:[.…·．_—-]{3,}|…{2,}|\s{2,}|\t)\s*(?P<page>\d{1,4})$")
_TOC_MIN_LINES = 3  # fewer such lines are not a table of contents


@dataclass(frozen=True)
class Block:
    """A heading (level ≥ 1) or a paragraph (level 0), as offsets of its stripped line(s).
    `opens_case` marks a heading that names a case or chapter."""

    start: int
    end: int
    level: int
    opens_case: bool = False

    @property
    def is_heading(self) -> bool:
        return self.level > 0


def _section_name(stripped: str) -> str:
    return _SECTION_PREFIX.sub("", stripped, count=1).strip(" ：:")


def _is_section_name(stripped: str) -> bool:
    return len(stripped) <= 20 and _section_name(stripped) in SECTION_NAMES


def section_role(heading: str) -> str | None:
    """"background", "approach" or "results" for a section heading such as 二、實施路徑."""
    name = _section_name(heading.strip())
    return next((role for role, names in SECTION_ROLES.items() if name in names), None)


def heading_level(line: str) -> int:
    """Level of a heading line (1 = top), or 0 for body text."""
    stripped = line.strip()
    if not stripped:
        return 0
    markdown = _MARKDOWN.match(stripped)
    if markdown:
        return len(markdown.group(1))
    if _is_front_matter(stripped):
        return 1
    for pattern, level, longest in _HEADING_RULES[:-1]:
        if len(stripped) <= longest and pattern.match(stripped):
            return level
    if _is_section_name(stripped):  # 創新背景, 3. 應用成效 …
        return 2
    pattern, level, longest = _HEADING_RULES[-1]
    return level if len(stripped) <= longest and pattern.match(stripped) else 0


def heading_title(text: str) -> str:
    """A heading's text without Markdown marks and with inner runs of spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"^#{1,6}\s+", "", text.strip()))


def names_case(title: str) -> bool:
    """Whether a heading's title names a case or chapter by its numbering (案例一, 第三章, 01)."""
    return bool(_CASE_TITLE.match(title))


def _key(title: str) -> str:
    """A title compared without spaces, punctuation or width differences."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", title) if ch.isalnum())


def is_toc_line(line: str) -> bool:
    """A title, leader dots (or a wide gap) and a page number: a table-of-contents entry."""
    return bool(_TOC_LINE.match(line.strip()))


def toc_titles(lines: list[str]) -> frozenset[str]:
    """Keys of the titles a table of contents lists (case or chapter titles: entries that
    are numbered sections of a case are left out)."""
    entries = [m for m in map(_TOC_LINE.match, lines) if m]
    if len(entries) < _TOC_MIN_LINES:
        return frozenset()
    return frozenset(
        _key(m.group("title")) for m in entries
        if heading_level(m.group("title")) <= 1 and not _is_section_name(m.group("title"))
    ) - {""}


def blocks(text: str, declared: tuple[tuple[int, int, int], ...] = ()) -> list[Block]:
    """Headings and paragraphs in order, one per non-empty line (books put one paragraph on
    a line; the chunker joins short neighbours, so wrapped text loses nothing). `declared`
    holds (start, end, level) of headings the file's markup names (DOCX styles, HTML h1–h6);
    they keep their level, other lines are judged by `heading_level`."""
    levels = {start: level for start, _, level in declared}
    lines = text.splitlines(keepends=True)
    listed = toc_titles([line.strip() for line in lines])
    found: list[Block] = []
    case_level: int | None = None  # level of the case heading in force
    pos = 0
    for line in lines:
        stripped = line.strip()
        if stripped:
            start = pos + line.index(stripped[0])
            title = heading_title(stripped)
            if listed and _TOC_LINE.match(stripped):
                level, opens = 0, False  # a contents entry is text, not a heading
            elif listed and _key(title) in listed and len(stripped) <= 80:
                level, opens = 1, not _is_front_matter(title)
            else:
                level = levels.get(start) or heading_level(stripped)
                opens = level > 0 and names_case(title)
            if level and not opens and case_level is not None and level <= case_level:
                if start in levels or _is_front_matter(title):
                    case_level = None  # markup's sibling heading or a back-matter title ends the case
                else:
                    level = case_level + 1  # "一、創新背景" under a case declared at its own level
            if opens:
                case_level = level
            found.append(Block(start, start + len(stripped), level, opens))
        pos += len(line)
    return found


def _is_front_matter(title: str) -> bool:
    return re.sub(r"\s+", "", title) in _FRONT_MATTER
