"""The HTTP API under load (issue 13): the real server (`python -m qa serve`, one worker per
core) on a free loopback port, and a bounded client of N concurrent users, each sending a mix
of searches, chat completions and streamed chat completions back to back until the time is up.
Every response is checked: status 200, and every citation or hit verbatim
(`text == document[start:end]`). Each request asks the next question of a pool of about 3,700 real
questions (`question_pool`: on-topic and off-topic), so no figure comes from a question the
server has just seen. Measured: latency p50/p95/p99 and throughput, for one user at
a time and for N users, side by side in one run (the ratio is what holds on a busy machine).
Used by `python -m bench` and by the load test (tests/load/)."""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import httpx

from ingest.loaders import discover, load_document

from .speed import percentile

REPO = Path(__file__).resolve().parent.parent
KINDS = ("search", "chat", "chat_stream")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Server:
    url: str
    pid: int  # the uvicorn supervisor; its worker processes are its children

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server's processes (Linux /proc)."""
        tick, total, pids = os.sysconf("SC_CLK_TCK"), 0.0, [self.pid]
        while pids:
            pid = pids.pop()
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
                pids += [int(c) for t in Path(f"/proc/{pid}/task").iterdir() for c in (t / "children").read_text().split()]
        return total


@contextlib.contextmanager
def running_api(index: Path, log: Path, workers: int = 2, env: Mapping[str, str] | None = None, timeout: float = 180) -> Iterator[Server]:
    """`python -m qa serve` over `index` on a free loopback port, its output in `log`, without
    the caller's LLM_* settings unless `env` gives them; yields it once /health answers;
    always stopped."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LLM_")}
    environment.update({"PYTHONPATH": str(REPO), **(env or {})})
    command = [sys.executable, "-m", "qa", "serve", "--index", str(index), "--port", str(port), "--workers", str(workers)]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=REPO, env=environment, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the API server exited: {log.read_text(encoding='utf-8', errors='replace')[-2000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the API server did not answer /health in time")
            time.sleep(0.5)
        yield Server(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def question_pool() -> list[str]:
    """The real questions the load is made of, each once, in an order that mixes the sets: the
    dev set, tests/data/ask_questions.jsonl, the DRCD report set, then every question of DRCD's
    dev split (3,524, off-topic for the book: a server's refusals cost work too), so that a run
    of a few thousand requests asks no question twice and no answer comes from the server's cache."""
    shared = REPO.parent / "shared" / "eval"
    files = [shared / "dev.jsonl", REPO / "tests" / "data" / "ask_questions.jsonl", shared / "drcd" / "questions.jsonl"]
    sets = [[json.loads(line)["question"] for line in f.read_text(encoding="utf-8").splitlines() if line.strip()] for f in files if f.exists()]
    mixed = [q for group in itertools.zip_longest(*sets) for q in group if q is not None]
    split = shared / "drcd" / "DRCD_dev.json"
    if split.exists():
        articles = json.loads(split.read_text(encoding="utf-8"))["data"]
        mixed += [qa["question"] for article in articles for paragraph in article["paragraphs"] for qa in paragraph["qas"]]
    return list(dict.fromkeys(mixed))


def corpus_texts(corpus: Path) -> dict[str, str]:
    """Each document's text as the index quotes it, by document name (for the verbatim check)."""
    texts = {}
    for root, file in discover([corpus]):
        document = load_document(root, file)
        texts[document.doc] = document.text
    return texts


@dataclass
class LoadResult:
    users: int
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: list[str] = field(default_factory=list)  # what went wrong, one line each
    citations_checked: int = 0

    questions: int = 0  # in the pool: requests beyond it repeat questions

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def figures(self) -> dict:
        every = [x for v in self.latencies.values() for x in v]
        return {
            "users": self.users, "seconds": round(self.seconds, 1), "requests": self.requests,
            "by_kind": {k: len(v) for k, v in self.latencies.items()},
            "throughput_rps": round(self.requests / self.seconds, 2) if self.seconds else 0.0,
            "p50_ms": percentile(every, 50) if every else None,
            "p95_ms": percentile(every, 95) if every else None,
            "p99_ms": percentile(every, 99) if every else None,
            "errors": len(self.errors), "first_errors": self.errors[:5], "citations_checked": self.citations_checked,
            "distinct_questions": min(self.requests, self.questions),
        }


def _verbatim(hits: Sequence[dict], texts: Mapping[str, str], result: LoadResult, what: str) -> None:
    for hit in hits:
        result.citations_checked += 1
        if texts.get(hit["doc"], "")[hit["start"]:hit["end"]] != hit["text"]:
            result.errors.append(f"{what}: citation {hit.get('n', hit.get('rank'))} of {hit['doc']} [{hit['start']}:{hit['end']}] is not verbatim")


async def _one(client: httpx.AsyncClient, kind: str, question: str, texts: Mapping[str, str], result: LoadResult) -> None:
    messages = [{"role": "user", "content": question}]
    if kind == "search":
        response = await client.post("/v1/search", json={"question": question, "k": 5})
        response.raise_for_status()
        _verbatim(response.json()["hits"], texts, result, kind)
    elif kind == "chat":
        response = await client.post("/v1/chat/completions", json={"model": "casebook", "messages": messages})
        response.raise_for_status()
        _verbatim(response.json()["citations"], texts, result, kind)
    else:
        final = None
        async with client.stream("POST", "/v1/chat/completions", json={"model": "casebook", "messages": messages, "stream": True}) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if line.startswith("data: {"):
                    chunk = json.loads(line[6:])
                    if "error" in chunk:
                        raise RuntimeError(chunk["error"]["message"])
                    if chunk["choices"][0]["finish_reason"] == "stop":
                        final = chunk
        if final is None:
            raise RuntimeError("the stream ended without its final chunk")
        _verbatim(final["citations"], texts, result, kind)


async def _load(url: str, users: int, seconds: float, questions: Sequence[str], texts: Mapping[str, str], token: str) -> LoadResult:
    result = LoadResult(users, questions=len(questions))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=120) as client:
        start = time.perf_counter()
        deadline = start + seconds

        turns = itertools.count()  # one event loop: no lock needed

        async def user(number: int) -> None:
            while time.perf_counter() < deadline:
                turn = next(turns)
                kind, question = KINDS[(turn + number) % len(KINDS)], questions[turn % len(questions)]
                sent = time.perf_counter()
                try:
                    await _one(client, kind, question, texts, result)
                except (httpx.HTTPError, RuntimeError, KeyError, ValueError) as exc:
                    result.errors.append(f"{kind}: {type(exc).__name__}: {str(exc)[:200]}")
                result.latencies[kind].append(1000 * (time.perf_counter() - sent))

        await asyncio.gather(*(user(n) for n in range(users)))
        result.seconds = time.perf_counter() - start
    return result


def run_load(url: str, users: int, seconds: float, questions: Sequence[str], texts: Mapping[str, str], token: str = "") -> LoadResult:
    """`users` concurrent users for `seconds` (requests in flight at the end are finished)."""
    return asyncio.run(_load(url, users, seconds, questions, texts, token))


def measure_api(index: Path, texts: Mapping[str, str], log: Path, users: int = 50, seconds: float = 20.0) -> dict:
    """One user at a time, then `users` at once, against one server (one worker per core);
    the warm-up and the two runs ask disjoint parts of the question pool (the one-user run
    makes a few hundred requests, the concurrent run a few thousand)."""
    workers = os.cpu_count() or 1
    pool = question_pool()
    with running_api(index, log, workers=workers) as server:
        run_load(server.url, workers, 3.0, pool[:200], texts)  # warm every worker
        runs = {}
        for name, count, questions in (("one_user", 1, pool[200:800]), ("concurrent", users, pool[800:])):
            cpu = server.cpu_seconds()
            result = run_load(server.url, count, seconds, questions, texts)
            used = server.cpu_seconds() - cpu
            # How much CPU the shared machine gave the server, and what a request cost in it.
            runs[name] = {**result.figures(), "server_cores_used": round(used / result.seconds, 2),
                          "server_cpu_ms_per_request": round(1000 * used / max(result.requests, 1), 1)}
    single, many = runs["one_user"], runs["concurrent"]
    ratio = round(many["throughput_rps"] / single["throughput_rps"], 2) if single["throughput_rps"] else None
    return {"workers": workers, **runs, "throughput_ratio": ratio, "cores_ratio": round(many["server_cores_used"] / single["server_cores_used"], 2)}


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.api --index DIR [--corpus corpus] [--users 50] [--seconds 20]`: these
    figures alone, as one JSON object (`python -m bench` includes them)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.api", description=main.__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="an index of --corpus")
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--log", type=Path, default=Path("var/bench/api-server.log"))
    args = parser.parse_args(argv)
    args.log.parent.mkdir(parents=True, exist_ok=True)
    print(json.dumps(measure_api(args.index, corpus_texts(args.corpus), args.log, args.users, args.seconds), ensure_ascii=False))


if __name__ == "__main__":
    main()
