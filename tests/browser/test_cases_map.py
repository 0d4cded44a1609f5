"""The Cases tab as an analyst meets it, over the SYNTHETIC four-case book (tests/synthetic_book.py)
plus the real default corpus: a case chosen by clicking its point on the map, its similar cases,
the comparison, the heatmap and the exports. Screenshots under var/screenshots/. (`make test-browser`)"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from ..conftest import REPO
from ..synthetic_book import text_casebook
from .test_browser import SCREENSHOTS, _free_port, browser, serving  # noqa: F401 (browser is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CASE2 = "案例二 某證券公司的碳賬戶平臺（合成測試文本）"  # a point no other overlaps


@pytest.fixture(scope="module")
def cases_app(tmp_path_factory):
    root = tmp_path_factory.mktemp("cases-app")
    corpus = root / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    (corpus / "casebook_synthetic.txt").write_text(text_casebook(), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "ingest", str(corpus), "--index", str(root / "index")], cwd=REPO, check=True, capture_output=True)
    port, log = _free_port(), root / "streamlit.log"
    env = {**os.environ, "INDEX_DIR": str(root / "index"), "CORPUS_DIR": str(corpus)}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.address", "127.0.0.1", "--server.port", str(port)]
    with serving(command, port, env, log) as url:
        yield url


def test_a_case_is_chosen_on_the_map_and_compared_with_exports(cases_app, browser):  # noqa: F811
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(cases_app)
    page.wait_for_selector("textarea", timeout=120_000)
    page.get_by_role("tab", name="Cases").click()
    page.get_by_text("Cases per theme and institution type").wait_for(timeout=60_000)
    point = page.get_by_test_id("stVegaLiteChart").first.locator(f'[role="graphics-symbol"][aria-label*="{CASE2}"]')
    point.hover()
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.get_by_text(CASE2).wait_for(timeout=30_000)  # hovering shows the case
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "cases-map-hover.png"))
    point.click()
    page.get_by_role("heading", name="Similar cases").wait_for(timeout=60_000)
    expect(page.get_by_role("combobox", name="Case", exact=True)).to_have_value(CASE2, timeout=60_000)  # the click chose the case
    page.get_by_text("1. 案例").first.wait_for(timeout=60_000)
    expect(page.get_by_text("/100").nth(2)).to_be_visible(timeout=60_000)  # readable scores; the list renders row by row
    page.get_by_text("創新背景 background").first.wait_for(timeout=60_000)  # the comparison with its two nearest
    for label in ("Download CSV", "Download Excel"):  # similar cases and comparison; they render after the table
        expect(page.get_by_role("button", name=label)).to_have_count(2, timeout=60_000)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download Excel").first.click()
    assert download.value.suggested_filename == "casebook-similar-cases.xlsx"
    page.get_by_role("heading", name="How alike the cases are").wait_for(timeout=60_000)
    page.set_viewport_size({"width": 1280, "height": 2600})  # the app scrolls inside its own frame: show it all
    page.wait_for_timeout(1000)
    page.screenshot(path=str(SCREENSHOTS / "cases-map-selected.png"), full_page=True)
    page.close()
