"""A tiny OpenAI-compatible chat server for tests of the page and of what is sent: it records
each request's Authorization header and answers with text a test chooses (as a stream of
server-sent events, the way `qa.llm` asks). Not a model: the real-LLM tests (`tests/llm`)
use llama-cpp-python; this one exists so a test can plant exact text or exact failures.
"""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator

# A reply is text, a list of OpenAI content parts (some servers send those), or an
# (HTTP status, body) pair for a failure.
Reply = str | list | tuple[int, str]


@dataclass
class StubLlm:
    base_url: str
    reply: Callable[[list[dict]], Reply]  # from the request's messages
    authorizations: list[str] = field(default_factory=list)  # the Authorization header of each request


def _chunk(content) -> bytes:
    event = {"id": "stub", "object": "chat.completion.chunk", "created": 0, "model": "stub",
             "choices": [{"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": None}]}
    return f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode()


def _handler(stub: StubLlm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output clean
            pass

        def do_POST(self) -> None:
            stub.authorizations.append(self.headers.get("Authorization", ""))
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            reply = stub.reply(body.get("messages", []))
            if isinstance(reply, tuple):
                status, text = reply
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"error": {"message": text}}, ensure_ascii=False).encode())
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            pieces = [reply] if isinstance(reply, list) else [reply[i : i + 20] for i in range(0, len(reply), 20)]
            for piece in pieces:
                self.wfile.write(_chunk(piece))
            self.wfile.write(b"data: [DONE]\n\n")

    return Handler


@contextmanager
def stub_llm(reply: Callable[[list[dict]], Reply]) -> Iterator[StubLlm]:
    """A running stub on a free loopback port, stopped afterwards."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    stub = StubLlm(base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", reply=reply)
    server.RequestHandlerClass = _handler(stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
