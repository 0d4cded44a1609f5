"""The API server's embedding queue: first come first served, concurrent texts in one call,
each request gets its own vectors back, and a failure reaches every request it concerns."""
from __future__ import annotations

import threading
import time

import numpy as np

from qa.server import _EmbeddingQueue


class _GatedEmbedder:
    """Records each call; the first call waits until released, so others queue behind it."""

    name, dim = "gated", 2

    def __init__(self, fail: bool = False):
        self.calls: list[list[str]] = []
        self.release, self.fail = threading.Event(), fail

    def embed(self, texts, kind):
        self.calls.append(list(texts))
        if len(self.calls) == 1:
            self.release.wait(10)
        if self.fail:
            raise RuntimeError("model failed")
        return np.array([[float(len(t)), float(i)] for i, t in enumerate(texts)], dtype=np.float32)


def _ask_in_order(queue_, texts):
    results, threads = {}, []
    for text in texts:
        def ask(text=text):
            try:
                results[text] = queue_.embed([text], "query")
            except RuntimeError as exc:
                results[text] = exc
        thread = threading.Thread(target=ask)
        thread.start()
        threads.append(thread)
        time.sleep(0.05)  # arrive in this order
    return results, threads


def test_requests_waiting_together_are_embedded_in_one_call_in_arrival_order():
    model = _GatedEmbedder()
    results, threads = _ask_in_order(_EmbeddingQueue(model), ["a", "bb", "ccc", "dddd"])
    model.release.set()
    for thread in threads:
        thread.join(10)
    assert model.calls == [["a"], ["bb", "ccc", "dddd"]]
    assert {text: vectors[0, 0] for text, vectors in results.items()} == {"a": 1, "bb": 2, "ccc": 3, "dddd": 4}


def test_a_model_failure_reaches_each_waiting_request():
    model = _GatedEmbedder(fail=True)
    results, threads = _ask_in_order(_EmbeddingQueue(model), ["a", "bb"])
    model.release.set()
    for thread in threads:
        thread.join(10)
    assert all(isinstance(r, RuntimeError) for r in results.values()) and len(results) == 2


def test_texts_of_different_kinds_are_never_embedded_together():
    seen = []

    class Recording:
        name, dim = "recording", 1

        def embed(self, texts, kind):
            seen.append((kind, list(texts)))
            return np.zeros((len(texts), 1), dtype=np.float32)

    embedding = _EmbeddingQueue(Recording())
    for kind in ("query", "passage"):
        assert embedding.embed(["x", "y"], kind).shape == (2, 1)
    assert seen == [("query", ["x", "y"]), ("passage", ["x", "y"])]
