"""The app as a user meets it: `make run` on a free port, headless Debian chromium, a question,
an answer with its cited passage. Saves a screenshot under var/screenshots/. (`make test-browser`)"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from ..conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SCREENSHOTS = REPO / "var" / "screenshots"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, log: Path, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"`make run` exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"the app did not come up in {timeout_s} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("run") / "make-run.log"
    env = {**os.environ, "INDEX_DIR": str(tmp_path_factory.mktemp("index") / "index")}
    with open(log, "w") as out:
        server = subprocess.Popen(["make", "run", f"PORT={port}"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server, log)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test-browser` installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.mark.parametrize("width", [1280, 420])
def test_question_gets_a_cited_passage(app_url, browser, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(app_url)
    page.wait_for_selector("textarea", timeout=120_000)
    page.fill("textarea", "數字金融如何推動綠色消費？")
    page.keyboard.press("Enter")
    page.get_by_text("Copy the quotation").wait_for(timeout=120_000)
    answer = page.locator("[data-testid='stChatMessage']").last
    text = answer.inner_text()
    assert re.search(r"[^\n]\[1\]", text)  # the answer cites source 1 …
    assert re.search(r"\[1\] 《[^》]+》 · .+ · .+, characters \d+–\d+", text)  # … whose reference is open
    assert answer.get_by_text("推動了綠色消費的普及").count() >= 1  # … with its passage
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"answer-{width}px.png"), full_page=True)
    page.close()


def test_cases_tab_on_the_default_corpus_takes_the_document_as_its_case(app_url, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_url)
    page.wait_for_selector("textarea", timeout=120_000)
    page.get_by_role("tab", name="Cases").click()
    page.get_by_text("each document is one case").wait_for(timeout=60_000)
    page.get_by_role("tab", name="Lesson").click()
    page.get_by_label("Lesson topic").fill("綠色消費")
    page.get_by_label("Lesson topic").press("Enter")
    page.get_by_role("button", name="Build lesson pack").click()
    page.get_by_text("Download lesson (Word)").wait_for(timeout=120_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "lesson-default-corpus.png"), full_page=True)
    page.close()
