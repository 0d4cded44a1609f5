"""Structure of a plain text: headings with their level and paragraphs, as offsets.

Headings are recognised by their numbering (第X章, 案例X, 一、, （一）, 1.1, short 1、 lines),
Markdown `#`, and a small list of front-matter titles (序言, 內容簡介 …), in traditional and
simplified forms. Every span is a (start, end) pair into the original text; sentences come from
`index.text.sentence_spans`, which answers use too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


_NUM = "一二三四五六七八九十百零〇两兩"
_HEADING_RULES: tuple[tuple[re.Pattern[str], int, int], ...] = (
    # (pattern on the stripped line, level, longest line it may be)
    (re.compile(rf"^(第[{_NUM}\d]+[章篇部编編]|案例\s*[{_NUM}\d]+)"), 1, 60),
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
_MARKDOWN = re.compile(r"^(#{1,6})\s+\S")


@dataclass(frozen=True)
class Block:
    """A heading (level ≥ 1) or a paragraph (level 0), as offsets of its stripped line(s)."""

    start: int
    end: int
    level: int

    @property
    def is_heading(self) -> bool:
        return self.level > 0


def heading_level(line: str) -> int:
    """Level of a heading line (1 = top), or 0 for body text."""
    stripped = line.strip()
    if not stripped:
        return 0
    markdown = _MARKDOWN.match(stripped)
    if markdown:
        return len(markdown.group(1))
    if re.sub(r"\s+", "", stripped) in _FRONT_MATTER:
        return 1
    for pattern, level, longest in _HEADING_RULES:
        if len(stripped) <= longest and pattern.match(stripped):
            return level
    return 0


def heading_title(text: str) -> str:
    """A heading's text without Markdown marks and with inner runs of spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"^#{1,6}\s+", "", text.strip()))


def blocks(text: str, declared: tuple[tuple[int, int, int], ...] = ()) -> list[Block]:
    """Headings and paragraphs in order, one per non-empty line (books put one paragraph on
    a line; the chunker joins short neighbours, so wrapped text loses nothing). `declared`
    holds (start, end, level) of headings the file's markup names (DOCX styles, HTML h1–h6);
    they keep their level, other lines are judged by `heading_level`."""
    levels = {start: level for start, _, level in declared}
    found: list[Block] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped:
            start = pos + line.index(stripped[0])
            end = start + len(stripped)
            level = levels.get(start) or heading_level(stripped)
            found.append(Block(start, end, level))
        pos += len(line)
    return found
