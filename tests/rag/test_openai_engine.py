"""The `openai` engine against real HTTP servers on loopback that fail on purpose.

A small threaded server speaks just enough of the OpenAI chat API (streamed server-sent events)
and, per test, answers 429 first, or 500 always, or 401, or too slowly, or cuts its stream.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag.config.secret import Secret
from rag.engines.base import EngineError, StreamCutError
from rag.engines.openai_engine import OpenAIEngine

FAKE_KEY = "sk-fake-openai-key-DO-NOT-SHOW-42"
MESSAGES = [{"role": "user", "content": "Che cos'è Coze?"}]


def _chunk(text: str, finish: str | None = None) -> bytes:
    event = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
             "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}
    return f"data: {json.dumps(event)}\n\n".encode()


class Behaviour:
    def __init__(self, mode: str) -> None:
        self.mode, self.requests = mode, 0


def _server(behaviour: Behaviour) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
            behaviour.requests += 1
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            mode = behaviour.mode
            if mode == "401" or self.headers.get("Authorization") != f"Bearer {FAKE_KEY}":
                return self._json(401, {"error": {"message": "Incorrect API key provided: sk-fake-***42"}})
            if mode == "500" or (mode == "429-then-ok" and behaviour.requests <= 2):
                code = 500 if mode == "500" else 429
                return self._json(code, {"error": {"message": "busy"}})
            if mode == "slow":
                time.sleep(3)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in ["Coze ", "rivaleggia ", "con ", "OpenAI ", "[1]."]:
                self.wfile.write(_chunk(word))
                self.wfile.flush()
                if mode == "cut" and word == "con ":
                    return  # the server goes away mid-answer: no finish_reason, no [DONE]
            self.wfile.write(_chunk("", finish="stop"))
            self.wfile.write(b"data: [DONE]\n\n")

        def _json(self, code: int, body: dict) -> None:  # type: ignore[type-arg]
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    class Quiet(ThreadingHTTPServer):
        def handle_error(self, request, client_address):  # type: ignore[no-untyped-def]
            pass  # a client that hangs up mid-stream is what some tests do; no traceback on the shared stderr

    server = Quiet(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def endpoint(request: pytest.FixtureRequest) -> Iterator[tuple[str, Behaviour]]:
    behaviour = Behaviour(request.param)
    for url in _server(behaviour):
        yield url, behaviour


def _engine(url: str, key: str = FAKE_KEY, read_timeout: float = 10.0) -> OpenAIEngine:
    return OpenAIEngine(url, "m", Secret(key), connect_timeout=2.0, read_timeout=read_timeout, backoff=0.05)


@pytest.mark.parametrize("endpoint", ["ok"], indirect=True)
def test_streams_tokens(endpoint) -> None:  # type: ignore[no-untyped-def]
    url, _ = endpoint
    assert "".join(_engine(url).stream(MESSAGES)) == "Coze rivaleggia con OpenAI [1]."


@pytest.mark.parametrize("endpoint", ["429-then-ok"], indirect=True)
def test_retries_429_once_per_attempt(endpoint) -> None:  # type: ignore[no-untyped-def]
    url, behaviour = endpoint
    assert "".join(_engine(url).stream(MESSAGES)).startswith("Coze")
    assert behaviour.requests == 3, "two 429s, then the answer: our retries only, none stacked in the client"


@pytest.mark.parametrize("endpoint", ["500"], indirect=True)
def test_persistent_5xx_is_one_clear_error(endpoint) -> None:  # type: ignore[no-untyped-def]
    url, behaviour = endpoint
    with pytest.raises(EngineError, match="kept answering 500 after 4 tries"):
        list(_engine(url).stream(MESSAGES))
    assert behaviour.requests == 4


@pytest.mark.parametrize("endpoint", ["401"], indirect=True)
def test_wrong_key_never_shows_the_key(endpoint) -> None:  # type: ignore[no-untyped-def]
    url, _ = endpoint
    with pytest.raises(EngineError) as info:
        list(_engine(url, key="sk-wrong-key-SHOULD-NOT-APPEAR").stream(MESSAGES))
    assert "refused the API key" in str(info.value)
    assert "SHOULD-NOT-APPEAR" not in str(info.value) + repr(info.value) + str(info.value.__cause__)


@pytest.mark.parametrize("endpoint", ["slow"], indirect=True)
def test_read_timeout(endpoint) -> None:  # type: ignore[no-untyped-def]
    url, _ = endpoint
    began = time.perf_counter()
    with pytest.raises(EngineError, match="did not answer in time"):
        list(_engine(url, read_timeout=0.5).stream(MESSAGES))
    assert time.perf_counter() - began < 2.5


@pytest.mark.parametrize("endpoint", ["cut"], indirect=True)
def test_cut_stream_raises_after_partial_text(endpoint) -> None:  # type: ignore[no-untyped-def]
    url, _ = endpoint
    pieces = []
    with pytest.raises(StreamCutError):
        for piece in _engine(url).stream(MESSAGES):
            pieces.append(piece)
    assert "".join(pieces) == "Coze rivaleggia con "


def test_endpoint_down() -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(EngineError, match="cannot reach"):
        list(_engine(f"http://127.0.0.1:{port}/v1").stream(MESSAGES))


@pytest.mark.parametrize("endpoint", ["cut"], indirect=True)
def test_cli_keeps_partial_answer_and_hides_key(endpoint, rag) -> None:  # type: ignore[no-untyped-def]
    url, _ = endpoint
    env = {"OPENAI_API_KEY": FAKE_KEY, "OPENAI_BASE_URL": url}
    result = rag("ask", "--engine", "openai", "--json", "Che cos'è Coze?", env=env)
    assert result.code == 0, result.err
    data = result.json()
    # The cut sentence cannot be checked against its passage: no supported sentence is an abstention,
    # and what arrived is kept, marked, in the answer's sentences.
    assert data["incomplete"] is True and data["abstained"] is True
    assert any(s["text"].startswith("Coze rivaleggia con") for s in data["sentences"]), data
    assert FAKE_KEY not in result.out + result.err
    down = rag("ask", "--engine", "openai", "Che cos'è Coze?", env={**env, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert down.code == 9 and len(down.err.strip().splitlines()) == 1 and "cannot reach" in down.err
