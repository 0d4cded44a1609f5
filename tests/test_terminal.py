"""Document text and file names reach the terminal without control codes: a planted escape
sequence (clear screen, retitle the window, write the clipboard) is printed as visible text
by the CLIs, while `--json` keeps the verbatim text. The corpus is SYNTHETIC."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from index.terminal import terminal_safe

from .conftest import REPO

PLANTED = "\x1b[2J\x1b]0;owned\x07\x1b]52;c;ZWNobyBvd25lZA==\x07\x9b31m"
BODY = "合成測試文本：某銀行推出了線上養老金賬戶服務，客戶在手機上即可開戶，審批時間從三天縮短到三分鐘。\n"
TEXT = BODY * 16 + f"該服務的名稱是養老金賬戶{PLANTED}。\n" + BODY * 16  # long enough not to look binary


def test_control_codes_become_visible_escapes_and_text_stays():
    assert terminal_safe("第一行\n\t第二行\r") == "第一行\n\t第二行\r"
    assert terminal_safe("a\x1b[2Jb\x07\x9b\x7f") == "a\\u001b[2Jb\\u0007\\u009b\\u007f"
    assert json.loads(f'"{terminal_safe(chr(0x9b))}"') == "\x9b"  # still valid inside a JSON string


@pytest.mark.slow
def test_the_clis_print_no_control_codes_from_documents_or_file_names(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "planted\x1b[31m_synthetic.txt").write_text(TEXT, encoding="utf-8")
    index = tmp_path / "index"

    def run(*args):
        done = subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "\x1b" not in done.stdout + done.stderr and "\x9b" not in done.stdout + done.stderr
        return done

    assert "indexed  planted" in run("ingest", str(corpus), "--index", str(index)).stdout
    shown = run("qa", "search", "--index", str(index), "該服務的名稱是什麼？").stdout
    assert "養老金賬戶\\u001b[2J\\u001b]0;owned\\u0007" in shown
    found = run("qa", "search", "--index", str(index), "--json", "該服務的名稱是什麼？").stdout
    assert any("\x1b]52;c;" in hit["text"] for hit in json.loads(found)["hits"])  # JSON keeps the verbatim text
