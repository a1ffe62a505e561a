"""What every answerer gets and gives: the passages retrieved for a question in, an `Answer` out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from index.records import Hit
from rag.answer import Answer

Embed = Callable[[list[str]], np.ndarray]
OnToken = Callable[[str], None]


class Corpus(Protocol):
    """What an answerer may ask of the index it answers from (`index.search.Searcher` provides it)."""

    langs: set[str]

    def idf(self, term: str) -> float: ...

    def zipf(self, word: str, lang: str) -> float: ...

    def word_vectors(self, words: Sequence[str]) -> np.ndarray | None: ...  # None: the index has no word table


@dataclass(frozen=True)
class Retrieval:
    """A question as it was searched, and what the search found."""

    question: str  # as searched: a follow-up is already made standalone with the conversation
    hits: list[Hit]
    vector: np.ndarray  # the searched question's embedding
    corpus: Corpus
    embed: Embed  # the index's embedding model, for sentences and checks
    focus: str = ""  # what the answer must cover, when not the whole searched text: a follow-up's own words
    translate: Embed | None = None  # a multilingual encoder, when the question is in another language


class Answerer(Protocol):
    """Writes the answer to a retrieved question, or abstains with the nearest passages."""

    name: str

    def answer(self, retrieval: Retrieval, on_token: OnToken | None = None) -> Answer: ...
