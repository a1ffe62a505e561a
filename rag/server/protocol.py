"""The OpenAI chat-completions wire format: reading a request, and the shapes of replies and errors.

Pure functions, no HTTP: `parse_chat` turns a decoded JSON body into a `ChatRequest` (the bot, the
question, the conversation so far) or raises `ApiError`, which carries the status and OpenAI's error
shape (`{"error": {"message", "type", "param", "code"}}`), so the official clients raise their usual
exceptions (`NotFoundError` for an unknown model, `AuthenticationError`, `RateLimitError`).
`content` may be a string or a list of parts (`[{"type": "text", "text": ...}]`); parts that are not
text (images, audio) are left out. Earlier user/assistant turns become the conversation a follow-up
question is read against.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from rag.conversation import ChatSession


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code, self.param = status, message, kind, code, param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


@dataclass(frozen=True)
class ChatRequest:
    bot: str
    question: str
    history: tuple[tuple[str, str], ...] = ()  # earlier (question, answer) turns, oldest first
    stream: bool = False
    prompt_text: str = ""  # every message's text, for the usage count
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))

    def session(self) -> ChatSession:
        """The conversation so far, replayed with the rule-based follow-up reading (no LLM call per turn)."""
        session = ChatSession()
        for question, answer in self.history:
            session.add(question, session.standalone(question), answer)
        return session


def text_of(content: Any) -> str | None:
    """A message's text: the string, or the text parts of a list joined; None when neither."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) for p in content):
        return "\n".join(p["text"] for p in content if p.get("type") == "text" and isinstance(p.get("text"), str))
    return None


def parse_chat(body: Any, bots: list[str], default: str) -> ChatRequest:
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty list", param="messages")
    turns: list[tuple[str, str]] = []
    for m in messages:
        text = text_of(m.get("content")) if isinstance(m, dict) else None
        if text is None:
            raise ApiError(400, "each message needs 'content': a string or a list of parts", param="messages")
        turns.append((str(m.get("role", "")), text))
    questions = [i for i, (role, text) in enumerate(turns) if role == "user" and text.strip()]
    if not questions:
        raise ApiError(400, "no user message with a question", param="messages")
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise ApiError(400, "'model' must be a string", param="model")
    if model and model not in bots:
        raise ApiError(404, f"The model '{model}' does not exist; this server has: {', '.join(bots)}",
                       code="model_not_found", param="model")
    last = questions[-1]
    history, pending = [], ""
    for role, text in turns[:last]:
        if role == "user":
            pending = text
        elif role == "assistant" and pending:
            history.append((pending, text))
            pending = ""
    return ChatRequest(model or default, turns[last][1].strip(), tuple(history), body.get("stream") is True,
                       "\n".join(text for _, text in turns))


def completion(req: ChatRequest, text: str, usage: dict[str, int], extra: dict[str, Any]) -> dict[str, Any]:
    return {"id": req.id, "object": "chat.completion", "created": req.created, "model": req.bot,
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
            "usage": usage, **extra}


def chunk(req: ChatRequest, delta: dict[str, str], finish: str | None = None, **more: Any) -> dict[str, Any]:
    return {"id": req.id, "object": "chat.completion.chunk", "created": req.created, "model": req.bot,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **more}
