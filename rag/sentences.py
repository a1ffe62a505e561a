"""Splitting passages into sentences, keeping each sentence's character span.

A rule-based splitter: a sentence ends at `.`, `!`, `?` or `…` followed by space and a capital,
digit or quote, or at a line break. Numbers like `100.000` and names like `S.p.A.` stay whole
because no space follows their dots. It leaves abbreviations such as "Dr. Rossi" split, a
trade-off we accept for having no language model here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'»”)]*\s+(?=[\"'«“(]?[A-ZÀ-ÖØ-Þ0-9])|\n\s*")
MIN_CHARS = 12  # shorter pieces ("Sì.", stray headings' numbers) are not worth quoting on their own


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # offsets into the text that was split
    end: int


def split_sentences(text: str, offset: int = 0, min_chars: int = MIN_CHARS) -> list[Sentence]:
    """Sentences of `text`, with spans shifted by `offset` (the passage's start in its document).

    Pieces shorter than `min_chars` are dropped (answers quote whole sentences); a check of a
    generated answer passes 1, so that nothing it says goes unchecked.
    """
    out: list[Sentence] = []
    pos = 0
    for match in [*_BOUNDARY.finditer(text), None]:
        end = match.start() if match else len(text)
        piece = text[pos:end]
        stripped = piece.strip()
        if len(stripped) >= min_chars:
            lead = len(piece) - len(piece.lstrip())
            out.append(Sentence(stripped, offset + pos + lead, offset + pos + lead + len(stripped)))
        if match:
            pos = match.end()
    return out
