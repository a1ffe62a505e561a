# bench/load.py's baseline: rag/server/app.py as it was before the ASGI server (git show e68d1d3:rag/server/app.py),
# unchanged but for this line and the launcher at the end. Not part of the product.
"""`rag serve`: a bot behind an OpenAI-compatible HTTP API, so any OpenAI client or chat UI can use it.

    GET  /health                 {"status": "ok", "bots": [...]}
    GET  /v1/models              the bots, as models
    POST /v1/chat/completions    the last user message is the question; streamed (SSE) or not

Citations travel twice: as `[n]` in the text, and as structured data in an extra `citations`
field (in the response, or in the last chunk of a stream). It binds to 127.0.0.1 unless told
otherwise, can require an API key, caps request size and concurrent answers, and answers bad
requests with 4xx JSON errors. Built on the standard library's threaded HTTP server; no click here:
`rag.cli.serve` starts it.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY = 256 * 1024
MAX_CONCURRENT = 4


class BotServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], assistants: dict[str, Any], default: str, api_key: str = "",
                 max_concurrent: int = MAX_CONCURRENT) -> None:
        super().__init__(address, Handler)
        self.assistants, self.default, self.api_key = assistants, default, api_key
        self.slots = threading.BoundedSemaphore(max_concurrent)
        self.locks = {name: threading.Lock() for name in assistants}  # one answer at a time per bot


class Handler(BaseHTTPRequestHandler):
    server: BotServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # quiet; a request log would print questions
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path == "/health":
            return self._json(200, {"status": "ok", "bots": sorted(self.server.assistants)})
        if not self._authorised():
            return None
        if self.path == "/v1/models":
            return self._json(200, {"object": "list", "data": [
                {"id": name, "object": "model", "created": 0, "owned_by": "rag",
                 "description": a.profile.description} for name, a in sorted(self.server.assistants.items())]})
        return self._error(404, f"no route {self.path}; try /v1/chat/completions, /v1/models or /health")

    def do_POST(self) -> None:  # noqa: N802
        if self.path != "/v1/chat/completions":
            return self._error(404, f"no route {self.path}; POST /v1/chat/completions")
        if not self._authorised():
            return None
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            return self._error(413, f"request body over {MAX_BODY} bytes")
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except (ValueError, UnicodeDecodeError):
            return self._error(400, "the body is not valid JSON")
        problem = _check(body, self.server)
        if problem:
            return self._error(400, problem)
        if not self.server.slots.acquire(blocking=False):
            return self._error(429, "too many answers in progress; retry shortly", "rate_limit_error")
        try:
            self._answer(body)
        finally:
            self.server.slots.release()
        return None

    def _answer(self, body: dict[str, Any]) -> None:
        from rag.engines import EngineError

        asked = body.get("model")
        name: str = asked if isinstance(asked, str) and asked in self.server.assistants else self.server.default
        question = next(m["content"] for m in reversed(body["messages"]) if m.get("role") == "user")
        assistant, cid, created = self.server.assistants[name], f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        try:
            with self.server.locks[name]:
                answer = assistant.ask(question)
        except EngineError as exc:
            return self._error(502, str(exc), "engine_error")
        citations = [c.to_json() for c in answer.citations]
        extra = {"citations": citations, "abstained": answer.abstained, "support": answer.support}
        if not body.get("stream"):
            return self._json(200, {
                "id": cid, "object": "chat.completion", "created": created, "model": name,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": answer.text}}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}, **extra})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

        def event(delta: dict[str, str], finish: str | None = None, **more: Any) -> None:
            chunk = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": name,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **more}
            self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
            self.wfile.flush()

        event({"role": "assistant", "content": ""})
        for piece in answer.text.split(" "):
            event({"content": piece + " "})
        event({}, "stop", **extra)
        self.wfile.write(b"data: [DONE]\n\n")

    def _authorised(self) -> bool:
        key = self.server.api_key
        given = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if key and not hmac.compare_digest(given.encode(), key.encode()):
            self._error(401, "missing or wrong API key", "invalid_request_error")
            return False
        return True

    def _json(self, code: int, data: dict[str, Any]) -> None:
        payload = json.dumps(data, ensure_ascii=False).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, code: int, message: str, kind: str = "invalid_request_error") -> None:
        self._json(code, {"error": {"message": message, "type": kind, "code": code}})


def _check(body: Any, server: BotServer) -> str:
    """What is wrong with a chat request, or "" when nothing is."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty list"
    if not all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in messages):
        return "each message needs a string 'content'"
    if not any(m.get("role") == "user" and m["content"].strip() for m in messages):
        return "no user message with a question"
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        return "'model' must be a string"
    return ""


if __name__ == "__main__":  # python bench/old_server.py HOME BOT PORT, as `rag serve` started it then
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from rag.assistant import Assistant
    from rag.config.settings import Settings

    home, bot, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    assistant = Assistant(Settings.load(home=home, bot=bot))
    assistant.ensure_index()
    assistant.warm_up()
    # 64, its highest --max-concurrent: its default 4 would turn half of 8 clients away with 429
    BotServer(("127.0.0.1", port), {bot: assistant}, bot, max_concurrent=64).serve_forever()
