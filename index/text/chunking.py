"""Splitting a document into overlapping chunks sized in the embedding model's own tokens.

The splitter is langchain-text-splitters' recursive splitter (paragraphs, then lines, then
sentences, then words) with a length function that counts the model's word pieces, so no chunk is
longer than the model reads and none is silently truncated. Each chunk keeps its exact span in the
document text, so a citation can always be found again in the source.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

from index.errors import ConfigError, Fix
from index.records import Chunk, Document

DEFAULT_CHUNK_SIZE = 254  # word pieces: all of what all-MiniLM-L6-v2 reads (256 less [CLS] and [SEP])
DEFAULT_CHUNK_OVERLAP = 50
MIN_CHUNK_SIZE = 16
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ": ", ", ", " ", ""]


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are cut; recorded in the index, which refuses queries made with other settings."""

    size: int = DEFAULT_CHUNK_SIZE
    overlap: int = DEFAULT_CHUNK_OVERLAP

    def check(self, model_max_tokens: int) -> None:
        if self.size < MIN_CHUNK_SIZE:
            raise ConfigError(f"chunk size {self.size} is too small; use at least {MIN_CHUNK_SIZE} tokens")
        if not 0 <= self.overlap < self.size:
            raise ConfigError(f"chunk overlap {self.overlap} must be between 0 and the chunk size {self.size}")
        if self.size > model_max_tokens:
            raise ConfigError(f"chunk size {self.size} is over the {model_max_tokens} tokens the model reads; "
                              f"use a chunk size of {model_max_tokens} or less", Fix.SMALLER_CHUNKS)


class Chunker:
    """Cuts documents into `Chunk`s; `count_tokens` is the embedding model's token counter."""

    def __init__(self, settings: ChunkSettings, count_tokens: Callable[[str], int]) -> None:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        self.settings = settings
        self._splitter = RecursiveCharacterTextSplitter(
            separators=SEPARATORS, keep_separator="end", chunk_size=settings.size,
            chunk_overlap=settings.overlap, length_function=count_tokens, strip_whitespace=True,
        )

    def split(self, doc: Document) -> list[Chunk]:
        newlines = [i for i, ch in enumerate(doc.text) if ch == "\n"]
        heading_offsets = [offset for offset, _ in doc.headings]
        chunks: list[Chunk] = []
        cursor = 0
        for piece in self._splitter.split_text(doc.text):
            start = _locate(doc.text, piece, cursor)
            end = start + len(piece)
            cursor = start + 1
            h = bisect.bisect_right(heading_offsets, start) - 1
            page = bisect.bisect_right(doc.page_starts, start) if doc.page_starts else None
            chunks.append(Chunk(
                path=doc.path, start=start, end=end,
                line_start=bisect.bisect_right(newlines, start - 1) + 1,
                line_end=bisect.bisect_right(newlines, end - 1) + 1,
                heading=doc.headings[h][1] if h >= 0 else "",
                text=piece, lang=doc.lang, page=page,
            ))
        return chunks


def _locate(text: str, piece: str, cursor: int) -> int:
    """Where `piece` starts in `text`, searching from the previous chunk's start onwards.

    The splitter returns exact substrings (it only strips whitespace at the ends), so this always
    finds it; the fallback to a search from the start only guards against a future splitter change.
    """
    start = text.find(piece, cursor)
    if start < 0:
        start = text.find(piece)
    if start < 0:
        raise ValueError("splitter returned text that is not in the document")
    return start
