"""Frozen records passed between the index modules and up to `rag`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """The text of one source file as we read it; chunk spans index into `text`."""

    path: str
    text: str
    kind: str  # "txt", "md", "html", "pdf", "docx", "pptx", "xlsx", "odt" or "epub"
    sha256: str
    size: int
    mtime: float
    lang: str = ""
    headings: tuple[tuple[int, str], ...] = ()  # (char offset, heading text), in order
    page_starts: tuple[int, ...] = ()  # where each page (slide, sheet, chapter) begins, for paged formats


@dataclass(frozen=True)
class Chunk:
    """A passage of a document, with everything needed to cite it."""

    path: str
    start: int  # character span in the document text: text == doc.text[start:end]
    end: int
    line_start: int  # 1-based, inclusive
    line_end: int
    heading: str
    text: str
    lang: str = ""
    page: int | None = None  # 1-based page, slide, sheet or chapter, for paged formats

    @property
    def key(self) -> str:
        """A citation key that is stable across rebuilds: it depends only on where the chunk is."""
        raw = f"{self.path}:{self.start}:{self.end}".encode("utf-8", "backslashreplace")
        return hashlib.sha1(raw).hexdigest()[:10]

    @property
    def location(self) -> str:
        """`path:12-18`; in the format's own terms: `path:p3` (a PDF page), `path:slide 3`, `path:chapter 3`,
        `path:rows 4-9` (of the sheet the heading names), `path:¶12-14` (paragraphs of a document)."""
        suffix = self.path.rsplit(".", 1)[-1].lower()
        if self.page is not None and suffix in _PAGE_WORDS:
            return f"{self.path}:{_PAGE_WORDS[suffix]}{self.page}"
        one, many = _LINE_WORDS.get(suffix, ("", ""))
        if self.line_start == self.line_end:
            return f"{self.path}:{one}{self.line_start}"
        return f"{self.path}:{many}{self.line_start}-{self.line_end}"

    def page_at(self, offset: int) -> int | None:
        """The page (slide, chapter, sheet) of the character at document offset `offset` in this chunk:
        its first page plus the page breaks (form feeds, `index.ingest.layout`) before it."""
        if self.page is None:
            return None
        return self.page + self.text.count("\f", 0, max(0, offset - self.start))


_PAGE_WORDS = {"pdf": "p", "pptx": "slide ", "epub": "chapter "}  # Chunk.page, named
_LINE_WORDS = {"xlsx": ("row ", "rows "), "docx": ("¶", "¶"), "odt": ("¶", "¶")}  # lines: rows, paragraphs


@dataclass(frozen=True)
class Hit:
    """A chunk returned by a search, with the evidence for its rank."""

    chunk: Chunk
    score: float  # the fused score used for ranking
    dense_score: float | None = None
    dense_rank: int | None = None  # 1-based; None when the dense search did not return it
    lexical_score: float | None = None
    lexical_rank: int | None = None


@dataclass(frozen=True)
class Skipped:
    """A file left out of a build, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class BuildReport:
    """What a build or update did."""

    files_indexed: int
    chunks: int
    chunks_embedded: int  # texts the model embedded in this run
    files_reused: int = 0
    files_removed: int = 0
    seconds: float = 0.0
    skipped: tuple[Skipped, ...] = field(default_factory=tuple)
    chunks_reused: int = 0  # chunks - chunks_embedded: vectors taken from the index, the cache or a twin chunk
    chunks_resumed: int = 0  # of those, vectors an interrupted earlier run had left in the cache
    notes: tuple[str, ...] = ()  # one line each, e.g. a damaged embedding cache that was replaced
