"""The built site in a real browser: pages render headings, code and images with no console errors,
and search finds `Learner`.

Drives the operating system's Chromium (Debian's `chromium` package) through Playwright, which
launches that executable and downloads nothing. Needs the site built by `hatch run docs` (site/).
Skips, saying why, where there is no browser or no built site; with LAYERED_DOCS_BROWSER_CHECK=1
(as CI sets it) those are failures instead.
"""

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parents[2] / "site"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
REQUIRED = os.environ.get("LAYERED_DOCS_BROWSER_CHECK") == "1"


def missing(reason: str):
    """Fail when the check is required (CI), skip otherwise."""
    if REQUIRED:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def site_url():
    """The built site served over HTTP on 127.0.0.1 (search fetches its index, which file:// forbids)."""
    if not (SITE / "index.html").is_file():
        missing(f"no built site at {SITE}: run `hatch run docs` first")
    handler = functools.partial(QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging each request to stderr."""

    def log_message(self, format, *args):
        return None


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium from the system's packages."""
    executable = os.environ.get("LAYERED_CHROMIUM") or next(filter(None, map(shutil.which, BROWSERS)), None)
    if executable is None:
        missing(f"no Chromium found (looked for {', '.join(BROWSERS)}): apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (it is in the hatch dev environment)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


def open_page(browser, url):
    """Load `url`; return the page and the console errors and page exceptions seen while loading."""
    page = browser.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(url, wait_until="networkidle")
    assert response is not None and response.ok, f"{url}: HTTP {response and response.status}"
    return page, errors


def broken_images(page) -> list[str]:
    """The sources of the article's images that did not load."""
    return page.eval_on_selector_all(
        "article img", "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
    )


def test_home_page_renders_heading_code_and_figure(browser, site_url):
    page, errors = open_page(browser, f"{site_url}/")
    assert page.inner_text("article h1").strip().startswith("layered")
    assert "ImageDataLoaders.from_folder" in page.inner_text("article pre code")
    assert page.locator("article img").count() >= 1  # the show_batch figure drawn by the build
    assert broken_images(page) == []
    assert errors == []


def test_a_guide_renders_its_code_and_the_figures_its_code_drew(browser, site_url):
    page, errors = open_page(browser, f"{site_url}/train/")
    assert "Learner" in page.inner_text("article h1")
    headings = page.locator("article h2").all_inner_texts()
    assert any("Checkpoints" in h for h in headings)
    assert page.locator("article pre code").count() >= 5
    images = page.locator("article img")
    assert images.count() >= 3  # lr_find, plot_loss, plot_sched
    assert broken_images(page) == []
    assert errors == []


def test_an_api_page_renders_signatures_and_docstrings(browser, site_url):
    page, errors = open_page(browser, f"{site_url}/api/train/learner/")
    assert "layered.train.learner" in page.inner_text("article h1")
    text = page.inner_text("article")
    assert "fit_one_cycle" in text and "load_learner" in text
    assert page.locator("article .doc-signature").count() >= 1  # rendered signatures
    assert errors == []


def test_search_finds_learner(browser, site_url):
    page, errors = open_page(browser, f"{site_url}/")
    page.fill("input.md-search__input", "Learner")  # the header's search box
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=20_000)
    assert results.count() >= 1
    assert "Learner" in page.inner_text(".md-search-result")
    assert errors == []
