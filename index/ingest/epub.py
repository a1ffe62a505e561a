"""EPUB books through ebooklib: one page per chapter (a spine document), so citations say `chapter 3`.

A chapter is headed by its first h1-h3 (else "chapter N"); its other headings are kept as headings.
Its visible text is read with BeautifulSoup's html.parser, one block per line, which never expands
entity declarations. `zipsafe.check` has vetted the container (bounds, entities, DRM) first.
"""

from __future__ import annotations

import re

from index.ingest.layout import Extracted, Layout

_HEADING = re.compile(r"^h[1-6]$")
_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "td", "th", "dt", "dd", "div")


def epub(path: str) -> Extracted:
    import ebooklib
    from bs4 import BeautifulSoup
    from ebooklib import epub as ebook

    book = ebook.read_epub(path, options={"ignore_ncx": True})
    layout = Layout()
    chapter = 0
    for item_id, _linear in book.spine:
        item = book.get_item_with_id(item_id)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT:
            continue
        soup = BeautifulSoup(item.get_content(), "html.parser")
        for tag in soup(["script", "style", "head", "svg", "nav"]):
            tag.decompose()
        blocks = [(b.name, " ".join(b.get_text(" ").split())) for b in soup.find_all(_BLOCKS)
                  if not b.find(_BLOCKS)]  # innermost blocks only, so no text is read twice
        blocks = [(name, text) for name, text in blocks if text]
        if not blocks:
            continue
        chapter += 1
        title = next((text for name, text in blocks if name in ("h1", "h2", "h3")), "")
        layout.page(title)  # the location says "chapter N"; the heading gives its title
        for name, text in blocks:
            layout.line(text, heading=bool(_HEADING.match(name)) and text != title)
    return layout.result()
