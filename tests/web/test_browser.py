"""The chat page and the widget in a real browser (Chromium, headless), against uvicorn in a thread.

The page asks for the API key once, asks the seed question, shows the answer streaming in, opens [1]
with the quoted sentence highlighted; a second bot (the fake LLM, paced) shows partial text before
the end and each sentence's support mark; a page with nothing but the widget snippet gets an answer.
`RAG_UPDATE_SCREENSHOT=1` copies the page's screenshot to docs/web.png.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from rag.assistant import Assistant
from rag.config.settings import Settings
from rag.server.app import make_app
from rag.server.run import Running, in_thread
from rag.server.service import ServerConfig, Service
from tests.conftest import ROOT, SEEDS

pytestmark = pytest.mark.slow  # starts a browser
KEY = "sk-web-test"
QUESTION = "Quante unità di chip Huawei ha ordinato ByteDance?"

# Every text the streaming answer shows, recorded by the page itself as it changes.
RECORD = """new MutationObserver(() => {
  const t = document.querySelector('.msg.bot.streaming .text');
  if (t && t.textContent) (window.seen = window.seen || []).push(t.textContent);
}).observe(document, {subtree: true, childList: true, characterData: true});"""


class Paced:
    """An assistant whose engine's tokens arrive 30 ms apart, as a model's do, so streaming can be seen."""

    def __init__(self, assistant: Assistant) -> None:
        self.inner, self.profile = assistant, assistant.profile

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def ask(self, question: str, on_token: Callable[[str], None] | None = None, session: Any = None) -> Any:
        pause = threading.Event()

        def slow(piece: str) -> None:
            pause.wait(0.03)
            if on_token:
                on_token(piece)

        return self.inner.ask(question, on_token=slow, session=session)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    home = tmp_path_factory.mktemp("webhome")
    default = Assistant(Settings.load(home=home, embedder="hash"))
    default.build([str(SEEDS)])
    llm = Paced(Assistant(Settings.load(home=home, embedder="hash", engine="fake")))
    service = Service({"default": default, "llm": llm}, "default", ServerConfig(api_key=KEY))
    with in_thread(make_app(service)) as running:
        yield running


def test_chat_page_streams_and_opens_the_passage(browser: Any, site: Running, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1180, "height": 720})
    page.goto(f"{site.url}/")
    page.click("text=default")
    assert page.locator(".msg.bot .text").first.inner_text().startswith("Ask me about ByteDance")
    page.fill("#question", QUESTION)
    page.keyboard.press("Enter")
    page.fill("#key", KEY)  # asked once, at the first question
    page.keyboard.press("Enter")
    answer = page.locator(".msg.bot").nth(1)
    answer.locator(".actions").wait_for(timeout=30_000)  # rendered when the stream has ended
    assert "100.000" in answer.locator(".text").inner_text()
    answer.locator("button.cite", has_text="[1]").first.click()
    passage = page.locator("#passage")
    assert passage.is_visible()
    assert "bytedance_huawei_coze.txt" in passage.locator("h2").inner_text()
    assert "line" in passage.locator(".where").inner_text()
    highlighted = passage.locator("mark").first.inner_text()
    assert "100.000" in highlighted and highlighted in answer.locator(".text").inner_text()
    page.screenshot(path=str(tmp_path / "web.png"))
    if os.environ.get("RAG_UPDATE_SCREENSHOT"):
        shutil.copy(tmp_path / "web.png", ROOT / "docs" / "web.png")
    page.keyboard.press("Escape")
    assert not passage.is_visible()

    # a follow-up carries the conversation; the key is not asked again in this tab
    page.fill("#question", "e quante ne ha ricevute?")
    page.keyboard.press("Enter")
    page.locator(".msg.bot").nth(2).locator(".actions").wait_for(timeout=30_000)
    assert "30.000" in page.locator(".msg.bot").nth(2).inner_text()
    assert page.locator("#key").count() == 0

    # copying an answer; an abstention, said plainly, with the nearest passages
    page.locator(".msg.bot").nth(2).get_by_role("button", name="Copy").click()
    page.locator(".msg.bot").nth(2).get_by_role("button", name="Copied").wait_for(timeout=10_000)  # 3 s shown
    page.fill("#question", "Qual è la ricetta della carbonara?")
    page.keyboard.press("Enter")
    refusal = page.locator(".msg.bot").nth(3)
    refusal.locator(".actions").wait_for(timeout=30_000)
    assert "abstained" in (refusal.get_attribute("class") or "")
    assert refusal.locator(".sources h3").inner_text().lower() == "nearest passages"
    assert refusal.locator(".sources li").count() >= 1

    # the other theme, from the keyboard
    page.focus("button.theme")
    page.keyboard.press("Enter")
    assert page.evaluate("document.documentElement.dataset.theme") in ("dark", "light")
    page.close()


def test_llm_answers_stream_in_with_support_marks(browser: Any, site: Running) -> None:
    page = browser.new_page()
    page.add_init_script(f"sessionStorage.setItem('rag-api-key', '{KEY}');" + RECORD)
    page.goto(f"{site.url}/bots/llm")
    page.fill("#question", QUESTION)
    page.keyboard.press("Enter")
    answer = page.locator(".msg.bot").nth(1)
    answer.locator(".actions").wait_for(timeout=30_000)
    final = answer.locator(".text").inner_text()
    seen = page.evaluate("window.seen || []")
    partial = [s for s in seen if len(s) < len(final.split(" [")[0])]
    assert partial, f"the text grew while streaming (saw {seen[:3]})"
    assert answer.locator(".mark").count() >= 1
    assert answer.locator(".mark").first.get_attribute("aria-label")
    page.close()


def test_widget_snippet_on_another_page_gets_an_answer(browser: Any, site: Running, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(f'<html><body><h1>A shop</h1><script src="{site.url}/widget.js" '
                                         'data-bot="default"></script></body></html>')
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    shop = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # another origin: another port
    threading.Thread(target=shop.serve_forever, daemon=True).start()
    page = browser.new_page()
    page.goto(f"http://127.0.0.1:{shop.server_address[1]}/index.html")
    page.click("#rag-widget >> button.bubble")
    frame = page.frame_locator("#rag-widget >> iframe")
    frame.locator("#question").fill(QUESTION)
    frame.locator("#question").press("Enter")
    frame.locator("#key").fill(KEY)
    frame.locator("#key").press("Enter")
    reply = frame.locator(".msg.bot").nth(1)
    reply.locator(".actions").wait_for(timeout=30_000)
    assert "100.000" in reply.inner_text()
    frame.locator("#question").press("Escape")  # from inside the chat, the panel closes
    page.locator("#rag-widget >> .panel").wait_for(state="hidden", timeout=10_000)
    page.close()
    shop.shutdown()
    shop.server_close()


def test_page_shows_when_the_index_changed_and_says_so_when_it_does(browser: Any, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "rifugio.md").write_text("# Rifugi\n\nIl rifugio Vittorio Emanuele si trova a 2732 metri.\n")
    assistant = Assistant(Settings.load(home=tmp_path / "home", embedder="hash"))
    assistant.build([str(docs)])
    first = assistant.generation_changed_at()
    with in_thread(make_app(Service({"default": assistant}, "default"))) as running:
        page = browser.new_page()
        page.goto(f"{running.url}/bots/default")
        assert page.locator("#updated").inner_text().startswith("Index updated ")
        assert first[11:19] in page.locator("#updated").inner_text()  # today's: the clock alone, HH:MM:SS
        assert page.locator(".msg.note").count() == 0

        (docs / "rifugio.md").write_text("# Rifugi\n\nIl rifugio Vittorio Emanuele si trova a 2735 metri.\n")
        while time.strftime("%Y-%m-%dT%H:%M:%S%z") == first:  # built_at has whole seconds: the next one
            threading.Event().wait(0.05)
        assistant.update()  # as a watcher or another terminal would
        assert httpx.get(f"{running.url}/health", timeout=10).json()["indexed_at"]["default"] > first

        page.fill("#question", "A che quota si trova il rifugio Vittorio Emanuele?")
        page.keyboard.press("Enter")
        answer = page.locator(".msg.bot").nth(1)
        answer.locator(".actions").wait_for(timeout=30_000)
        assert "2735" in answer.inner_text()
        note = page.locator(".msg.note")
        assert note.count() == 1 and "index was updated" in note.inner_text()
        assert assistant.generation_changed_at()[11:19] in page.locator("#updated").inner_text()
        page.close()
