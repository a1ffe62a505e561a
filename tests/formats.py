"""Real office files and books for tests, written with the libraries that write them (no binaries in git)."""

from __future__ import annotations

import zipfile
from pathlib import Path


def make_docx(path: Path, blocks: list[tuple[str, str]]) -> Path:
    """blocks: ("h1"|"p"|"table", text); a table's text is rows split by "\\n", cells by "|"."""
    import docx

    document = docx.Document()
    for kind, text in blocks:
        if kind == "h1":
            document.add_heading(text, level=1)
        elif kind == "table":
            rows = [r.split("|") for r in text.split("\n")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for i, row in enumerate(rows):
                for j, cell in enumerate(row):
                    table.cell(i, j).text = cell
        else:
            document.add_paragraph(text)
    document.save(str(path))
    return path


def make_pptx(path: Path, slides: list[tuple[str, str, str]]) -> Path:
    """slides: (title, body, notes)."""
    from pptx import Presentation

    deck = Presentation()
    for title, body, notes in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    deck.save(str(path))
    return path


def make_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    sheet.cell(row=r, column=c, value=value)
    book.save(str(path))
    return path


def make_odt(path: Path, blocks: list[tuple[str, str]]) -> Path:
    """blocks: ("h1"|"p", text)."""
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    for kind, text in blocks:
        document.text.addElement(H(outlinelevel=1, text=text) if kind == "h1" else P(text=text))
    document.save(str(path))
    return path


def make_epub(path: Path, chapters: list[tuple[str, list[str]]]) -> Path:
    """chapters: (title, paragraphs)."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("test-book")
    book.set_title("Libro di prova")
    book.set_language("it")
    items = []
    for n, (title, paragraphs) in enumerate(chapters, start=1):
        item = epub.EpubHtml(title=title, file_name=f"chap_{n}.xhtml", lang="it")
        item.content = f"<h1>{title}</h1>" + "".join(f"<p>{p}</p>" for p in paragraphs)
        book.add_item(item)
        items.append(item)
    book.toc = items
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *items]
    epub.write_epub(str(path), book)
    return path


def rewrite_member(path: Path, name: str, data: bytes, out: Path | None = None) -> Path:
    """A copy of the zip at `path` with member `name` replaced (or added)."""
    out = out or path
    with zipfile.ZipFile(path) as src:
        members = [(info, src.read(info)) for info in src.infolist() if info.filename != name]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, body in members:
            dst.writestr(info, body)
        dst.writestr(name, data)
    return out
