"""Answers in a pool of worker threads, several at once, streamed back to the event loop as they come.

There is no per-bot lock: `Assistant.ask` keeps no state between questions (the searcher it opens is
read-only, the conversation travels in the request), and the NumPy, FAISS and tokenizer calls that
take its time release the GIL, so two questions run on two cores. `Answering.admit` counts answers
in progress (running or waiting for a thread); beyond `max_concurrent` the caller answers 429.

A job's events are the LLM's pieces as the engine yields them, then the finished `Answer`. The
extractive answerer writes no text before it is done, so its answer is cut into sentences
(`pieces`) and those are streamed. A client that leaves sets the job's cancel flag: an LLM stops at
its next token, an extractive answer (a few hundred milliseconds) finishes and is dropped.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rag.answer import Answer
from rag.server.protocol import ApiError, ChatRequest

RETRY_AFTER_S = 1


class Cancelled(Exception):
    """The client went away; raised from `on_token` to stop the engine's stream."""


class Answering:
    def __init__(self, threads: int, max_concurrent: int) -> None:
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="rag-answer")
        self.threads, self.max_concurrent = threads, max_concurrent
        self.active = 0  # read and written on the event loop's thread only
        self.jobs: set[Job] = set()

    def admit(self, assistant: Any, request: ChatRequest) -> Job:
        """Start answering, or raise a 429 when `max_concurrent` answers are already in progress."""
        if self.active >= self.max_concurrent:
            raise ApiError(429, f"{self.active} answers in progress, the most this server takes; retry shortly",
                           "rate_limit_error", "rate_limit_exceeded", headers={"Retry-After": str(RETRY_AFTER_S)})
        self.active += 1
        job = Job(asyncio.get_running_loop())
        self.jobs.add(job)
        future = job.loop.run_in_executor(self.pool, job.work, assistant, request)
        future.add_done_callback(lambda _: self._release(job))  # the slot is held until the thread is free
        return job

    def _release(self, job: Job) -> None:
        self.active -= 1
        self.jobs.discard(job)

    def close(self) -> None:
        """Shutting down: running LLM answers stop at their next token; queued ones never start."""
        for job in list(self.jobs):
            job.cancel.set()
        self.pool.shutdown(wait=False, cancel_futures=True)


class Job:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop, self.cancel = loop, threading.Event()
        self.queue: asyncio.Queue[str | Answer | BaseException] = asyncio.Queue()

    def _put(self, item: str | Answer | BaseException) -> None:
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:  # the loop closed (shutdown): nobody is listening
            self.cancel.set()

    def _token(self, piece: str) -> None:
        if self.cancel.is_set():
            raise Cancelled
        self._put(piece)

    def work(self, assistant: Any, request: ChatRequest) -> None:
        """Runs in a pool thread."""
        if self.cancel.is_set():
            return self._put(Cancelled())
        try:
            session = request.session() if request.history else None
            answer = assistant.ask(request.question, on_token=self._token, session=session)
        except Exception as exc:  # handed to the loop, which turns it into an HTTP error or an error event
            return self._put(exc)
        return self._put(answer)

    async def events(self) -> AsyncIterator[str | Answer]:
        """Text pieces as they come, then the Answer; raises what the answer raised."""
        streamed = False
        try:
            while True:
                item = await self.queue.get()
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, Answer):
                    if not streamed:
                        for piece in pieces(item):
                            yield piece
                    yield item
                    return
                streamed = True
                yield item
        finally:
            self.cancel.set()  # a no-op when done; stops the engine when the client left


def pieces(answer: Answer) -> list[str]:
    """The answer's text cut before each sentence after the first; joined, they are exactly the text."""
    text, cuts, at = answer.text, [0], 0
    for sentence in answer.sentences:
        found = text.find(sentence.text, at)
        if found < 0:
            break
        if found > 0:
            cuts.append(found)
        at = found + len(sentence.text)
    cuts.append(len(text))
    parts = [text[a:b] for a, b in zip(cuts, cuts[1:], strict=False) if b > a]
    return parts or [text]
