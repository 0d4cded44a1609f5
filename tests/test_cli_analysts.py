"""`qa search|ask --filter`, `qa similar`, `qa compare` and `qa lesson` end to end with the real
bundled model over the SYNTHETIC four-case book (slow)."""
import io
import json

import pytest
from docx import Document

from .conftest import shown
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
    assert "need an LLM" in markdown.stderr and "passages" in markdown.stdout
    text = shown((tmp_path / "lesson.md").read_text(encoding="utf-8"))  # as a Markdown viewer shows it
    assert "## Key terms" in text and "## Key passages" in text and "[1] 《casebook_synthetic》" in text
    word = run("-m", "qa", "lesson", "小微企業線上信貸", "--out", str(tmp_path / "lesson.docx"), "--index", str(index), "--filter", "case=案例三")
    assert word.returncode == 0, word.stderr
    paragraphs = [p.text for p in Document(io.BytesIO((tmp_path / "lesson.docx").read_bytes())).paragraphs]
    quoted = [p for p in paragraphs if p.startswith("[")]
    assert quoted and all("案例三" in p for p in quoted)
    bad = run("-m", "qa", "lesson", "x", "--out", str(tmp_path / "lesson.pdf"), "--index", str(index))
    assert bad.returncode != 0 and ".md" in bad.stderr


def test_an_index_without_cases_says_so(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "preface_synthetic.txt").write_text("序言\n數字金融的本質是金融（合成測試文本）。\n", encoding="utf-8")
    assert run("-m", "ingest", str(tmp_path / "corpus"), "--index", str(tmp_path / "index")).returncode == 0
    result = run("-m", "qa", "similar", "--case", "案例一", "--index", str(tmp_path / "index"))
    assert result.returncode == 1 and result.stderr.startswith("error: no cases found in the index")
