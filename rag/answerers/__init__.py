"""Answerers: who writes the answer to a retrieved question, behind one protocol (`base.Answerer`).

    extractive   the default, no LLM: quotes the sentences that best answer, or abstains
                 (`extractive.py` scores the sentences, `confidence.py` holds the calibrated threshold)
    generative   an LLM engine (`rag.engines`) writes it; `verify.py` checks every sentence against
                 the passages it cites (`generative.py`)

Add an answerer by writing a class with `name` and `answer(retrieval, on_token)` and giving
`make_answerer` a way to build it from the settings.
"""

from __future__ import annotations

from typing import Any

from rag.answerers.base import Answerer, Corpus, Embed, OnToken, Retrieval
from rag.answerers.extractive import ExtractiveAnswerer
from rag.answerers.generative import GenerativeAnswerer
from rag.engines import EXTRACTIVE, Engine, make_engine


def make_answerer(settings: Any, instructions: str = "", no_answer: str = "",
                  engine: Engine | None = None) -> Answerer:
    """The answerer the settings name: extractive, or generative with the settings' engine (or `engine`)."""
    if engine is None and settings.engine == EXTRACTIVE:
        return ExtractiveAnswerer(settings.min_confidence, no_answer)
    return GenerativeAnswerer(engine or make_engine(settings.engine, settings), settings.strict, instructions,
                              no_answer)


__all__ = ["Answerer", "Corpus", "Embed", "ExtractiveAnswerer", "GenerativeAnswerer", "OnToken", "Retrieval",
           "make_answerer"]
