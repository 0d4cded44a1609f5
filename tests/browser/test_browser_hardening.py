"""The served app (`make run`) attacked from the page, in headless chromium: a visitor who
points the LLM at their own server receives no operator key, and links and image beacons
planted in a model reply stay text (no element, no request). The LLM servers are
`tests/stub_llm.py` stubs (exact planted text); `tests/llm` covers the real llama-cpp server."""
from __future__ import annotations

import os
import re

import pytest

from index.sentences import sentence_spans

from ..stub_llm import stub_llm
from .test_browser import CHROMIUM, CHROMIUM_FLAGS, _free_port, serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUESTION = "數字金融如何推動綠色消費？"
FOLLOW_UP = "它还推动了什么？"
BEACON = "127.0.0.1:9"
PLANTED = f"![x](http://{BEACON}/x) [click](http://{BEACON}/c) <img src=http://{BEACON}/i> http://{BEACON}/a"
OPERATOR_KEY = "sk-operator-secret-0003"


def supported(messages) -> str:
    """A sentence the first source really holds (whichever passage ranks first), cited [1]."""
    source = re.search(r'<source n="1"[^>]*>\n(.*?)\n</source>', messages[-1]["content"], flags=re.S).group(1)
    start, end = sentence_spans(source)[0]
    return f"{source[start:end]}[1]"


def planting(messages):
    prompt = messages[-1]["content"]
    if "Standalone question:" in prompt:  # only the follow-up's rewrite is planted; a repeated question stays as asked
        return f"{PLANTED} 綠色消費？" if FOLLOW_UP in prompt else QUESTION
    return f"{supported(messages)}{PLANTED} 這句話在來源裡找不到任何支持的內容[1]。"


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """The operator's LLM (in the environment, with its key), a visitor's LLM, and `make run`."""
    with stub_llm(supported) as operator, stub_llm(planting) as visitor:
        port = _free_port()
        log = tmp_path_factory.mktemp("run") / "make-run.log"
        env = {**os.environ, "INDEX_DIR": str(tmp_path_factory.mktemp("index") / "index"),
               "LLM_BASE_URL": operator.base_url, "LLM_MODEL": "m", "LLM_API_KEY": OPERATOR_KEY}
        with serving(["make", "run", f"PORT={port}"], port, env, log) as url:
            yield url, operator, visitor


def ask(page, question: str, answers: int) -> None:
    """Ask, and wait until the page shows `answers` finished answers (each has its mode line;
    a refusal's says so)."""
    from playwright.sync_api import expect

    page.fill("textarea", question)
    page.keyboard.press("Enter")
    finished = page.get_by_text(re.compile("LLM · checked against its sources|offline · quotes from the sources|offline · no source answers it"))
    expect(finished).to_have_count(answers, timeout=180_000)


def test_a_visitors_llm_gets_no_operator_key_and_planted_links_stay_text(servers):
    from playwright.sync_api import sync_playwright

    url, operator, visitor = servers
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requested = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(url)
        page.wait_for_selector("textarea", timeout=120_000)

        ask(page, QUESTION, answers=1)
        assert operator.authorizations and set(operator.authorizations) == {f"Bearer {OPERATOR_KEY}"}

        page.get_by_text("LLM (optional)").click()
        page.get_by_label("Base URL").fill(visitor.base_url)
        page.get_by_label("Base URL").press("Enter")
        page.get_by_text("Answers: LLM · m").wait_for(timeout=60_000)
        ask(page, QUESTION, answers=2)
        ask(page, FOLLOW_UP, answers=3)  # the model's rewrite is shown as "searched as"
        assert visitor.authorizations and not any(OPERATOR_KEY in header for header in visitor.authorizations)

        body = page.locator("body").inner_text()
        assert "[click]" in body and "searched as" in body and "Not supported by its cited source" in body, body[:5000]
        bad = page.locator(f"a[href*='{BEACON}'], img[src*='{BEACON}']")
        assert bad.count() == 0, [bad.nth(i).evaluate("e => e.parentElement.parentElement.outerHTML.slice(0, 600)") for i in range(min(bad.count(), 4))]
        assert not [r for r in requested if BEACON in r]
        browser.close()
