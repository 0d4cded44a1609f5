"""Follow-up questions without an LLM: a simple rule that carries the previous question's topic.

A question asked after another one is a follow-up when it points back ("它", "这个", "其",
"那么…", "it", "what about…", as whole jieba words) or is too short to stand alone (fewer than `min_terms`
informative words). Its standalone form is the previous standalone question's key terms
followed by the question. With an LLM, `qa.assistant` asks it to rewrite instead (prompts/condense.md).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from index.text import TextMatcher

# Words (jieba's, in simplified form) that point back to something said before. Matched as
# whole words, so 其他, 其中, 应该, 因此, 此外 … do not count.
_POINTING_WORDS = frozenset(
    "它 它们 其 该 此 上述 前者 后者 这 这个 这些 这种 这项 这类 那 那个 那些 那种 他们 她们 该行 该项 此项 以上".split()
)
# … and words that, first in a question, continue the previous one.
_CONTINUING_WORDS = frozenset("那么 那 还有 另外 此外 再 而 那样".split())
# "该" before one of these is the modal "should" (该如何…), not "that".
_MODAL_AFTER_GAI = frozenset("如何 怎么 怎样 怎么样 不该".split())
_ENGLISH_POINTING = re.compile(
    r"\b(?:it|its|this|that|these|those|they|them|their)\b|^\s*(?:and|also|what about|how about)\b", re.IGNORECASE
)


def points_back(question: str, matcher: TextMatcher) -> bool:
    """Whether `question` refers to something earlier, judged on whole words."""
    words = matcher.words(question)
    for word, following in zip(words, [*words[1:], ""]):
        if word in _POINTING_WORDS and not (word == "该" and following in _MODAL_AFTER_GAI):
            return True
    return bool(words and words[0] in _CONTINUING_WORDS) or bool(_ENGLISH_POINTING.search(question))


@dataclass(frozen=True)
class FollowupRule:
    min_terms: int = 2  # fewer informative words than this: not a question on its own
    topic_terms: int = 3  # key terms carried over from the previous question
    min_weight: float = 9.0  # words more common than this (term_weight) are not topic terms

    def is_followup(self, question: str, matcher: TextMatcher) -> bool:
        informative = [t for t in set(matcher.tokens(question)) if matcher.term_weight(t) >= self.min_weight]
        return points_back(question, matcher) or len(informative) < self.min_terms

    def topic(self, previous: str, matcher: TextMatcher) -> list[str]:
        """The previous question's longest informative terms (compounds before their parts),
        in its order, none inside another."""
        tokens = list(dict.fromkeys(matcher.tokens(previous)))
        candidates = [t for t in tokens if matcher.term_weight(t) >= self.min_weight]
        chosen: list[str] = []
        for token in sorted(candidates, key=lambda t: (-len(t), -matcher.term_weight(t))):
            if len(chosen) < self.topic_terms and not any(token in c for c in chosen):
                chosen.append(token)
        return sorted(chosen, key=tokens.index)

    def standalone(self, question: str, previous_questions: Sequence[str], matcher: TextMatcher) -> str:
        """`question` itself, or, for a follow-up, the topic of the last question plus it.
        `previous_questions` are standalone forms, oldest first."""
        if not previous_questions or not self.is_followup(question, matcher):
            return question
        topic = self.topic(previous_questions[-1], matcher)
        return f"{' '.join(topic)} {question}" if topic else question
