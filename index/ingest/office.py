"""Word, PowerPoint, Excel and OpenDocument text files, through the libraries that read them.

Each reader lays the file out so that a citation names the place in the format's own terms
(`layout.py`): a document one paragraph per line (citations say `¶12`, under the nearest heading),
a deck one page per slide (`slide 3`, titled by the slide's title), a workbook one page per sheet
and one line per row (`rows 4-9`, headed by the sheet's name). Tables in documents are one row per
line, cells joined by " | ". Speaker notes count as the slide's text. Formulas give their last
saved values. `zipsafe.check` has vetted the file before any of this runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from index.ingest.layout import Extracted, Layout

CELL = " | "


def docx(path: str) -> Extracted:
    import docx as python_docx
    from docx.table import Table

    layout = Layout()
    for block in python_docx.Document(path).iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                _row(layout, (cell.text for cell in row.cells))
        elif block.text.strip():
            style = (block.style.name if block.style is not None else "") or ""
            layout.line(block.text, heading=style.startswith(("Heading", "Title")))
    return layout.result()


def pptx(path: str) -> Extracted:
    from pptx import Presentation

    layout = Layout()
    for slide in Presentation(path).slides:
        title_shape = slide.shapes.title
        title = " ".join(title_shape.text_frame.text.split()) if title_shape is not None else ""
        layout.page(title)  # the location says "slide N"; the heading gives its title
        for shape in slide.shapes:
            _shape(layout, shape)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            for line in slide.notes_slide.notes_text_frame.text.splitlines():
                if line.strip():
                    layout.line(line)
    return layout.result()


def _shape(layout: Layout, shape: Any) -> None:
    if getattr(shape, "shapes", None) is not None:  # a group
        for inner in shape.shapes:
            _shape(layout, inner)
    elif getattr(shape, "has_table", False) and shape.has_table:
        for row in shape.table.rows:
            _row(layout, (cell.text for cell in row.cells))
    elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        for paragraph in shape.text_frame.paragraphs:
            text = "".join(run.text for run in paragraph.runs)
            if text.strip():
                layout.line(text)


def xlsx(path: str) -> Extracted:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)  # openpyxl parses through defusedxml
    try:
        layout = Layout()
        for sheet in book.worksheets:
            layout.page(str(sheet.title))
            empty = 0
            for row in sheet.iter_rows(values_only=True):
                values = [_cell(v) for v in row if v is not None and _cell(v)]
                if not values:
                    empty += 1  # held back, so that a sheet's trailing empty rows add nothing
                    continue
                for _ in range(empty):
                    layout.line("")
                empty = 0
                layout.line(CELL.join(values))
        return layout.result()
    finally:
        book.close()


def odt(path: str) -> Extracted:
    from odf import teletype
    from odf.opendocument import load as load_odf

    layout = Layout()
    for element in _walk(load_odf(path).text):
        if element.qname[1] == "table-row":
            _row(layout, (teletype.extractText(cell) for cell in element.childNodes))
        else:
            text = teletype.extractText(element)
            if text.strip():
                layout.line(text, heading=element.qname[1] == "h")
    return layout.result()


def _walk(element: Any) -> Iterable[Any]:
    """Paragraphs, headings and table rows in document order (not the paragraphs inside a row's cells)."""
    for child in element.childNodes:
        name = getattr(child, "qname", None)
        if name is None:
            continue
        if name[1] in ("p", "h", "table-row"):
            yield child
        else:
            yield from _walk(child)


def _row(layout: Layout, cells: Iterable[str]) -> None:
    values = [" ".join(c.split()) for c in cells]
    deduped = [v for i, v in enumerate(values) if v and (i == 0 or v != values[i - 1])]  # merged cells repeat
    if deduped:
        layout.line(CELL.join(deduped))


def _cell(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())
