"""OCR figures for `python -m bench` (and alone: `python -m bench.ocr [--full]`): character accuracy (1 − CER) of whole scanned documents
rendered from known text (the default corpus, DRCD articles) at two resolutions and in two
columns, seconds per page, and retrieval on an OCR'd copy of DRCD articles (an image-only PDF
per article) against the same articles as text.

Accuracy is measured through the whole reading path (`ingest.formats.read_document`: render,
recognize, reading order, running header and page number dropped), comparing the text with
the text that was drawn, whitespace removed (line breaks are layout, not characters).
`exact` counts a full-width comma read for a half-width one as an error; `nfkc` compares after
NFKC folding, the form matching and search use. Quick by default (a few pages); `full`
renders whole book pages (4 of the default corpus, 3 of DRCD), compares RapidOCR's own
PP-OCRv4 model on the 28 px pages, reads the 28 px corpus pages with each of `SPEED_VARIANTS`
side by side (what each speed setting is worth, as ratios to the defaults), profiles one page
(`measure_stages`) and samples 10 DRCD
articles for retrieval.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rapidfuzz.distance import Levenshtein

from PIL import Image

from ingest.formats import Limits, Ocr, OcrSettings, read_document
from ingest.formats.ocr import recognize
from ingest.pipeline import ingest
from qa.retrieve import open_retriever

from .pages import Layout, image_pdf, paginate, render

_SPACE = re.compile(r"\s+")
HEADER = "合成測試頁眉"  # a running header on every rendered page, to be dropped


@dataclass(frozen=True)
class Sizes:
    """How much to render: quick by default, `full` for the report."""

    corpus_pages: int = 1
    drcd_pages: int = 1
    lines_per_page: int = 8  # a quick page is a third of a book page
    drcd_articles: int = 1  # for retrieval
    compare_models: bool = False
    compare_speed: bool = False

    @classmethod
    def full(cls) -> Sizes:
        return cls(corpus_pages=4, drcd_pages=3, lines_per_page=28, drcd_articles=10, compare_models=True, compare_speed=True)


# each a setting the defaults changed, alone and together (the defaults before the change)
SPEED_VARIANTS = {
    "defaults": OcrSettings(),
    "spinning threads": OcrSettings(spin=True),
    "detector at page size": OcrSettings(det_max_side=2000),
    "one thread": OcrSettings(threads=1),
    "spinning, detector at page size (before)": OcrSettings(spin=True, det_max_side=2000),
}


def char_accuracy(truth: str, read: str) -> float:
    """1 − character error rate: edits to turn `read` into `truth` over the truth's length."""
    return 1.0 - Levenshtein.distance(truth, read) / max(len(truth), 1)


def _squash(text: str, fold: bool) -> str:
    text = _SPACE.sub("", text)
    return unicodedata.normalize("NFKC", text) if fold else text


def _drcd_articles(drcd: Path) -> list[Path]:
    """Articles that answerable questions point to, in a fixed order."""
    questions = [json.loads(line) for line in (drcd / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    docs = sorted({q["doc"] for q in questions if q["doc"] and q["evidence"]})
    return [drcd / "corpus" / name for name in docs]


def _article_text(path: Path) -> str:
    return "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def _scan(text: str, layout: Layout, pages: int) -> tuple[bytes, str, int]:
    """An image-only PDF of the first `pages` pages of `text` (with a running header and page
    numbers), the text drawn on them without those, and the page count."""
    laid = paginate(text, layout)[:pages]
    header = HEADER if len(laid) > 1 else ""  # on a lone page a header can't be told from text
    images = [render(columns, layout, header=header, number=n) for n, columns in enumerate(laid, start=1)]
    truth = "".join(line for columns in laid for column in columns for line in column)
    return image_pdf(images, dpi=72 * 2.0), truth, len(laid)


def _read_scan(source: str, data: bytes, truth: str, count: int, settings: OcrSettings) -> dict:
    """One scanned PDF read through the whole path, no cache: accuracy exact and NFKC-folded,
    pages, characters per page, seconds per page (wall and CPU of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    document = read_document(f"{source}.pdf", ".pdf", data, Limits(), Ocr(settings))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "char_accuracy": round(char_accuracy(_squash(truth, False), _squash(document.text, False)), 4),
        "char_accuracy_nfkc": round(char_accuracy(_squash(truth, True), _squash(document.text, True)), 4),
        "pages": count,
        "chars_per_page": round(len(truth) / count),
        "s_per_page": round(wall / count, 2),
        "cpu_s_per_page": round(cpu / count, 2),
        "unsure_lines": len(document.ocr.unsure) if document.ocr else 0,
    }


def measure_accuracy(
    texts: dict[str, tuple[str, int]], settings: OcrSettings, lines_per_page: int,
    setups: tuple[str, ...] = ("28px", "20px", "2col_28px"), log: Callable[[str], None] = print,
) -> dict:
    """Per setup ("corpus_28px", …): `_read_scan`'s figures, under the load of the moment."""
    layouts = {
        "28px": Layout(char_px=28, lines_per_page=lines_per_page),
        "20px": Layout(char_px=20, lines_per_page=lines_per_page),
        "2col_28px": Layout(char_px=28, columns=2, lines_per_page=lines_per_page),
    }
    recognize(Image.new("L", (64, 64), 255), settings)  # load the models before timing
    out = {}
    for source, (text, pages) in texts.items():
        for name in setups:
            out[f"{source}_{name}"] = _read_scan(source, *_scan(text, layouts[name], pages), settings)
            log(f"ocr: {settings.model} {source}_{name}: {json.dumps(out[f'{source}_{name}'])}")
    return out


def measure_speed(text: str, pages: int, lines_per_page: int, rounds: int = 3, log: Callable[[str], None] = print) -> dict:
    """The 28 px corpus pages read with each of `SPEED_VARIANTS` in turn, `rounds` times after
    an untimed round that loads each engine and sizes its memory, so that a change of load
    hits all alike: per variant `_read_scan`'s figures with the median round's seconds per
    page, and their ratios to the defaults'."""
    data, truth, count = _scan(text, Layout(char_px=28, lines_per_page=lines_per_page), pages)
    rows: dict[str, list[dict]] = {name: [] for name in SPEED_VARIANTS}
    for turn in range(rounds + 1):
        for name, settings in SPEED_VARIANTS.items():
            row = _read_scan("corpus", data, truth, count, settings)
            if turn:
                rows[name].append(row)
                log(f"ocr: speed round {turn}, {name}: {json.dumps(row)}")
    out = {name: {**runs[0], **{k: statistics.median(r[k] for r in runs) for k in ("s_per_page", "cpu_s_per_page")}} for name, runs in rows.items()}
    base = out["defaults"]
    for row in out.values():
        row["wall_ratio"] = round(row["s_per_page"] / max(base["s_per_page"], 1e-9), 2)
        row["cpu_ratio"] = round(row["cpu_s_per_page"] / max(base["cpu_s_per_page"], 1e-9), 2)
    return out


def measure_stages(text: str, lines_per_page: int) -> dict:
    """Where one 28 px corpus page's time goes, in CPU seconds of one thread (the least of
    three runs): rendering it from the PDF, detection at the page's size and at the default
    scale, cutting out its lines, and recognizing them."""
    import numpy as np
    import pypdfium2 as pdfium

    from ingest.formats.ocr import _engine

    data, _, _ = _scan(text, Layout(char_px=28, lines_per_page=lines_per_page), 1)

    def least(step: Callable[[], object]) -> tuple[object, float]:
        times = []
        for _ in range(3):
            cpu = time.process_time()
            result = step()
            times.append(time.process_time() - cpu)
        return result, round(min(times), 3)

    page, render_s = least(lambda: pdfium.PdfDocument(data)[0].render(scale=OcrSettings().pdf_scale).to_pil())
    bgr = np.ascontiguousarray(np.asarray(page.convert("RGB"))[:, :, ::-1])
    out = {"page_px": list(page.size), "render": render_s}
    for label, side in (("detect_page_size", 2000), ("detect_default", OcrSettings().det_max_side)):
        engine = _engine(OcrSettings().model, 1, False, side)
        (boxes, _), out[label] = least(lambda: engine.text_det(bgr))
    lines, out["cut_lines"] = least(lambda: engine.get_crop_img_list(bgr, engine.sorted_boxes(boxes)))
    _, out["recognize"] = least(lambda: engine.text_rec(lines))
    out["lines"] = len(lines)
    return out


def _rank(hits, question: dict, covers: Callable[[str, str], bool]) -> int | None:
    for hit in hits:
        if Path(hit.chunk.doc).stem == Path(question["doc"]).stem and any(covers(hit.chunk.text, e) for e in question["evidence"]):
            return hit.rank
    return None


def measure_retrieval(drcd: Path, articles: list[Path], work: Path, covers: Callable[[str, str], bool]) -> dict:
    """MRR@10 and recall@1 of the answerable DRCD questions about `articles`, searched in an
    index of the articles as text and in one of the same articles scanned (image-only PDFs,
    one column, 28 px characters)."""
    names = {a.name for a in articles}
    questions = [q for q in map(json.loads, (drcd / "questions.jsonl").read_text(encoding="utf-8").splitlines()) if q.get("doc") in names and q["evidence"]]
    text_dir, scan_dir = work / "drcd-text", work / "drcd-scan"
    for folder in (text_dir, scan_dir):
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.iterdir():
            if stale.is_file() and stale.stem not in {a.stem for a in articles}:
                stale.unlink()
    pages = 0
    for article in articles:
        (text_dir / article.name).write_text(article.read_text(encoding="utf-8"), encoding="utf-8")
        data, _, count = _scan(_article_text(article), Layout(char_px=28), pages=99)
        (scan_dir / f"{article.stem}.pdf").write_bytes(data)
        pages += count
    out = {"articles": len(articles), "pages": pages, "questions": len(questions)}
    for copy, folder in (("text", text_dir), ("ocr", scan_dir)):
        index = work / f"drcd-{copy}-index"
        result = ingest([folder], index)
        if result.build is None and not index.exists():
            raise RuntimeError(f"no index built from {folder}: {[f.line() for f in result.files]}")
        retriever = open_retriever(index)
        ranks = [_rank(retriever.search(q["question"], k=10), q, covers) for q in questions]
        n = max(len(questions), 1)
        out[copy] = {
            "mrr@10": round(sum(1 / r for r in ranks if r) / n, 4),
            "recall@1": round(sum(1 for r in ranks if r == 1) / n, 4),
        }
    out["mrr_gap"] = round(out["text"]["mrr@10"] - out["ocr"]["mrr@10"], 4)
    return out


def run(corpus: Path, drcd: Path, work: Path, covers: Callable[[str, str], bool], sizes: Sizes = Sizes(), log: Callable[[str], None] = print) -> dict:
    """The `ocr` part of `python -m bench --json`; indexes and OCR caches go under `work`."""
    corpus_text = "\n".join(_article_text(p) for p in sorted(corpus.glob("*.txt")))
    articles = _drcd_articles(drcd)
    drcd_text = "\n".join(_article_text(p) for p in articles[: sizes.drcd_pages * 2])
    texts = {"corpus": (corpus_text, sizes.corpus_pages), "drcd": (drcd_text, sizes.drcd_pages)}
    log("ocr: character accuracy and seconds per page (PP-OCRv6 small)")
    accuracy = measure_accuracy(texts, OcrSettings(), sizes.lines_per_page, log=log)
    out = {"accuracy": accuracy}
    if sizes.compare_models:
        log("ocr: the 28 px pages with RapidOCR's bundled PP-OCRv4")
        out["accuracy_ppocrv4"] = measure_accuracy(texts, OcrSettings(model="ppocrv4"), sizes.lines_per_page, ("28px",), log)
    if sizes.compare_speed:
        log("ocr: the 28 px corpus pages with each speed setting, side by side")
        out["speed"] = measure_speed(corpus_text, min(sizes.corpus_pages, 2), sizes.lines_per_page, log=log)
        out["stages"] = measure_stages(corpus_text, sizes.lines_per_page)
        log(f"ocr: where a page's time goes (CPU s, one thread): {json.dumps(out['stages'])}")
    log(f"ocr: retrieval on {sizes.drcd_articles} DRCD articles, as text and scanned")
    out["retrieval"] = measure_retrieval(drcd, articles[: sizes.drcd_articles], work, covers)
    clean = [row for name, row in accuracy.items() if name.startswith("corpus")]
    worst = min(row["char_accuracy_nfkc"] for row in clean)
    slowest = max(row["s_per_page"] for row in accuracy.values())
    out["goals"] = {
        "char_accuracy_clean_traditional": {"target": ">= 0.97 (NFKC, every corpus setup)", "measured": worst, "holds": worst >= 0.97},
        "ocr_mrr_gap": {"target": "<= 0.03", "measured": out["retrieval"]["mrr_gap"], "holds": out["retrieval"]["mrr_gap"] <= 0.03},
        "s_per_page": {"target": "<= 3 (wall, slowest setup)", "measured": slowest, "holds": slowest <= 3},
    }
    return out



def main(argv: list[str] | None = None) -> int:
    from .quality import load_scorer

    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(prog="python -m bench.ocr", description="The OCR part of python -m bench, alone; JSON on stdout.")
    parser.add_argument("--full", action="store_true", help="whole book pages, more DRCD, PP-OCRv4 for comparison")
    parser.add_argument("--corpus", type=Path, default=repo / "corpus")
    parser.add_argument("--drcd", type=Path, default=repo.parent / "shared" / "eval" / "drcd")
    parser.add_argument("--work", type=Path, default=repo / "var" / "bench" / "ocr")
    args = parser.parse_args(argv)
    scorer = load_scorer(args.drcd.parent / "score.py")

    def log(message: str) -> None:
        print(f"[bench.ocr {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    figures = run(args.corpus, args.drcd, args.work, scorer.covers, Sizes.full() if args.full else Sizes(), log)
    print(json.dumps({"ocr": figures, "command": "python -m bench.ocr " + " ".join(argv if argv is not None else sys.argv[1:])}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
