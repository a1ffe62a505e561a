"""Reading one file into a `Document`: its text, headings, pages and language.

Plain text and Markdown are decoded strictly as UTF-8 (never with errors ignored, which would
silently change what we quote). HTML keeps only visible text. PDF keeps page boundaries so that a
citation can name the page. Word, PowerPoint, Excel, OpenDocument text and EPUB files are zip
containers: `zipsafe` vets them, then `office.py` and `epub.py` read them with their libraries. A
file that cannot be read becomes a `Skipped` with the reason.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from index.ingest.layout import PAGE_BREAK, Extracted
from index.ingest.sources import Found
from index.records import Document, Skipped
from index.text.language import detect_language

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.M)
_END_PUNCT = tuple(".!?;:,…)\"'»”")


def load(found: Found) -> Document | Skipped:
    """Read and decode a discovered file."""
    try:
        data = found.path.read_bytes()
    except OSError as exc:
        return Skipped(found.name, f"cannot read: {exc.strerror or exc}")
    if not data.strip():
        return Skipped(found.name, "empty file")
    if found.kind == "pdf":
        result = _pdf(found, data)
    elif found.kind in CONTAINERS:
        result = _container(found)
    else:
        if b"\x00" in data:
            return Skipped(found.name, "binary file (contains NUL bytes)")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return Skipped(found.name, f"not valid UTF-8 text (byte {exc.start}); convert it to UTF-8")
        result = _html(text) if found.kind == "html" else (text, _headings(text, found.kind), [])
    if isinstance(result, str):
        return Skipped(found.name, result)
    text, headings, pages = result
    if not text.strip():
        return Skipped(found.name, "no text found")
    return Document(
        path=found.name, text=text, kind=found.kind, sha256=hashlib.sha256(data).hexdigest(),
        size=found.size, mtime=found.mtime, lang=detect_language(text),
        headings=tuple(headings), page_starts=tuple(pages),
    )


def _headings(text: str, kind: str) -> list[tuple[int, str]]:
    """Markdown `#` headings, or in plain text short title-like lines standing alone between blank lines."""
    if kind == "md":
        return [(m.start(), m.group(2)) for m in _MD_HEADING.finditer(text)]
    found = []
    lines = text.splitlines(keepends=True)
    offset = 0
    for i, line in enumerate(lines):
        stripped = line.strip()
        before_blank = i == 0 or not lines[i - 1].strip()
        after_blank = i + 1 < len(lines) and not lines[i + 1].strip()
        if (stripped and before_blank and after_blank and len(stripped) <= 80
                and not stripped.endswith(_END_PUNCT) and len(stripped.split()) <= 12):
            found.append((offset, stripped))
        offset += len(line)
    return found


def _html(source: str) -> tuple[str, list[tuple[int, str]], list[int]] | str:
    """Visible text of an HTML page, one block per line; headings are the h1-h6 elements."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(source, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head", "svg"]):
        tag.decompose()
    heading_texts = {" ".join(h.get_text(" ").split()) for h in soup.find_all(re.compile(r"^h[1-6]$"))}
    blocks = [" ".join(part.split()) for part in soup.get_text("\n").split("\n")]
    text = "\n\n".join(b for b in blocks if b)
    headings, offset = [], 0
    for block in text.split("\n\n"):
        if block in heading_texts:
            headings.append((offset, block))
        offset += len(block) + 2
    return text, headings, []


def _pdf(found: Found, data: bytes) -> tuple[str, list[tuple[int, str]], list[int]] | str:
    """Text of each page, pages separated by a blank line; the page starts are kept."""
    from index.ingest.pdf import extract_pages

    pages = extract_pages(str(found.path))
    if isinstance(pages, str):
        return pages
    if not any(pages):
        return "PDF has no text layer (scanned?); run OCR on it first"
    text, starts = "", list[int]()
    for page_text in pages:
        if starts:
            text += PAGE_BREAK
        starts.append(len(text))
        text += page_text
    return text, _headings(text, "txt"), starts


# kind -> (what it is called in a reason, the reader's module and function)
CONTAINERS = {"docx": ("Word document", "office", "docx"), "pptx": ("PowerPoint deck", "office", "pptx"),
              "xlsx": ("Excel workbook", "office", "xlsx"), "odt": ("OpenDocument text", "office", "odt"),
              "epub": ("EPUB book", "epub", "epub")}


def _container(found: Found) -> Extracted | str:
    """A zip-based format: vetted by `zipsafe`, then read by its library; any failure is a reason."""
    import importlib

    from index.ingest import zipsafe

    what, module, function = CONTAINERS[found.kind]
    reason = zipsafe.check(str(found.path), what)
    if reason:
        return reason
    reader: Callable[[str], Extracted] = getattr(importlib.import_module(f"index.ingest.{module}"), function)
    try:
        return reader(str(found.path))
    except _reader_errors() as exc:  # a file the library cannot make sense of: one skipped file, not a crash
        return f"broken {what} ({type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''})"


def _reader_errors() -> tuple[type[BaseException], ...]:
    """What the format libraries raise on a broken or odd file (their own errors and the builtins they leak)."""
    import zipfile
    import zlib
    from xml.parsers.expat import ExpatError

    from docx.opc.exceptions import OpcError
    from ebooklib.epub import EpubException
    from lxml.etree import LxmlError
    from openpyxl.utils.exceptions import InvalidFileException
    from pptx.exc import PythonPptxError

    return (OpcError, EpubException, LxmlError, InvalidFileException, PythonPptxError, ExpatError,
            zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, TypeError, AttributeError, IndexError,
            OSError, RuntimeError, RecursionError, AssertionError)
