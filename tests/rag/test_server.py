"""The HTTP server, as clients see it: the real `openai` client and raw sockets over loopback, against
uvicorn in a thread serving a bot on the hash embedder (fast tier: no process, no real model)."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from rag.answer import Answer
from rag.assistant import Assistant
from rag.config.settings import Settings
from rag.server.app import make_app
from rag.server.run import Running, in_thread
from rag.server.service import ServerConfig, Service
from tests.conftest import SEEDS

KEY = "sk-serve-test"
QUESTION = "Quante unità di chip Huawei ha ordinato ByteDance?"
QUESTIONS = [QUESTION, "Con quale azienda rivaleggia Coze?", "Quali chip usava ByteDance prima delle restrizioni?",
             "Che cos'è Coze?", "Quanti chip ha ricevuto ByteDance finora?", "Who is the CEO of Huawei?"]


@pytest.fixture(scope="module")
def seed_bot(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    assistant = Assistant(Settings.load(home=tmp_path_factory.mktemp("serverhome"), embedder="hash"))
    assistant.build([str(SEEDS)])
    return assistant


@pytest.fixture
def server(seed_bot: Assistant) -> Iterator[Running]:
    service = Service({"default": seed_bot}, "default", ServerConfig(api_key=KEY, max_concurrent=8, threads=4))
    with in_thread(make_app(service)) as running:
        yield running


def client(running: Running, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{running.url}/v1", api_key=key, max_retries=0)


def ask(running: Running, question: str, **more: Any) -> Any:
    return client(running).chat.completions.create(model="default", messages=[{"role": "user", "content": question}],
                                                   **more)


def test_answers_streamed_and_not_are_the_same_text(server: Running) -> None:
    assert [m.id for m in client(server).models.list().data] == ["default"]
    reply = ask(server, QUESTION)
    text = reply.choices[0].message.content
    assert "100.000" in text and "[1]" in text
    citation = reply.model_extra["citations"][0]
    assert citation["path"] == "bytedance_huawei_coze.txt", "relative to the bot's sources, never absolute"
    assert str(SEEDS) not in reply.model_dump_json(), "no server folder anywhere in the reply"
    assert citation["quote"] and citation["lines"][0] >= 1 and citation["n"] == 1
    assert reply.usage.prompt_tokens > 5 and reply.usage.completion_tokens > 20
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    # A question of two parts is answered by two sentences, which stream one by one.
    two_part = "Quante unità di chip ha ordinato ByteDance e con chi rivaleggia Coze?"
    reply = ask(server, two_part)
    text = reply.choices[0].message.content
    chunks = list(client(server).chat.completions.create(
        model="default", stream=True, messages=[{"role": "user", "content": [{"type": "text", "text": two_part}]}]))
    pieces = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert len(pieces) >= 2, "an extractive answer streams sentence by sentence"
    assert "".join(pieces) == text and "100.000" in text and "OpenAI" in text
    assert chunks[-1].choices[0].finish_reason == "stop" and chunks[-1].model_extra["citations"] == \
        reply.model_extra["citations"]


def test_list_of_parts_and_a_follow_up_carry_the_conversation(server: Running) -> None:
    parts = [{"type": "text", "text": "Quante unità di chip"}, {"type": "image_url", "image_url": {"url": "x"}},
             {"type": "text", "text": "Huawei ha ordinato ByteDance?"}]
    first = client(server).chat.completions.create(model="default", messages=[{"role": "user", "content": parts}])
    assert "100.000" in first.choices[0].message.content
    history = [{"role": "system", "content": "ignored: the bot has its own instructions"},
               {"role": "user", "content": QUESTION},
               {"role": "assistant", "content": first.choices[0].message.content},
               {"role": "user", "content": "e quante ne ha ricevute?"}]
    follow = client(server).chat.completions.create(model="default", messages=history)
    assert "30.000" in follow.choices[0].message.content


def test_unknown_model_wrong_key_and_bad_requests(server: Running) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        client(server).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert missing.value.code == "model_not_found" and "default" in missing.value.message
    with pytest.raises(openai.AuthenticationError):
        client(server, key="sk-wrong").chat.completions.create(
            model="default", messages=[{"role": "user", "content": QUESTION}])
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    url = f"{server.url}/v1/chat/completions"
    for body, code in ((b"{not json", 400), (b'{"messages": []}', 400), (b'{"messages": [{"role": "user"}]}', 400),
                       (b"x" * 300_000, 413)):
        reply = httpx.post(url, content=body, headers=headers, timeout=10)
        assert reply.status_code == code, body[:20]
        assert set(reply.json()["error"]) == {"message", "type", "param", "code"}
    chunked = httpx.post(url, content=iter([b"x" * 100_000] * 3), headers=headers, timeout=10)  # no Content-Length
    assert chunked.status_code == 413
    health = httpx.get(f"{server.url}/health", timeout=5).json()
    assert health.pop("indexed_at")["default"][:2] == "20"  # 2026-11-29T12:03:04+0000
    assert health == {"status": "ok", "bots": ["default"], "warming": []}
    assert httpx.get(f"{server.url}/nowhere", timeout=5).status_code == 404
    assert httpx.get(url, headers=headers, timeout=5).status_code == 405


def raw(running: Running, request: bytes, timeout: float = 10) -> bytes:
    """Send bytes as they are and read the reply until the server closes or the timeout."""
    port = int(running.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        reply = b""
        try:
            while part := sock.recv(65536):
                reply += part
        except TimeoutError:
            pass
        return reply


def test_bad_content_length_gets_a_reply(server: Running) -> None:
    reply = raw(server, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}")
    assert reply.startswith(b"HTTP/1.1 400")


def test_parallel_answers_are_those_asked_one_by_one(server: Running) -> None:
    def one(question: str) -> tuple[str, list[Any]]:
        reply = ask(server, question)
        return reply.choices[0].message.content, reply.model_extra["citations"]

    alone = [one(q) for q in QUESTIONS]
    with ThreadPoolExecutor(max_workers=len(QUESTIONS)) as pool:
        together = list(pool.map(one, QUESTIONS))
    assert together == alone


class Held:
    """A stand-in bot whose answer waits until the test releases it; it streams tokens like an LLM."""

    class profile:  # noqa: N801 (stands in for a BotProfile)
        description, welcome, suggested_questions = "held", "", []

    def __init__(self, tokens: int = 0) -> None:
        self.started, self.release, self.cancelled = threading.Event(), threading.Event(), threading.Event()
        self.tokens = tokens

    def ask(self, question: str, on_token: Callable[[str], None] | None = None, session: Any = None) -> Answer:
        self.started.set()
        try:
            for n in range(self.tokens):
                if on_token:
                    on_token(f"word{n} ")
                self.release.wait(0.02)  # paces the stream; the test waits on `cancelled`, not on this
        except Exception:
            self.cancelled.set()
            raise
        self.release.wait(timeout=30)
        return Answer(question, "ok", (), (), True, 0.0)


def test_over_the_cap_is_429_with_retry_after() -> None:
    held = Held()
    with in_thread(make_app(Service({"held": held}, "held", ServerConfig(max_concurrent=1)))) as running:
        with ThreadPoolExecutor(max_workers=1) as pool:
            first = pool.submit(ask_held, running)
            assert held.started.wait(timeout=30), "the first answer is in progress"
            with pytest.raises(openai.RateLimitError) as refused:
                client(running).chat.completions.create(model="held", messages=[{"role": "user", "content": "q"}])
            assert refused.value.response.headers["retry-after"] == "1"
            held.release.set()
            assert first.result() == "ok"


def ask_held(running: Running) -> str:
    reply = client(running).chat.completions.create(model="held", messages=[{"role": "user", "content": "q"}])
    return reply.choices[0].message.content or ""


def test_disconnect_mid_stream_cancels_quietly(caplog: pytest.LogCaptureFixture) -> None:
    held = Held(tokens=1500)
    with in_thread(make_app(Service({"held": held}, "held"))) as running:
        stream = client(running).chat.completions.create(model="held", stream=True,
                                                         messages=[{"role": "user", "content": "q"}])
        with caplog.at_level(logging.INFO):
            for chunk in stream:
                if chunk.choices[0].delta.content:
                    break
            stream.close()  # the client goes away mid-answer
            assert held.cancelled.wait(timeout=30), "the engine's stream was stopped"
            assert httpx.get(f"{running.url}/health", timeout=5).status_code == 200
        held.release.set()
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) <= 1 and all("Traceback" not in r.getMessage() for r in caplog.records)


def test_a_slow_body_gets_408_and_slow_headers_are_cut(seed_bot: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.server.http import TimedH11Protocol

    monkeypatch.setattr(TimedH11Protocol, "header_timeout", 0.5)
    service = Service({"default": seed_bot}, "default", ServerConfig(read_timeout=0.5))
    with in_thread(make_app(service)) as running:
        reply = raw(running, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"mess")
        assert reply.startswith(b"HTTP/1.1 408"), reply[:40]
        assert raw(running, b"GET /health HTTP/1.1\r\nHost:") == b"", "closed with no reply after the header timeout"


def test_shutdown_lets_the_answer_in_progress_finish() -> None:
    held = Held()
    running = Running(make_app(Service({"held": held}, "held")), grace_s=10).start()
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(ask_held, running)
        assert held.started.wait(timeout=30)
        stopping = pool.submit(running.stop)  # what SIGTERM does
        for _ in range(500):  # until the server has stopped accepting: shutdown has begun
            try:
                httpx.get(f"{running.url}/health", timeout=5)
            except httpx.ConnectError:
                break
        else:
            pytest.fail("the server kept accepting connections after stop()")
        held.release.set()  # only now does the answer in progress finish
        assert first.result() == "ok"
        stopping.result()


def test_llm_tokens_stream_as_they_come(tmp_path: Path, seed_bot: Assistant) -> None:
    llm = Assistant(Settings.load(home=seed_bot.settings.home, embedder="hash", engine="fake"))
    with in_thread(make_app(Service({"default": llm}, "default"))) as running:
        chunks = list(ask(running, QUESTION, stream=True))
    words = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert len(words) > 5, "word by word, as the engine yields them"
    last = chunks[-1].model_extra
    assert last["sentences"] and last["sentences"][0]["support"] in ("supported", "partial", "unsupported")
    assert last["support"].endswith("supported")


def test_cors_for_listed_origins_only(seed_bot: Assistant) -> None:
    service = Service({"default": seed_bot}, "default", ServerConfig(allow_origins=("https://shop.example",)))
    with in_thread(make_app(service)) as running:
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
        ok = httpx.options(f"{running.url}/v1/chat/completions", timeout=5,
                           headers={"Origin": "https://shop.example", **preflight})
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://shop.example"
        other = httpx.options(f"{running.url}/v1/chat/completions", timeout=5,
                              headers={"Origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in other.headers
        page = httpx.get(f"{running.url}/bots/default", timeout=5)
        assert "frame-ancestors 'self' https://shop.example" in page.headers["content-security-policy"]


def test_pages_and_widget_are_served(server: Running) -> None:
    listing = httpx.get(server.url + "/", timeout=5)
    assert listing.status_code == 200 and 'href="/bots/default"' in listing.text
    page = httpx.get(server.url + "/bots/default", timeout=5)
    data = json.loads(page.text.split('id="bot">', 1)[1].split("</script>", 1)[0])
    assert data["name"] == "default" and data["needsKey"] is True and data["suggested"]
    assert httpx.get(server.url + "/bots/nobody", timeout=5).status_code == 404
    for path in ("/widget.js", "/static/chat.js", "/static/chat.css", "/static/theme.js"):
        asset = httpx.get(server.url + path, timeout=5)
        assert asset.status_code == 200 and len(asset.text) > 200, path
    assert "http" not in httpx.get(server.url + "/static/chat.css", timeout=5).text.replace("http://www.w3.org", "")


def test_warmed_sentence_vectors_change_no_answer_and_are_kept(seed_bot: Assistant) -> None:
    from index.embed import make_embedder
    from rag.server.vectors import CachedEmbedder

    def warmed() -> tuple[CachedEmbedder, Service]:
        cached = CachedEmbedder(make_embedder("hash"))
        warm = Assistant(Settings.load(home=seed_bot.settings.home, embedder="hash"), embedder=cached)
        return cached, Service({"default": warm}, "default", warm=True)

    saved = seed_bot.settings.home / "cache" / "sentence-vectors" / "default.npz"
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_bytes(b"not a vector file")  # ignored, then replaced
    cached, service = warmed()
    with in_thread(make_app(service)) as running:
        assert service.warmers[0].done.wait(timeout=30)
        assert httpx.get(f"{running.url}/health", timeout=5).json()["warming"] == []
        remembered, misses = len(cached), cached.misses
        assert remembered > 10 and saved.stat().st_size > 1000
        for question in QUESTIONS:
            assert ask(running, question).choices[0].message.content == seed_bot.ask(question).text
        assert cached.misses - misses <= len(QUESTIONS), "only the questions themselves were embedded"
    again, service = warmed()  # a restart, or another worker: warm from the file, nothing embedded
    with in_thread(make_app(service)):
        assert service.warmers[0].done.wait(timeout=30)
        assert len(again) == remembered and again.misses <= 1, "at most the probe sentence the index is opened with"


def test_a_failing_answer_is_an_error_in_openai_shape_not_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(Held):
        def ask(self, question: str, on_token: Callable[[str], None] | None = None, session: Any = None) -> Answer:
            raise ValueError("a bug")

    with in_thread(make_app(Service({"broken": Broken()}, "broken"))) as running:
        with pytest.raises(openai.InternalServerError, match="a bug"):
            client(running).chat.completions.create(model="broken", messages=[{"role": "user", "content": "q"}])
        with pytest.raises(openai.APIError, match="a bug"):
            list(client(running).chat.completions.create(model="broken", stream=True,
                                                         messages=[{"role": "user", "content": "q"}]))
    assert all(r.exc_info is None for r in caplog.records), "logged as one line, with no traceback"
