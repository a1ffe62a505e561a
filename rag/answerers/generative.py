"""Generated answers: prompt an engine with the retrieved passages, stream, then check every sentence.

The prompt (see `prompts.py`) fences the passages with a boundary drawn per request. The text
streams to `on_token` as it comes; afterwards `verify.check` drops citations to passages that were
not retrieved and marks each sentence's support; `strict` drops the unsupported ones. A stream
cut in the middle keeps what arrived and marks the answer incomplete.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from index.records import Hit
from rag.answer import Answer, Citation
from rag.answerers import verify
from rag.answerers.base import Embed, OnToken, Retrieval
from rag.engines.base import Engine, StreamCutError
from rag.prompts import INCOMPLETE_MARK, PASSAGE, REFUSAL, SYSTEM_PROMPT, USER_PROMPT, new_boundary


def messages_for(question: str, hits: list[Hit], boundary: str, instructions: str = "",
                 refusal: str = REFUSAL) -> list[dict[str, str]]:
    passages = "\n\n".join(PASSAGE.format(n=n, location=h.chunk.location, text=h.chunk.text)
                           for n, h in enumerate(hits, start=1))
    system = SYSTEM_PROMPT.format(boundary=boundary, refusal=refusal)
    if instructions.strip():  # the bot's persona comes first; the rules about data and citations last
        system = f"{instructions.strip()}\n\n{system}"
    return [{"role": "system", "content": system},
            {"role": "user", "content": USER_PROMPT.format(boundary=boundary, passages=passages, question=question)}]


def collect(engine: Engine, messages: list[dict[str, str]], on_token: Callable[[str], None] | None = None,
            max_tokens: int = 512) -> tuple[str, bool]:
    """The engine's whole reply, and whether its stream was cut (an error if nothing arrived)."""
    pieces: list[str] = []
    try:
        for piece in engine.stream(messages, max_tokens):
            pieces.append(piece)
            if on_token:
                on_token(piece)
    except StreamCutError:
        if not pieces:
            raise
        return "".join(pieces), True
    return "".join(pieces), False


def generate(question: str, hits: list[Hit], engine: Engine, embed: Embed, strict: bool = False,
             on_token: Callable[[str], None] | None = None, instructions: str = "",
             refusal: str = REFUSAL) -> Answer:
    began = time.perf_counter()
    if not hits:
        return Answer(question, refusal, (), (), True, 0.0, engine=engine.name, model=engine.model)
    raw, cut = collect(engine, messages_for(question, hits, new_boundary(), instructions, refusal), on_token)
    timings = {"generation": time.perf_counter() - began}
    sentences = verify.check(raw, hits, embed)
    timings["check"] = time.perf_counter() - began - timings["generation"]
    if strict:
        sentences = [s for s in sentences if s.support != verify.UNSUPPORTED]
    abstained = not sentences or all(refusal.rstrip(".") in s.text or REFUSAL.rstrip(".") in s.text
                                     for s in sentences)
    cited = sorted({n for s in sentences for n in s.citations})
    citations = tuple(Citation(n, hits[n - 1]) for n in cited) if not abstained else \
        tuple(Citation(n, h) for n, h in enumerate(hits[:3], start=1))
    text = refusal if abstained and not cut else " ".join(
        s.text + "".join(f" [{n}]" for n in s.citations) for s in sentences)
    if cut:
        text = f"{text} {INCOMPLETE_MARK}".strip()
    return Answer(question, text, tuple(sentences), citations, abstained,
                  confidence=sum(s.support == verify.SUPPORTED for s in sentences) / max(1, len(sentences)),
                  engine=engine.name, model=engine.model, timings=timings, retrieved=tuple(hits),
                  incomplete=cut, support=verify.summary(sentences) if not abstained else "")


class GenerativeAnswerer:
    """An LLM engine writes the answer from the passages; every sentence is then checked against them."""

    def __init__(self, engine: Engine, strict: bool = False, instructions: str = "", no_answer: str = "") -> None:
        self.engine, self.strict = engine, strict
        self.instructions, self.no_answer = instructions, no_answer or REFUSAL
        self.name = engine.name

    def answer(self, retrieval: Retrieval, on_token: OnToken | None = None) -> Answer:
        return generate(retrieval.question, retrieval.hits, self.engine, retrieval.embed, self.strict, on_token,
                        self.instructions, self.no_answer)
