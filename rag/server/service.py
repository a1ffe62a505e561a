"""What the routes share: the bots by name, the default one, the answer pool and the `ServerConfig`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.errors import SourceError
from rag.answer import Answer
from rag.server.answering import Answering
from rag.server.citations import answer_json, source_roots
from rag.server.protocol import ChatRequest
from rag.server.vectors import Warmer

MAX_BODY = 256 * 1024
MAX_CONCURRENT = 16  # answers running or waiting for a thread; more get 429


@dataclass(frozen=True)
class ServerConfig:
    api_key: str = ""
    max_concurrent: int = MAX_CONCURRENT
    threads: int = 0  # answers computed at once; 0: one per core
    max_body: int = MAX_BODY
    read_timeout: float = 10.0  # seconds for a request's body to arrive
    grace_s: float = 10.0  # on SIGTERM, how long answers in progress may take to finish
    allow_origins: tuple[str, ...] = ()  # origins whose pages may call the API (CORS)

    def pool_threads(self) -> int:
        return self.threads or max(1, min(os.cpu_count() or 1, 8))


class Service:
    """What the routes share: the bots by name, the default one, the answer pool and the config."""

    def __init__(self, bots: dict[str, Any], default: str, config: ServerConfig | None = None,
                 warm: bool = False) -> None:
        self.bots, self.default, self.config = bots, default, config or ServerConfig()
        self.names = sorted(bots)
        self.answering = Answering(self.config.pool_threads(), self.config.max_concurrent)
        self.roots = {name: _roots(assistant) for name, assistant in bots.items()}
        # warm: remember every sentence's vector from the start (`rag serve`); tests leave it off
        self.warmers = [Warmer(name, a) for name, a in bots.items()] if warm else []

    def start(self) -> None:
        for warmer in self.warmers:
            warmer.thread.start()

    def warming(self) -> list[str]:
        """The bots whose sentence vectors are still being computed."""
        return [w.name for w in self.warmers if not w.done.is_set()]

    def close(self) -> None:
        for warmer in self.warmers:
            warmer.stop.set()
        self.answering.close()

    def count_tokens(self, bot: str, text: str) -> int:
        embedder = getattr(self.bots[bot], "embedder", None)
        return embedder.count_tokens(text) if embedder is not None else len(text.split())

    def usage(self, req: ChatRequest, answer: Answer) -> dict[str, int]:
        prompt, completion = self.count_tokens(req.bot, req.prompt_text), self.count_tokens(req.bot, answer.text)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def extra(self, bot: str, answer: Answer) -> dict[str, Any]:
        return {**answer_json(answer, self.roots[bot]), "indexed_at": self.indexed_at(bot)}

    def indexed_at(self, bot: str) -> str:
        """When the bot's current index was built (`2026-11-29T12:03:04+0000`); "" when it has none."""
        changed_at = getattr(self.bots[bot], "generation_changed_at", None)  # a test's stand-in may lack it
        return changed_at() if changed_at is not None else ""


def _roots(assistant: Any) -> list[Path]:
    try:
        return source_roots(assistant.sources())
    except (SourceError, AttributeError):  # a bot with no sources listed (or a test's stand-in)
        return []
