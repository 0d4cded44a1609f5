"""A real OpenAI-compatible LLM server (llama-cpp-python) for integration tests.

This module owns the server's process: it starts `python -m llama_cpp.server` on
127.0.0.1 in its own process group with output going to a log file, waits until
`GET /v1/models` answers, and stops it (SIGTERM to the group, then SIGKILL).
`running_llm_server` is the context manager tests use; the `LlmServer` handle it
yields can also be stopped mid-test to simulate the server going away.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MODEL_ALIAS = "qwen2.5-coder-0.5b-instruct"
_HOST = "127.0.0.1"


class LlmServerStartError(RuntimeError):
    """The server exited or did not answer in time; the message ends with its log tail."""


@dataclass(frozen=True)
class LlmServer:
    """A started server: where it answers, where it logs, and how to stop it."""

    base_url: str
    model: str
    log_path: Path
    process: subprocess.Popen[bytes]

    def stop(self, grace_s: float = 10) -> None:
        """Stop the server's process group; safe to call more than once."""
        if self.process.poll() is None:
            _signal_group(self.process, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                _signal_group(self.process, signal.SIGKILL)
                self.process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((_HOST, 0))
        return s.getsockname()[1]


def start_llm_server(
    model_path: Path,
    port: int | None = None,
    timeout_s: float = 120,
    *,
    n_ctx: int = 4096,
    n_threads: int = 1,
    log_path: Path | None = None,
) -> LlmServer:
    """Start the server and return once `GET /v1/models` answers; the caller stops it."""
    port = port or free_port()
    if log_path is None:
        fd, name = tempfile.mkstemp(prefix="llm-server-", suffix=".log")
        os.close(fd)
        log_path = Path(name)
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model_path),
        "--model_alias", MODEL_ALIAS,
        "--host", _HOST,
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--n_threads", str(n_threads),
        "--n_threads_batch", str(n_threads),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    server = LlmServer(f"http://{_HOST}:{port}/v1", MODEL_ALIAS, log_path, process)
    try:
        _wait_until_ready(server, timeout_s)
    except BaseException:
        server.stop()
        raise
    return server


@contextmanager
def running_llm_server(model_path: Path, **options) -> Iterator[LlmServer]:
    """Run the server for the `with` block (options as for `start_llm_server`) and always stop it."""
    server = start_llm_server(model_path, **options)
    try:
        yield server
    finally:
        server.stop()


def _wait_until_ready(server: LlmServer, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if server.process.poll() is not None:
            code = server.process.returncode
            raise LlmServerStartError(
                f"llama_cpp.server exited with {code}\n{_tail(server.log_path)}"
            )
        try:
            with urllib.request.urlopen(f"{server.base_url}/models", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise LlmServerStartError(
                f"llama_cpp.server not ready after {timeout_s}s\n{_tail(server.log_path)}"
            )
        time.sleep(0.2)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def _tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return f"--- last lines of {path} ---\n" + "\n".join(text)
