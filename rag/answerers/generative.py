"""Generated answers: prompt an engine with the retrieved passages, stream, then check every sentence.

The prompt (see `prompts.py`) fences the passages with a boundary drawn per request; a model that
repeats the fence ("END DATA 3f9a...", SmolLM2 does) has it cut out of what it streams and of the
answer (`_Fence`). The text streams to `on_token` as it comes; afterwards `verify.check` drops
citations to passages that were not retrieved and marks each sentence's support. `strict` drops
the unsupported ones, and while streaming it shows a sentence only once it is complete and checked,
so that nothing it drops is ever on screen. An answer none of whose sentences is supported is an
abstention, like the extractive answerer's: the bot's refusal, with the nearest passages. A stream
cut in the middle keeps what arrived and marks the answer incomplete.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from index.records import Hit
from rag.answer import Answer, AnswerSentence, Citation
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


class _Fence:
    """Cuts the prompt's data markers out of streamed text: "BEGIN DATA <boundary>", "END DATA
    <boundary>" (or a made-up boundary) and the boundary alone. A piece that ends with what may be the
    start of one is held back until the next piece tells."""

    WORDS = ("BEGIN DATA", "END DATA")

    def __init__(self, boundary: str) -> None:
        self.boundary = boundary
        self._marker = re.compile(rf"[ \t]*(?:(?:BEGIN|END) DATA(?: [0-9a-f]{{1,16}})?|{re.escape(boundary)})")
        self._held = ""

    def _may_grow(self, tail: str) -> bool:
        """Whether more text could make `tail` a marker."""
        for word in self.WORDS:
            if word.startswith(tail) or f"{word} ".startswith(tail):
                return True
            if tail.startswith(f"{word} ") and re.fullmatch(r"[0-9a-f]{0,15}", tail[len(word) + 1:]):
                return True
        return self.boundary.startswith(tail)

    def __call__(self, piece: str) -> str:
        text = self._held + piece
        cut = len(text)
        for start in range(max(0, len(text) - 27), len(text)):  # 27: "BEGIN DATA ", 16 hex digits
            tail = text[start:].lstrip(" \t")
            if tail and self._may_grow(tail):
                cut = start
                break
        text, self._held = text[:cut], text[cut:]
        return self._marker.sub("", text)

    def flush(self) -> str:
        held, self._held = self._held, ""
        return self._marker.sub("", held)


class _StrictStream:
    """`strict` while streaming: each sentence is shown once the next one begins (or the text ends)
    and only if the check keeps it, so the screen holds exactly the answer that is returned."""

    def __init__(self, hits: list[Hit], embed: Embed, on_token: OnToken) -> None:
        self.hits, self.embed, self.on_token = hits, embed, on_token
        self.kept: list[AnswerSentence] = []
        self.checked: list[AnswerSentence] = []
        self._text = ""

    def __call__(self, piece: str) -> None:
        self._text = verify.citations_first(self._text + piece)
        spans = verify.sentence_spans(self._text)
        if len(spans) > 1:  # all but the last are complete: the next one has begun
            self._check(self._text[:spans[-1][0]])
            self._text = self._text[spans[-1][0]:]

    def flush(self) -> None:
        self._check(self._text)
        self._text = ""

    def _check(self, text: str) -> None:
        for sentence in verify.check(text, self.hits, self.embed) if text.strip() else []:
            self.checked.append(sentence)
            if sentence.support != verify.UNSUPPORTED:
                cites = "".join(f" [{n}]" for n in sentence.citations)
                self.on_token(("" if not self.kept else " ") + sentence.text + cites)
                self.kept.append(sentence)


def generate(question: str, hits: list[Hit], engine: Engine, embed: Embed, strict: bool = False,
             on_token: Callable[[str], None] | None = None, instructions: str = "",
             refusal: str = REFUSAL) -> Answer:
    began = time.perf_counter()
    if not hits:
        return Answer(question, refusal, (), (), True, 0.0, engine=engine.name, model=engine.model)
    boundary = new_boundary()
    fence = _Fence(boundary)
    strict_stream = _StrictStream(hits, embed, on_token) if strict and on_token else None
    show = strict_stream or on_token

    def fenced(piece: str) -> None:
        text = fence(piece)
        if text and show:
            show(text)

    raw, cut = collect(engine, messages_for(question, hits, boundary, instructions, refusal), fenced)
    rest = fence.flush()
    if rest and show:
        show(rest)
    raw = _unfenced(raw, boundary)  # the whole reply, fenced the same way
    timings = {"generation": time.perf_counter() - began}
    if strict_stream is not None:
        strict_stream.flush()
        sentences = strict_stream.checked
    else:
        sentences = verify.check(raw, hits, embed)
    timings["check"] = time.perf_counter() - began - timings["generation"]
    if strict:
        sentences = [s for s in sentences if s.support != verify.UNSUPPORTED]
    said = [s for s in sentences if not verify.is_refusal(s, refusal)]
    abstained = not any(s.support == verify.SUPPORTED for s in said)
    cited = sorted({n for s in sentences for n in s.citations})
    citations = tuple(Citation(n, hits[n - 1]) for n in cited) if not abstained else \
        tuple(Citation(n, h) for n, h in enumerate(hits[:3], start=1))
    text = refusal if abstained else " ".join(s.text + "".join(f" [{n}]" for n in s.citations) for s in sentences)
    if cut:
        text = f"{text} {INCOMPLETE_MARK}"
    return Answer(question, text, tuple(sentences), citations, abstained,
                  confidence=sum(s.support == verify.SUPPORTED for s in said) / max(1, len(said)),
                  engine=engine.name, model=engine.model, timings=timings, retrieved=tuple(hits),
                  incomplete=cut, support=verify.summary(said) if said else "")


def _unfenced(text: str, boundary: str) -> str:
    fence = _Fence(boundary)
    return fence(text) + fence.flush()


class GenerativeAnswerer:
    """An LLM engine writes the answer from the passages; every sentence is then checked against them."""

    def __init__(self, engine: Engine, strict: bool = False, instructions: str = "", no_answer: str = "") -> None:
        self.engine, self.strict = engine, strict
        self.instructions, self.no_answer = instructions, no_answer or REFUSAL
        self.name = engine.name

    def answer(self, retrieval: Retrieval, on_token: OnToken | None = None) -> Answer:
        return generate(retrieval.question, retrieval.hits, self.engine, retrieval.embed, self.strict, on_token,
                        self.instructions, self.no_answer)
