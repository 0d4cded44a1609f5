"""The question's language and script, and the fixed phrases answers use in each.

Owns script detection (simplified / traditional Chinese, or anything else, answered in English)
and the user-facing wording of refusals, notices and flags in answers and lesson packs (they
follow the script of the question or topic; the interface's own text is `qa.i18n`'s). Matching
text is `index.text`'s job.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import opencc

from index.sentences import has_cjk

Script = Literal["hans", "hant", "en"]



@dataclass(frozen=True)
class Phrases:
    intro: str  # before the quotes of an extractive answer
    simplified: str  # label of the simplified rendering of a traditional quote
    not_found: str
    llm_failed: str  # notice: the LLM failed, quotes follow
    llm_uncited: str  # notice: the LLM answer cited no valid source, quotes follow
    unsupported: str  # appended to an LLM sentence its source does not support
    lesson_no_passages: str  # lesson notices, below: why a pack lacks passages or an outline
    lesson_filtered_out: str  # {filters}
    lesson_needs_llm: str
    lesson_llm_failed: str  # {error}
    lesson_no_outline: str
    lesson_uncited: str
    blank: str  # refusal of a blank or punctuation-only text; {what} names it
    too_long: str  # refusal of a text over its limit; {what}, {length}, {limit}
    inputs: tuple[tuple[str, str], ...]  # what `blank`/`too_long` call each text a user sends (qa.limits)

    def refusal(self, phrase: str, field: str, **values: int) -> str:
        """`phrase` ("blank" or "too_long") filled in for the text `field` (question, topic, text)."""
        return getattr(self, phrase).format(what=dict(self.inputs)[field], **values)


PHRASES: dict[Script, Phrases] = {
    "hans": Phrases(
        intro="资料中与问题最相关的原文如下：",
        simplified="简体",
        not_found="抱歉，资料库中没有找到能回答这个问题的内容。可以换个说法再问，或把相关文档加入 corpus/ 后重新建立索引。",
        llm_failed="语言模型暂时不可用，以下是从资料中直接摘录的答案。",
        llm_uncited="语言模型的回答没有引用任何有效来源，以下改为从资料中直接摘录。",
        unsupported="（此句未在所引来源中找到依据）",
        lesson_no_passages="索引中没有与这个主题相关的段落。",
        lesson_filtered_out="没有段落符合筛选条件（{filters}）。",
        lesson_needs_llm="提纲和讨论题需要大语言模型（设置 LLM_BASE_URL 和 LLM_MODEL，或在应用的大语言模型设置中填写）；重点段落和关键词不需要它，已经完整。",
        lesson_llm_failed="{error}。缺少提纲和讨论题；重点段落和关键词完整。",
        lesson_no_outline="大语言模型没有返回提纲；重点段落和关键词完整。",
        lesson_uncited="大语言模型的提纲没有引用任何段落：请对照段落核对。",
        blank="请输入{what}：空白或只有标点符号的内容无法回答。",
        too_long="{what}太长（{length} 个字符），请缩短到 {limit} 个字符以内再试。",
        inputs=(("question", "问题"), ("topic", "课程主题"), ("text", "案例描述")),
    ),
    "hant": Phrases(
        intro="資料中與問題最相關的原文如下：",
        simplified="簡體",
        not_found="抱歉，資料庫中沒有找到能回答這個問題的內容。可以換個說法再問，或把相關文件加入 corpus/ 後重新建立索引。",
        llm_failed="語言模型暫時無法使用，以下是從資料中直接摘錄的答案。",
        llm_uncited="語言模型的回答沒有引用任何有效來源，以下改為從資料中直接摘錄。",
        unsupported="（此句未在所引來源中找到依據）",
        lesson_no_passages="索引中沒有與這個主題相關的段落。",
        lesson_filtered_out="沒有段落符合篩選條件（{filters}）。",
        lesson_needs_llm="大綱與討論題需要大型語言模型（設定 LLM_BASE_URL 與 LLM_MODEL，或在應用程式的大型語言模型設定中填寫）；重點段落與關鍵詞不需要它，已經完整。",
        lesson_llm_failed="{error}。缺少大綱與討論題；重點段落與關鍵詞完整。",
        lesson_no_outline="大型語言模型沒有傳回大綱；重點段落與關鍵詞完整。",
        lesson_uncited="大型語言模型的大綱沒有引用任何段落：請對照段落檢查。",
        blank="請輸入{what}：空白或只有標點符號的內容無法回答。",
        too_long="{what}太長（{length} 個字元），請縮短到 {limit} 個字元以內再試。",
        inputs=(("question", "問題"), ("topic", "課程主題"), ("text", "案例描述")),
    ),
    "en": Phrases(
        intro="The sources say (quoted in their original language):",
        simplified="simplified",
        not_found="Sorry, the corpus does not answer this question. Try asking it another way, or add documents that cover it to corpus/ and rebuild the index.",
        llm_failed="The language model is unavailable right now; the answer below is quoted directly from the sources.",
        llm_uncited="The language model's answer cited no valid source; the answer below is quoted directly from the sources instead.",
        unsupported=" (not supported by the cited source)",
        lesson_no_passages="The index has no passages for this topic.",
        lesson_filtered_out="No passages match the filters ({filters}).",
        lesson_needs_llm="The outline and discussion questions need an LLM (set LLM_BASE_URL and LLM_MODEL, or fill in the LLM settings in the app); the passages and key terms are complete without one.",
        lesson_llm_failed="{error}. The outline and discussion questions are missing; the passages and key terms are complete.",
        lesson_no_outline="The LLM returned no outline; the passages and key terms are complete.",
        lesson_uncited="The LLM's outline cites none of the passages: check it against them.",
        blank="Please type a {what}: a blank or punctuation-only one cannot be answered.",
        too_long="The {what} is too long ({length} characters): please shorten it to at most {limit} characters.",
        inputs=(("question", "question"), ("topic", "lesson topic"), ("text", "case description")),
    ),
}


class ScriptDetector:
    """Tells simplified from traditional Chinese and renders traditional text in simplified."""

    def __init__(self) -> None:
        self._t2s = opencc.OpenCC("t2s")

    def script(self, text: str) -> Script:
        if not has_cjk(text):
            return "en"
        return "hant" if self._t2s.convert(text) != text else "hans"

    def simplified(self, text: str) -> str:
        """Character-level traditional→simplified (no vocabulary changes), for display."""
        return self._t2s.convert(text)


