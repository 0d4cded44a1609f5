"""What the assistant needs from a chat model, and how one is configured; no LangChain here.

`ChatModel` is the small interface the assistant calls (tests use fakes); `qa.llm` implements
it with LangChain. `LlmSettings.from_env` reads LLM_BASE_URL, LLM_MODEL and LLM_API_KEY;
`LlmSettings.for_visitor` is what a page visitor may configure: the operator's key goes only
to the operator's URL; `visitors_choose_llm` says whether a visitor may configure one at all
(a typed URL makes the server send requests wherever the visitor says).
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from typing import Iterator, Mapping, Protocol

from .prompts import Prompt


class LlmError(Exception):
    """The chat model failed (unreachable, timed out, refused the request). The message never
    contains the API key."""


class LlmConfigError(LlmError):
    """The LLM_* environment variables are incomplete."""


VISITOR_LLM = "APP_VISITOR_LLM"  # allow | deny; unset: allow only on a loopback address


def visitors_choose_llm(env: Mapping[str, str], server_address: str | None) -> bool:
    """Whether a page visitor may point the server at an LLM of their choice. The operator
    says so with APP_VISITOR_LLM=allow|deny; unset, only an app listening on a loopback
    address (`make run`: 127.0.0.1) allows it, where every visitor is on this machine and
    could send those requests themselves. On any other address a typed URL would let anyone
    with the page make the server request hosts of its network (server-side request forgery)."""
    setting = env.get(VISITOR_LLM, "").strip().lower()
    if setting in ("allow", "deny"):
        return setting == "allow"
    if setting:
        raise LlmConfigError(f"{VISITOR_LLM} is {setting!r}: set it to allow or deny (unset: allow only on a loopback address)")
    address = (server_address or "").strip().strip("[]")
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:  # empty (every interface) or a host name
        return False


class ChatModel(Protocol):
    name: str

    def stream(self, prompt: Prompt) -> Iterator[str]:
        """The reply, piece by piece, as it arrives. Raises LlmError."""


@dataclass(frozen=True)
class LlmSettings:
    base_url: str
    model: str
    api_key: str = field(default="", repr=False)
    timeout_s: float = 60.0  # per request: connecting, and between streamed pieces
    max_retries: int = 1  # a failed request is tried once more before giving up
    max_tokens: int = 512
    temperature: float = 0.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ, **overrides) -> LlmSettings | None:
        """None when no LLM is configured (neither LLM_BASE_URL nor LLM_MODEL set)."""
        base_url = env.get("LLM_BASE_URL", "").strip()
        model = env.get("LLM_MODEL", "").strip()
        if not base_url and not model:
            return None
        if not base_url or not model:
            missing = "LLM_BASE_URL" if not base_url else "LLM_MODEL"
            raise LlmConfigError(f"{missing} is not set: set LLM_BASE_URL and LLM_MODEL (and LLM_API_KEY if the server needs one), or neither for extractive answers")
        return cls(base_url=base_url, model=model, api_key=env.get("LLM_API_KEY", "").strip(), **overrides)

    @classmethod
    def for_visitor(cls, base_url: str, model: str, typed_key: str, env: Mapping[str, str] = os.environ) -> LlmSettings | None:
        """Settings from what a visitor typed. The environment's LLM_API_KEY is used only when
        the visitor typed no key and `base_url` is exactly the environment's LLM_BASE_URL;
        any other URL gets the visitor's key or none, so the operator's key never travels to
        a server the visitor chose."""
        base_url, typed_key = base_url.strip(), typed_key.strip()
        own_url = env.get("LLM_BASE_URL", "").strip().rstrip("/")
        key = typed_key or (env.get("LLM_API_KEY", "") if own_url and base_url.rstrip("/") == own_url else "")
        return cls.from_env({"LLM_BASE_URL": base_url, "LLM_MODEL": model, "LLM_API_KEY": key})
