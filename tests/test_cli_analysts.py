"""`qa search|ask --filter`, `qa similar`, `qa compare` and `qa lesson` end to end with the real
bundled model over the SYNTHETIC four-case book (slow)."""
import io
import json
import subprocess
import sys

import pytest
from docx import Document

from .conftest import REPO, shown
from .synthetic_book import text_casebook
from .test_cli import HIT_FIELDS, run

pytestmark = pytest.mark.slow

CASE1 = "案例一 某農商銀行的數字普惠金融實踐（合成測試文本）"
CASE3 = "案例三 某城商銀行的小微企業線上信貸（合成測試文本）"


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("analysts-cli")
    (root / "corpus").mkdir()
    (root / "corpus" / "casebook_synthetic.txt").write_text(text_casebook(), encoding="utf-8")
    result = run("-m", "ingest", str(root / "corpus"), "--index", str(root / "index"))
    assert result.returncode == 0, result.stderr
    return root / "index"


def test_search_filter_keeps_the_contract_and_only_matching_passages(index):
    result = run("-m", "qa", "search", "線上信貸如何審批？", "--index", str(index), "--filter", "theme=绿色金融", "-k", "3", "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)["hits"]
    assert len(hits) == 3 and all(set(h) == HIT_FIELDS and "theme:綠色金融" in h["tags"] for h in hits)


def test_a_filter_matching_nothing_is_a_clear_empty_result(index):
    result = run("-m", "qa", "search", "線上信貸", "--index", str(index), "--filter", "scenario=信創開發", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["hits"] == []
    assert "no passages match the filters (scenario=信創開發)" in result.stderr
    asked = run("-m", "qa", "ask", "線上信貸", "--index", str(index), "--filter", "scenario=信創開發", "--json")
    assert asked.returncode == 0 and json.loads(asked.stdout)["found"] is False


def test_an_unknown_filter_key_names_the_allowed_ones(index):
    result = run("-m", "qa", "similar", "--case", "案例一", "--index", str(index), "--filter", "colour=red")
    assert result.returncode != 0
    assert result.stderr.strip() == "error: unknown filter key 'colour'; use one of doc, case, institution_type, theme, scenario"


def test_similar_ranks_the_obviously_similar_case_first_and_says_why(index):
    result = run("-m", "qa", "similar", "--case", "案例一", "-k", "3", "--index", str(index), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["case"] == CASE1 and len(data["similar"]) == 3
    first = data["similar"][0]
    assert first["case"] == CASE3 and "theme:普惠金融" in first["shared_tags"]
    source = text_casebook()
    for pair in first["pairs"]:
        for side in ("this", "that"):
            assert source[pair[side]["start"] : pair[side]["end"]] == pair[side]["text"]
    text = run("-m", "qa", "similar", "--text", "證券公司用區塊鏈建立碳賬戶", "-k", "1", "--index", str(index))
    assert text.returncode == 0 and "1. 案例二" in text.stdout and "characters" in text.stdout


def test_compare_cites_one_verbatim_passage_per_cell(index):
    result = run("-m", "qa", "compare", "案例一", "案例三", "--index", str(index), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["cases"] == [CASE1, CASE3] and [r["role"] for r in data["rows"]] == ["background", "approach", "results"]
    source = text_casebook()
    assert all(source[c["start"] : c["end"]] == c["text"] for row in data["rows"] for c in row["cells"])


def test_lesson_is_written_as_markdown_and_word(index, tmp_path):
    markdown = run("-m", "qa", "lesson", "小微企業線上信貸", "--out", str(tmp_path / "lesson.md"), "--index", str(index))
    assert markdown.returncode == 0, markdown.stderr
    assert "需要大型語言模型" in markdown.stderr and "passages" in markdown.stdout
    text = shown((tmp_path / "lesson.md").read_text(encoding="utf-8"))  # as a Markdown viewer shows it
    assert "## Key terms" in text and "## Key passages" in text and "[1] 《casebook_synthetic》" in text
    word = run("-m", "qa", "lesson", "小微企業線上信貸", "--out", str(tmp_path / "lesson.docx"), "--index", str(index), "--filter", "case=案例三")
    assert word.returncode == 0, word.stderr
    paragraphs = [p.text for p in Document(io.BytesIO((tmp_path / "lesson.docx").read_bytes())).paragraphs]
    quoted = [p for p in paragraphs if p.startswith("[")]
    assert quoted and all("案例三" in p for p in quoted)
    bad = run("-m", "qa", "lesson", "x", "--out", str(tmp_path / "lesson.pdf"), "--index", str(index))
    assert bad.returncode != 0 and ".md" in bad.stderr


def test_similar_batch_prints_one_line_per_case_and_an_error_line_for_a_bad_one(index, tmp_path):
    batch = tmp_path / "cases.jsonl"
    batch.write_text("\n".join(['{"case": "案例一"}', '{"case": "案例九"}', "not json", '{"case": "案例三"}']) + "\n", encoding="utf-8")
    result = run("-m", "qa", "similar", "--batch", str(batch), "-k", "2", "--index", str(index), "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["case"] for line in lines] == [CASE1, "案例九", None, CASE3]
    assert lines[0]["unit"] == "section" and [s["rank"] for s in lines[0]["similar"]] == [1, 2]
    assert lines[0]["similar"][0]["case"] == CASE3 and 0 <= lines[0]["similar"][0]["score"] <= 100
    assert "no case matches '案例九'" in lines[1]["error"] and lines[2]["line"] == 3 and "\"case\"" in lines[2]["error"]
    assert "2 lines of" in result.stderr


def test_a_folder_of_documents_has_each_document_as_a_case(tmp_path):
    """SYNTHETIC one-case-per-file folder: `qa similar` names document-cases by file name, and
    the shared scorer reads its batch output."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    files = {
        "loan_a_synthetic.txt": "某城商銀行的小微企業線上信貸平臺，整合稅務數據在三分鐘內審批貸款（合成測試文本）。",
        "loan_b_synthetic.txt": "某農商銀行為農戶提供線上信貸，依據稅務與社保數據自動審批貸款（合成測試文本）。",
        "green_synthetic.txt": "某證券公司用區塊鏈記錄能耗，為企業建立碳賬戶並承銷綠色債券（合成測試文本）。",
    }
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    assert run("-m", "ingest", str(corpus), "--index", str(tmp_path / "index")).returncode == 0
    batch = tmp_path / "cases.jsonl"
    batch.write_text("".join(json.dumps({"case": name}) + "\n" for name in files), encoding="utf-8")
    result = run("-m", "qa", "similar", "--batch", str(batch), "-k", "1", "--index", str(tmp_path / "index"), "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(line["unit"] == "document" for line in lines)
    assert lines[0]["similar"][0]["case"] == "loan_b_synthetic.txt" and lines[1]["similar"][0]["case"] == "loan_a_synthetic.txt"
    scorer = REPO.parent / "shared" / "eval" / "cases" / "score_cases.py"
    if scorer.exists():
        (tmp_path / "labels.jsonl").write_text("".join(
            json.dumps({"doc": name, "label": "green" if "green" in name else "loan"}) + "\n" for name in files), encoding="utf-8")
        (tmp_path / "similar.jsonl").write_text(result.stdout, encoding="utf-8")
        scored = subprocess.run([sys.executable, str(scorer), str(tmp_path / "labels.jsonl"), str(tmp_path / "similar.jsonl")], capture_output=True, text=True)
        assert json.loads(scored.stdout)["cases"] == 3 and json.loads(scored.stdout)["precision@1"] == pytest.approx(2 / 3)
