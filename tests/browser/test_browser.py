"""The app as a user meets it: `make run` on a free port, headless Debian chromium, a question,
an answer with its cited passage, in each interface language (the browser's language picks it).
Saves screenshots, wide and narrow, under var/screenshots/. (`make test-browser`)"""
from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from qa.i18n import messages

from ..conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SCREENSHOTS = REPO / "var" / "screenshots"
DEFAULT_CORPUS = "".join(p.read_text(encoding="utf-8") for p in sorted((REPO / "corpus").glob("*.txt")))


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


@contextlib.contextmanager
def serving(command: list[str], port: int, env: dict, log):
    """The app served by `command` on `port` until the block ends (its whole process group stopped)."""
    with open(log, "w") as out:
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
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
def app_url(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("run") / "make-run.log"
    env = {**os.environ, "INDEX_DIR": str(tmp_path_factory.mktemp("index") / "index")}
    with serving(["make", "run", f"PORT={port}"], port, env, log) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test-browser` installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def _reference_pattern(language: str) -> str:
    """The open source's reference line: "[1] 《title》 · section · " then the catalog's span."""
    span = re.escape(messages(language)("reference_span"))
    for name, pattern in (("doc", ".+"), ("start", r"\d+"), ("end", r"\d+")):
        span = span.replace(re.escape("{%s}" % name), pattern)
    return r"\[1\] 《[^》]+》 · .+ · " + span


@pytest.mark.parametrize("width", [1280, 420])
@pytest.mark.parametrize(("locale", "language"), [("zh-TW", "zh-Hant"), ("zh-CN", "zh-Hans"), ("en-US", "en")])
def test_question_gets_a_cited_passage(app_url, browser, locale, language, width):
    t = messages(language)
    context = browser.new_context(locale=locale, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(app_url)
    page.wait_for_selector("textarea", timeout=120_000)
    page.get_by_role("heading", name=t("title")).wait_for(timeout=60_000)  # the browser's language
    page.get_by_role("button", name=t("example_lesson")).click()  # a start-page example
    page.get_by_text(t("copy_hint")).wait_for(timeout=120_000)
    answer = page.locator("[data-testid='stChatMessage']").filter(has_text=t("copy_hint")).last  # not a stale one
    text = answer.inner_text()
    assert re.search(r"[^\n]\[1\]", text)  # the answer cites source 1 …
    assert re.search(_reference_pattern(language), text)  # … whose reference is open
    quoted = answer.locator("[data-testid='stCode'] code").last.inner_text().split("\n—— ")[0]  # the copy box
    assert len(quoted) > 20 and quoted in DEFAULT_CORPUS  # … with its passage, verbatim
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"answer-{language}-{width}px.png"), full_page=True)
    context.close()


def test_cases_tab_on_the_default_corpus_takes_the_document_as_its_case(app_url, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_url)
    page.wait_for_selector("textarea", timeout=120_000)
    t = messages("en")  # headless chromium's own language
    page.get_by_role("tab", name=t("tab_cases")).click()
    page.get_by_text(t("cases_document")).wait_for(timeout=60_000)
    page.get_by_role("tab", name=t("tab_lesson")).click()
    page.get_by_label(t("lesson_topic")).fill("綠色消費")
    page.get_by_label(t("lesson_topic")).press("Enter")
    page.get_by_role("button", name=t("build_lesson")).click()
    page.get_by_text(t("download_lesson_word")).wait_for(timeout=120_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "lesson-default-corpus.png"), full_page=True)
    page.close()
