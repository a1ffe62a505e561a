"""Splitting a document into overlapping chunks sized in the embedding model's own tokens.

The splitter is langchain-text-splitters' recursive splitter (paragraphs, then lines, then
sentences, then words) with a length function that counts the model's word pieces, so no chunk is
longer than the model reads and none is silently truncated. Each chunk keeps its exact span in the
document text, so a citation can always be found again in the source.

Sizes are linear in the text: the splitter asks the length of the whole text first, then of each
piece too long to keep, and a Hugging Face tokenizer takes time and memory that grow faster than
the text on one long string (measured: 1 MB 2.3 s, 2 MB 4.0 s, 4 MB 12.8 s and 700 MB; a 20 MB
single-line file ran 15+ minutes at 2 GB). So a piece longer than `MAX_CHARS_PER_TOKEN` characters
per token of the chunk size is not tokenized: it is too long by definition and is split further.
No real text comes near that (prose runs 4-5 characters per word piece); only an unbroken string
does (3,000 "x" are one token), and it is cut into chunks of bounded length in characters too.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from index.errors import ConfigError, Fix
from index.records import Chunk, Document

DEFAULT_CHUNK_SIZE = 254  # word pieces: all of what all-MiniLM-L6-v2 reads (256 less [CLS] and [SEP])
DEFAULT_CHUNK_OVERLAP = 50
MIN_CHUNK_SIZE = 16
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ": ", ", ", " ", ""]
MAX_CHARS_PER_TOKEN = 16
ROWS = {"xlsx"}  # kinds whose lines are numbered within each page (a sheet's rows)
OWN_PAGES = {"pptx", "xlsx", "epub"}  # kinds whose pages are chunked apart
SECTIONS = {"docx", "odt"}  # kinds whose headings begin a new chunk
_NEWLINE = re.compile("\n")


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
        max_chars = settings.size * MAX_CHARS_PER_TOKEN
        # The splitter asks the length of every word (every character, in an unbroken string) once or
        # more; words repeat, so short ones are remembered (a 20 MB line: 60 M calls, most of them hits).
        short = lru_cache(maxsize=1 << 16)(count_tokens)

        def length(text: str) -> int:
            if len(text) <= 24:
                return short(text)
            return settings.size + 1 if len(text) > max_chars else count_tokens(text)

        self._splitter = RecursiveCharacterTextSplitter(
            separators=SEPARATORS, keep_separator="end", chunk_size=settings.size,
            chunk_overlap=settings.overlap, length_function=length, strip_whitespace=True,
        )

    def split(self, doc: Document) -> list[Chunk]:
        newlines = [m.start() for m in _NEWLINE.finditer(doc.text)]
        heading_offsets = [offset for offset, _ in doc.headings]
        chunks: list[Chunk] = []
        cursor = 0
        for piece, begin in self._pieces(doc):
            start = _locate(doc.text, piece, max(cursor, begin))
            end = start + len(piece)
            cursor = start + 1
            h = bisect.bisect_right(heading_offsets, start) - 1
            page = bisect.bisect_right(doc.page_starts, start) if doc.page_starts else None
            # a sheet's lines are its rows, counted from the sheet's start; other lines from the file's
            base = bisect.bisect_right(newlines, doc.page_starts[page - 1] - 1) if page and doc.kind in ROWS else 0
            chunks.append(Chunk(
                path=doc.path, start=start, end=end,
                line_start=bisect.bisect_right(newlines, start - 1) + 1 - base,
                line_end=bisect.bisect_right(newlines, end - 1) + 1 - base,
                heading=doc.headings[h][1] if h >= 0 else "",
                text=piece, lang=doc.lang, page=page,
            ))
        return chunks


    def _pieces(self, doc: Document) -> Iterator[tuple[str, int]]:
        """The splitter's pieces, each with where its part begins: a slide, a sheet, a chapter or an office
        document's section is cut on its own, so that no chunk spans two and its heading is the quote's
        (a PDF's pages are not: its paragraphs run across them; nor are other formats, whose chunks predate this)."""
        starts = (doc.page_starts if doc.kind in OWN_PAGES
                  else [offset for offset, _ in doc.headings] if doc.kind in SECTIONS else [])
        if not starts:
            yield from ((piece, 0) for piece in self._splitter.split_text(doc.text))
            return
        bounds = sorted({0, *starts, len(doc.text)})
        for begin, end in zip(bounds, bounds[1:], strict=False):
            yield from ((piece, begin) for piece in self._splitter.split_text(doc.text[begin:end]))


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
