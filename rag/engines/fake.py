"""A deterministic engine for tests: it answers with the first sentence of passage [1], cited.

With `reply` set it says exactly that instead (a test can make it hallucinate on purpose). It
streams word by word like a real one, so streaming code is exercised too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from rag.engines.base import Message


class FakeEngine:
    name = "fake"

    def __init__(self, reply: str = "", model: str = "fake-quoter") -> None:
        self.reply, self.model = reply, model
        self.calls: list[list[Message]] = []

    @classmethod
    def from_settings(cls, settings: Any) -> FakeEngine:
        return cls()

    def stream(self, messages: list[Message], max_tokens: int = 512) -> Iterator[str]:
        self.calls.append(messages)
        text = self.reply or self._quote(messages[-1]["content"])
        yield from re.findall(r"\S+\s*", text)

    @staticmethod
    def _quote(prompt: str) -> str:
        rewrite = re.search(r"^Last question: (.+)$", prompt, re.M)
        if rewrite:  # asked to make a follow-up standalone: a fake has no better idea than the question
            return rewrite.group(1)
        match = re.search(r"^\[1\] \([^)]*\)\n(.+?[.!?])(\s|$)", prompt, re.M | re.S)
        if not match:
            return "The documents do not answer this."
        return " ".join(match.group(1).split()) + " [1]"
