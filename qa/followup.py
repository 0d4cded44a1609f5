"""Follow-up questions without an LLM: a simple rule that carries the previous question's topic.

A question asked after another one is a follow-up when it points back ("它", "这个", "其",
"那么…", "it", "what about…") or is too short to stand alone (fewer than `min_terms`
informative words). Its standalone form is the previous standalone question's key terms
followed by the question. With an LLM, `qa.assistant` asks it to rewrite instead (prompts/condense.md).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from index.text import TextMatcher

_POINTS_BACK = re.compile(
    r"它|其|该|該|此|上述|前者|后者|後者|这个|這個|那个|那個|这些|這些|那些|他们|他們|她们|她們|它们|它們"
    r"|^\s*(?:那么|那麼|那|还有|還有|另外|此外|再|而|呢)"
    r"|\b(?:it|its|this|that|these|those|they|them|their)\b|^\s*(?:and|also|what about|how about)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FollowupRule:
    min_terms: int = 2  # fewer informative words than this: not a question on its own
    topic_terms: int = 3  # key terms carried over from the previous question
    min_weight: float = 9.0  # words more common than this (term_weight) are not topic terms

    def is_followup(self, question: str, matcher: TextMatcher) -> bool:
        informative = [t for t in set(matcher.tokens(question)) if matcher.term_weight(t) >= self.min_weight]
        return bool(_POINTS_BACK.search(question)) or len(informative) < self.min_terms

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
