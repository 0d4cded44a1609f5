"""The HTTP API: OpenAI-compatible cited answers, search and health, for any chat client.

Owns the routes (`/v1/chat/completions` with `stream` as server-sent events in OpenAI's chunk
format and the citations in an extra `citations` field, `/v1/models`, `/v1/search`, `/health`),
turning requests into `Assistant` calls and named errors into JSON errors with the right status,
the optional bearer token (`API_TOKEN`, compared in constant time, never logged), the request
size cap (checked before any parsing), and reopening the index when a running ingest commits a
new one. Answering, limits and filters are `qa.assistant`'s, `qa.limits`' and `qa.filters`'.

Concurrency: one process serves HTTP (uvicorn's event loop); searches and offline answers,
which are CPU work, go to `--workers` answering processes (one per core by default), each with
its own index and model, taking requests from one first-come-first-served queue: whichever is
free takes the next (`AnsweringProcesses`). Answers that wait on an LLM run on the serving
process's thread pool, where waiting costs nothing. The LLM comes from the server's `LLM_*`
environment, never from a request.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import json
import logging
import multiprocessing
import os
import queue
import threading
import time
import uuid
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Literal, Mapping

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from index.commit import MANIFEST
from index.store import IndexUnavailable, default_index_dir, open_index

from .answer import Answer, Restart, TextDelta, Turn
from .assistant import Assistant, open_assistant
from .chat import LlmSettings
from .filters import FilterError, Filters
from .limits import InputRefused, Limits, LimitsConfigError
from .retrieve import Retriever

MODEL_ID = "casebook"
log = logging.getLogger("qa.server")
async def _in_memory(chunks: Iterator[str]):
    """Chunks already computed, streamed without a thread hop each."""
    for chunk in chunks:
        yield chunk


@dataclass(frozen=True)
class ServerSettings:
    index_dir: Path
    token: str = ""  # API_TOKEN; empty: no authentication
    max_request_bytes: int = 64 * 1024  # a request body, before parsing
    max_k: int = 50  # passages per search
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> ServerSettings:
        """INDEX_DIR, API_TOKEN, MAX_REQUEST_BYTES, MAX_QUESTION_CHARS. Raises LimitsConfigError naming the bad one."""
        raw = env.get("MAX_REQUEST_BYTES", "").strip() or str(cls.max_request_bytes)
        if not raw.isdigit() or int(raw) < 1024:
            raise LimitsConfigError(f"MAX_REQUEST_BYTES must be a whole number of bytes, at least 1024, not {raw!r}")
        index_dir = Path(env["INDEX_DIR"]) if env.get("INDEX_DIR") else default_index_dir()
        return cls(index_dir=index_dir, token=env.get("API_TOKEN", ""), max_request_bytes=int(raw), limits=Limits.from_env(env))


class ApiError(Exception):
    """An error a client gets as OpenAI-style JSON: `{"error": {"message", "type", "param", "code"}}`."""

    def __init__(self, status: int, message: str, code: str, param: str | None = None, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.code, self.param, self.kind = status, message, code, param, kind

    def response(self, headers: Mapping[str, str] | None = None) -> JSONResponse:
        body = {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}
        return JSONResponse(body, status_code=self.status, headers=dict(headers or {}))


def index_signature(index_dir: Path) -> tuple[int, int] | None:
    """What changes when an ingest commits a new index version: its commit point
    (`index.commit`) is then replaced by a new file. One stat, cheap enough for every request.
    None when there is no index."""
    try:
        stat = (index_dir / MANIFEST).stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns


class _EmbeddingQueue:
    """The process's one model state (its C engine and torch keep per-model buffers), fed by one
    thread from a first-come-first-served queue: the texts of requests waiting together are
    embedded in one call, and no request waits behind later ones. (A plain lock wakes its
    waiters in any order: under 50 users some requests waited for seconds while most took
    a few hundred milliseconds.) Every other step of a request runs concurrently."""

    def __init__(self, embedder, max_batch: int = 32):
        self._embedder, self._max_batch = embedder, max_batch
        self.name, self.dim = embedder.name, embedder.dim
        self._waiting: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="embedding-queue", daemon=True).start()

    def embed(self, texts, kind) -> np.ndarray:
        result: Future = Future()
        self._waiting.put((list(texts), kind, result))
        return result.result()

    def _serve(self) -> None:
        while True:
            batch = [self._waiting.get()]
            while len(batch) < self._max_batch and not self._waiting.empty():
                batch.append(self._waiting.get_nowait())
            for kind in dict.fromkeys(kind for _, kind, _ in batch):
                self._embed_together([item for item in batch if item[1] == kind], kind)

    def _embed_together(self, items: list, kind) -> None:
        try:
            vectors = self._embedder.embed([text for texts, _, _ in items for text in texts], kind)
        except Exception as exc:  # noqa: BLE001 - handed to the waiting requests, which report it
            for _, _, result in items:
                result.set_exception(exc)
            return
        start = 0
        for texts, _, result in items:
            result.set_result(vectors[start:start + len(texts)])
            start += len(texts)


class Library:
    """The assistant over the current committed index, reopened when a new one is committed
    (the embedder, matcher and LLM are kept). Requests in flight keep the one they started with."""

    def __init__(self, settings: ServerSettings, env: Mapping[str, str] = os.environ, use_llm: bool = True):
        self._settings, self._lock = settings, threading.Lock()
        first = open_assistant(settings.index_dir, env=env, use_llm=use_llm)
        retriever = first.retriever
        # Only answers that wait on an LLM run on threads that share the model; an answering
        # process serves one request at a time and embeds directly.
        embedder = _EmbeddingQueue(retriever.embedder) if first.chat else retriever.embedder
        self._retriever_parts = (embedder, retriever.matcher, retriever.second.model if retriever.second else None)
        self._chat = first.chat
        self._signature = index_signature(settings.index_dir)
        self._assistant = self._over(retriever.index)
        self._assistant.search("数字金融")  # warm: jieba's dictionary, the model's first call

    def _over(self, index) -> Assistant:
        embedder, matcher, second_model = self._retriever_parts
        return Assistant(Retriever(index, embedder, matcher, second_model=second_model), self._chat, limits=self._settings.limits)

    def current(self) -> Assistant:
        signature = index_signature(self._settings.index_dir)
        if signature == self._signature or signature is None:
            return self._assistant
        with self._lock:
            if signature != self._signature:
                embedder, matcher, _ = self._retriever_parts
                try:
                    index = open_index(self._settings.index_dir, embedder.name, matcher)
                except (IndexUnavailable, OSError, ValueError) as exc:  # mid-swap or damaged: keep serving the old one
                    log.warning("index at %s changed but could not be opened (%s); serving the previous one", self._settings.index_dir, exc)
                    return self._assistant
                self._assistant, self._signature = self._over(index), signature
                log.info("reopened the index at %s: %d passages", self._settings.index_dir, len(index.chunks))
        return self._assistant


class AnsweringProcesses:
    """`processes` processes, each with its own index and model (a `Library` without an LLM),
    that search and compose offline answers, fed from one first-come-first-served queue:
    whichever is free takes the next request. (As uvicorn's worker processes, each kept the
    connections it had accepted: under 50 users one served 35 of them and its users waited three
    times as long as the other's; as threads of one process, requests shared the GIL in no
    order: p99 3.4 s against a p50 of 250 ms.) A process that dies is replaced with all the others."""

    def __init__(self, settings: ServerSettings, processes: int):
        self._settings, self._processes = settings, processes
        self._restarting = asyncio.Lock()
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            self._processes, mp_context=multiprocessing.get_context("spawn"),
            initializer=_open_worker_library, initargs=(self._settings,),
        )
        # One task each while none is idle starts them all now: no user waits for a model to load.
        for started in [pool.submit(os.getpid) for _ in range(self._processes)]:
            started.result()
        return pool

    async def run(self, work, *args):
        loop, pool = asyncio.get_running_loop(), self._pool
        try:
            return await loop.run_in_executor(pool, functools.partial(work, *args))
        except BrokenProcessPool:
            async with self._restarting:
                if self._pool is pool:
                    log.warning("an answering process died; starting %d new ones", self._processes)
                    pool.shutdown(wait=False)
                    self._pool = await loop.run_in_executor(None, self._start)
            return await loop.run_in_executor(self._pool, functools.partial(work, *args))

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


_worker_library: Library | None = None  # in an answering process


def _open_worker_library(settings: ServerSettings) -> None:
    global _worker_library
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    _worker_library = Library(settings, use_llm=False)


def _search_hits(question: str, k: int, filters: Filters) -> list[dict]:
    return [hit.to_json() for hit in _worker_library.current().search(question, k=k, filters=filters)]


def _offline_events(question: str, history: list[Turn], filters: Filters) -> list:
    return list(_worker_library.current().stream(question, history, filters))


# --- request bodies ------------------------------------------------------------------------

FilterSpec = list[str] | dict[str, str | list[str]]


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow")  # OpenAI clients send fields we do not use (temperature, user …)


class Message(_Body):
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """The text of the message: a string, or the text parts of a multi-part content."""
        if isinstance(self.content, list):
            return "".join(str(part.get("text", "")) for part in self.content if part.get("type") == "text")
        return self.content or ""


class ChatRequest(_Body):
    model: str = MODEL_ID
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    filters: FilterSpec = Field(default_factory=list, description="as `--filter`: [\"theme=綠色金融\"] or {\"theme\": \"綠色金融\"}")


class SearchRequest(_Body):
    question: str
    k: int = 5
    filters: FilterSpec = Field(default_factory=list, description="as `--filter`: [\"theme=綠色金融\"] or {\"theme\": [\"綠色金融\", \"普惠金融\"]}")


def _filters(spec: FilterSpec, limits: Limits) -> Filters:
    items = spec if isinstance(spec, list) else [
        f"{key}={value}" for key, values in spec.items() for value in ([values] if isinstance(values, str) else values)
    ]
    try:
        return Filters.parse(items, limits)
    except FilterError as exc:
        raise ApiError(400, str(exc), "invalid_filter", "filters") from None


def conversation(messages: list[Message]) -> tuple[str, list[Turn]]:
    """The question (the last user message) and the earlier exchanges as turns, oldest first.
    System and other roles are left out: the server's prompts are fixed."""
    talk = [m for m in messages if m.role in ("user", "assistant")]
    if not talk or talk[-1].role != "user":
        raise ApiError(400, "messages must end with a user message (the question)", "invalid_messages", "messages")
    turns: list[Turn] = []
    for message in talk[:-1]:
        if message.role == "user":
            turns.append(Turn(message.text()))
        elif turns and not turns[-1].answer:
            turns[-1] = Turn(turns[-1].question, message.text())
    return talk[-1].text(), turns


# --- the app ---------------------------------------------------------------------------------


def _refused(exc: InputRefused) -> ApiError:
    return ApiError(400, exc.message, f"question_{exc.reason}", "messages" if exc.field == "question" else exc.field)


def create_app(settings: ServerSettings, workers: int = os.cpu_count() or 1) -> FastAPI:
    """The ASGI app over `settings`' index, with `workers` answering processes (started now)."""
    library = Library(settings)  # health, limits, and answers that wait on an LLM
    answering = AnsweringProcesses(settings, workers)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        answering.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Casebook API", version="1",
        description="Cited answers and search over 數字金融創新案例(2025). OpenAI-compatible: point any OpenAI client at `/v1`.",
    )
    app.add_middleware(_Guard, settings=settings)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        if first.get("type") == "json_invalid":
            return ApiError(400, "the request body is not valid JSON", "invalid_json").response()
        if first.get("type") == "model_attributes_type" and "json" not in request.headers.get("content-type", ""):
            return ApiError(400, "send the body as JSON, with the header Content-Type: application/json", "invalid_json").response()
        return ApiError(400, f"{where or 'body'}: {first.get('msg', 'invalid')}", "invalid_request", where or None).response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return ApiError(exc.status_code, str(exc.detail), "not_found" if exc.status_code == 404 else "http_error").response()

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return ApiError(500, "internal error; the server log has the details", "internal_error", kind="server_error").response()

    @app.get("/health", summary="Index loaded, documents, passages, model, answer mode (no token needed)")
    def health() -> dict:
        assistant = library.current()
        manifest = assistant.retriever.index.manifest
        return {
            "status": "ok", "index_loaded": True, "index_built_at": manifest.get("built_at"),
            "documents": len(manifest.get("documents", ())), "passages": len(assistant.retriever.index.chunks),
            "embedding_model": manifest.get("embedding_model"), "answer_mode": "llm" if assistant.chat else "extractive",
            "llm_model": assistant.chat.name if assistant.chat else None, "question_chars_limit": settings.limits.question_chars,
        }

    @app.get("/v1/models", summary="The one model: the casebook")
    def models() -> dict:
        return {"object": "list", "data": [_model_card()]}

    @app.get("/v1/models/{model_id}", summary="The casebook model")
    def model(model_id: str) -> dict:
        _check_model(model_id)
        return _model_card()

    @app.post("/v1/search", summary="Ranked passages for a question, as `python -m qa search --json`")
    async def search(body: SearchRequest) -> dict:
        if not 1 <= body.k <= settings.max_k:
            raise ApiError(400, f"k must be between 1 and {settings.max_k}, not {body.k}", "invalid_k", "k")
        filters = _filters(body.filters, settings.limits)
        try:
            hits = await answering.run(_search_hits, body.question, body.k, filters)
        except InputRefused as exc:
            raise _refused(exc) from None
        return {"question": body.question, "hits": hits}

    @app.post("/v1/chat/completions", summary="OpenAI-compatible chat: a cited answer; `citations` holds the sources")
    async def chat(body: ChatRequest):
        _check_model(body.model)
        question, history = conversation(body.messages)
        filters = _filters(body.filters, settings.limits)
        assistant = library.current()
        try:
            assistant.limits.text(question)  # refused with a 400 before a stream starts
        except InputRefused as exc:
            raise _refused(exc) from None
        reply = _Reply()
        if assistant.chat is None:  # offline: all CPU, computed before the first byte
            events = await answering.run(_offline_events, question, history, filters)
            if body.stream:
                return StreamingResponse(_in_memory(reply.sse(iter(events))), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
            return reply.completion(events[-1])
        events = assistant.stream(question, history, filters)
        if body.stream:  # starlette iterates it on the thread pool, as the LLM's tokens come
            return StreamingResponse(reply.sse(events), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        return reply.completion(await run_in_threadpool(lambda: next(e for e in events if isinstance(e, Answer))))

    return app


def _model_card() -> dict:
    return {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "casebook"}


def _check_model(model_id: str) -> None:
    if model_id != MODEL_ID:
        raise ApiError(404, f"the model {model_id!r} does not exist; this server serves {MODEL_ID!r}", "model_not_found", "model")


def _extras(answer: Answer) -> dict:
    """The fields an OpenAI client ignores and a casebook client reads."""
    return {
        "citations": [c.to_json() for c in answer.citations], "found": answer.found, "mode": answer.mode,
        "notice": answer.notice, "searched_as": answer.standalone_question or None,
    }


@dataclass
class _Reply:
    """One response's id and time, in OpenAI's completion and chunk shapes."""

    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))

    def _head(self, kind: str) -> dict:
        return {"id": self.id, "object": kind, "created": self.created, "model": MODEL_ID}

    def completion(self, answer: Answer) -> dict:
        return {
            **self._head("chat.completion"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text}, "finish_reason": "stop"}],
            **_extras(answer),
        }

    def _chunk(self, delta: dict, finish: Literal["stop"] | None = None, **extra) -> str:
        body = {**self._head("chat.completion.chunk"), "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    def sse(self, events: Iterator) -> Iterator[str]:
        """The answer as it comes. A restart (the LLM failed: quotes follow) is a chunk whose
        text says so and whose `restart` field carries the notice; the last chunk carries the
        checked answer text (`answer`) and the citations."""
        yield self._chunk({"role": "assistant", "content": ""})
        try:
            for event in events:
                if isinstance(event, TextDelta):
                    yield self._chunk({"content": event.text})
                elif isinstance(event, Restart):
                    yield self._chunk({"content": f"\n\n({event.notice})\n\n"}, restart=event.notice)
                else:
                    yield self._chunk({}, "stop", answer=event.text, **_extras(event))
        except Exception:  # headers are sent: the error goes in the stream, as OpenAI's does
            log.exception("unexpected error while streaming %s", self.id)
            error = {"error": {"message": "internal error; the server log has the details", "type": "server_error", "param": None, "code": "internal_error"}}
            yield f"data: {json.dumps(error)}\n\n"
        yield "data: [DONE]\n\n"


class _Guard:
    """ASGI middleware, before any parsing: the bearer token (every route but /health) and the
    request size (Content-Length, then the bytes actually received)."""

    def __init__(self, app, settings: ServerSettings):
        self._app, self._settings = app, settings
        self._token = settings.token.encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self._app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v for k, v in scope["headers"]}
        if self._token and scope["path"] != "/health":
            given = headers.get("authorization", b"")
            scheme, _, token = given.partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self._token):
                error = ApiError(401, "missing or wrong API token: send `Authorization: Bearer <API_TOKEN>`", "invalid_api_key", kind="authentication_error")
                return await error.response({"WWW-Authenticate": "Bearer"})(scope, receive, send)
        cap = self._settings.max_request_bytes
        too_large = ApiError(413, f"the request is larger than {cap} bytes (MAX_REQUEST_BYTES)", "request_too_large")
        declared = headers.get("content-length", b"0")
        if not declared.isdigit() or int(declared) > cap:
            return await too_large.response()(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > cap:
                return await too_large.response()(scope, receive, send)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self._app(scope, replay, send)


def app_from_env() -> FastAPI:
    """The app as `python -m qa serve` builds it, for `uvicorn --factory qa.server:app_from_env`
    (one uvicorn process: the answering processes are its own, one per core)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return create_app(ServerSettings.from_env())


def check_settings(env: Mapping[str, str] = os.environ) -> ServerSettings:
    """The settings and the index as the workers will open them, checked once before they
    start, so that a bad setting is one clear line. Raises the named errors."""
    settings = ServerSettings.from_env(env)
    LlmSettings.from_env(env)
    open_assistant(settings.index_dir, env=env, use_llm=False)
    return settings


def serve(host: str, port: int, workers: int) -> None:
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(ServerSettings.from_env(), workers), host=host, port=port, log_level="info")
