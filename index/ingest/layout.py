"""How a loader lays a document out as text, so that a citation can say where a quote is.

One line per paragraph (a document), per row (a sheet) or per text block (a slide, a page); pages,
slides, sheets and chapters are separated by `PAGE_BREAK`, whose form feed stays inside chunk text,
so the page of any sentence is the chunk's page plus the form feeds before it (no schema change: an
index built before simply has none). Headings are (offset, text) pairs; their text need not be in
the document (a sheet's name, a slide's number).
"""

from __future__ import annotations

from dataclasses import dataclass, field

PAGE_BREAK = "\n\n\f"  # a paragraph break the splitter prefers, then the form feed that counts pages

Extracted = tuple[str, list[tuple[int, str]], list[int]]  # text, headings, page starts


@dataclass
class Layout:
    """Builds the text of a document line by line, with its headings and page starts."""

    parts: list[str] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    size: int = 0
    _fresh: bool = True  # nothing on the current page yet

    def page(self, title: str = "") -> None:
        """Start a new page (slide, sheet, chapter); `title` becomes its heading."""
        if self.pages:
            self._add(PAGE_BREAK)
        self.pages.append(self.size)
        self._fresh = True
        if title:
            self.headings.append((self.size, title))

    def line(self, text: str, heading: bool = False) -> None:
        """Add one line (a paragraph, a row); empty lines are kept, so that line numbers stay true."""
        text = " ".join(text.split())
        if not self._fresh:
            self._add("\n")
        if heading and text:
            self.headings.append((self.size, text))
        self._add(text)
        self._fresh = False

    def _add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def result(self) -> Extracted:
        return "".join(self.parts), self.headings, self.pages
