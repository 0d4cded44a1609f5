"""The one module that imports LangChain: `ChatOpenAI` against any OpenAI-compatible server
(DeepSeek, Qwen/DashScope, GLM, Ollama, vLLM, llama.cpp).

Owns the client, its timeout and retry, and turning the client's many exception types into
`LlmError`. Prompts come from `qa.prompts`; checking what the model said is `qa.verify`'s job.
"""
from __future__ import annotations

from typing import Iterator

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from .chat import LlmError, LlmSettings
from .prompts import Prompt


class OpenAIChat:
    """A `ChatModel` over an OpenAI-compatible endpoint. Settings at construction."""

    def __init__(self, settings: LlmSettings):
        self.name = settings.model
        self._api_key = settings.api_key
        self._chat = ChatOpenAI(
            base_url=settings.base_url,
            model=settings.model,
            # Local servers (Ollama, llama.cpp) need no key, but the client insists on one.
            api_key=SecretStr(settings.api_key or "not-needed"),
            timeout=settings.timeout_s,
            max_retries=settings.max_retries,
            temperature=settings.temperature,
            streaming=True,
            # `max_tokens` itself: some servers (llama.cpp) ignore `max_completion_tokens`.
            extra_body={"max_tokens": settings.max_tokens},
        )

    def stream(self, prompt: Prompt) -> Iterator[str]:
        messages = ([SystemMessage(prompt.system)] if prompt.system else []) + [HumanMessage(prompt.user)]
        try:
            for piece in self._chat.stream(messages):
                # `.text`, not `.content`: some servers send content as a list of parts.
                if text := piece.text:
                    yield text
        except Exception as exc:  # openai, httpx and LangChain raise many types; all mean "failed"
            raise LlmError(self._describe(exc)) from exc

    def _describe(self, exc: Exception) -> str:
        message = f"{type(exc).__name__}: {exc}"
        if self._api_key:
            message = message.replace(self._api_key, "***")
        return f"LLM {self.name!r} failed: {message}"
