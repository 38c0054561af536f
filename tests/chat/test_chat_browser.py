"""End to end in a real headless Chromium (Debian's ``chromium`` package) via Playwright.

Skipped when /usr/bin/chromium is absent. Never downloads a browser.
``QA_UPDATE_SCREENSHOTS=1`` also writes the screenshot to docs/img/chat.png
(otherwise it goes to pytest's temp dir); timings are printed (``-s``).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import pytest
from chatfakes import FakeAssistant, free_port

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "docs" / "img" / "chat.png"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin"),
]
sync_api = pytest.importorskip("playwright.sync_api")

from qa.chat.app import build_app, launch  # noqa: E402
from qa.chat.backend import SAMPLE_EXAMPLES, warm_up  # noqa: E402

ANSWERS = "#qa-chat .qa-answer"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser):
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.requests = requests  # type: ignore[attr-defined]
    yield page
    page.close()


@pytest.fixture(scope="module")
def sample_url(sample_assistant):
    """The real assistant on the bundled sample corpus, served on localhost (read only)."""
    assistant = sample_assistant
    warm_up(assistant)
    demo = build_app(assistant, examples=SAMPLE_EXAMPLES)
    url = launch(demo, port=free_port(), block=False)
    yield url
    demo.close()


@pytest.fixture(scope="module")
def fake_url():
    fake = FakeAssistant()
    demo = build_app(fake)
    url = launch(demo, port=free_port(), block=False)
    yield url, fake
    demo.close()


def ask(page, question: str, *, timeout: float = 30_000) -> float:
    """Type ``question``, press Enter, wait for one more answer; return seconds."""
    before = page.locator(ANSWERS).count()
    box = page.locator("#qa-question textarea")
    box.fill(question)
    started = time.perf_counter()
    box.press("Enter")
    page.wait_for_function(
        f"document.querySelectorAll({ANSWERS!r}).length > {before}", timeout=timeout
    )
    return time.perf_counter() - started


def open_app(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#qa-question textarea")
    page.wait_for_selector("#qa-info table")


def test_sample_question_in_the_browser(page, sample_url, tmp_path):
    open_app(page, sample_url)
    assert "Articles" in page.locator("#qa-info").inner_text()

    first = ask(page, "Who is Japan's counterpart in the dialogue?")
    chat = page.locator("#qa-chat")
    answer = page.locator(ANSWERS).last
    assert answer.locator(".qa-answer-text b").inner_text() == "Takehiro Funakoshi"
    mark = answer.locator("details[open] mark.qa-span").first
    assert mark.inner_text() == "Takehiro Funakoshi"
    assert mark.is_visible()
    assert "Takehiro Funakoshi" in chat.inner_text()
    assert "2025-11-07" in answer.inner_text() and "Yonhap" in answer.inner_text()

    shot = SCREENSHOT if os.environ.get("QA_UPDATE_SCREENSHOTS") == "1" else tmp_path / "chat.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000

    # the follow-up is read through the conversation and answered from the same article
    follow = ask(page, "What did he hope to build on?")
    answer = page.locator(ANSWERS).last
    assert "Read as: “What did Takehiro Funakoshi hope to build on?”" in answer.inner_text()
    assert "searched the articles cited above" in answer.inner_text()

    # an example question is one click away
    before = page.locator(ANSWERS).count()
    started = time.perf_counter()
    page.get_by_role("button", name="Who called on Japan to work together?").click()
    page.wait_for_function(f"document.querySelectorAll({ANSWERS!r}).length > {before}")
    example = time.perf_counter() - started

    repeat = [ask(page, "Who is Japan's counterpart in the dialogue?") for _ in range(3)]
    timings = {
        "first_question_s": round(first, 3),
        "follow_up_s": round(follow, 3),
        "example_click_s": round(example, 3),
        "repeat_s": [round(t, 3) for t in repeat],
        "median_s": round(statistics.median([first, follow, example, *repeat]), 3),
    }
    print("\nUI answer timings:", json.dumps(timings))
    (tmp_path / "timings.json").write_text(json.dumps(timings))
    # nothing left the machine: every request went to the local server
    hosts = {u.split("/")[2] for u in page.requests if u.startswith("http")}
    assert hosts == {sample_url.split("/")[2]}, hosts


def test_hostile_article_renders_harmlessly(page, fake_url, tmp_path):
    url, fake = fake_url
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_app(page, url)
    ask(page, "Who is the editor? <img src=x onerror=\"window.__pwned = 'q'\">")
    ask(page, "What about the script?")
    chat = page.locator("#qa-chat")
    text = chat.inner_text()
    assert "<script>window.__pwned = 1</script>" in text  # shown as text
    assert '<img src=x onerror="window.__pwned = 2">' in text
    assert "Ada <b>Bold</b> Lovelace" in text
    assert "<img src=x onerror=\"window.__pwned = 'q'\">" in text  # the question, as typed
    assert page.evaluate("window.__pwned") is None
    assert chat.locator("script, img, iframe").count() == 0
    assert dialogs == []


def test_upload_in_the_browser(page, fake_url, tmp_path):
    url, fake = fake_url
    good = tmp_path / "harbour.txt"
    good.write_text("Harbour cranes were repaired at Busan port on Monday.")
    bad = tmp_path / "broken.txt"
    bad.write_text("BAD")
    before = fake.info().articles
    open_app(page, url)
    page.locator("#qa-upload input[type=file]").set_input_files([str(good), str(bad)])
    page.wait_for_selector("#qa-report table", timeout=30_000)
    report = page.locator("#qa-report").inner_text()
    assert "harbour.txt" in report and "added" in report
    assert "broken.txt" in report and "no article text found" in report
    page.wait_for_function(f"document.querySelector('#qa-info').innerText.includes('{before + 1}')")
    ask(page, "Harbour cranes repaired?")
    assert "harbour" in page.locator(ANSWERS).last.inner_text()
