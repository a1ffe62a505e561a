"""PDF: text per page, citations that name the page, and PDFs without text skipped with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.builder import Builder
from index.embed import HashEmbedder
from index.ingest.loaders import load
from index.ingest.sources import discover
from index.records import Document, Skipped
from index.search import Searcher
from index.store import IndexStore
from index.text.chunking import ChunkSettings
from tests.pdfgen import make_pdf

pytestmark = pytest.mark.slow  # PDF text comes from a child process


def test_pdf_pages_are_kept_and_cited(tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    pages = ["Il primo capitolo parla di gatti e di cani domestici.",
             "Il secondo capitolo descrive il chip Ascend 910B di Huawei.",
             "Il terzo capitolo riguarda i treni ad alta velocita."]
    pdf.write_bytes(make_pdf(pages))
    doc = load(discover([str(pdf)])[0][0])
    assert isinstance(doc, Document) and len(doc.page_starts) == 3
    for number, text in enumerate(pages, start=1):
        assert doc.text[doc.page_starts[number - 1]:].startswith(text)

    Builder(IndexStore(tmp_path / "idx"), HashEmbedder(), ChunkSettings(size=16, overlap=0)).build([str(pdf)])
    hit = Searcher(IndexStore(tmp_path / "idx").open(), HashEmbedder()).search("910B", k=1)[0]
    assert hit.chunk.page == 2 and hit.chunk.location.endswith(":p2")


def test_pdf_without_text_or_broken_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "blank.pdf").write_bytes(make_pdf(["", ""]))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    results = {Path(f.path).name: load(f) for f in discover([str(tmp_path)])[0]}
    assert isinstance(results["blank.pdf"], Skipped) and "no text layer" in results["blank.pdf"].reason
    assert isinstance(results["broken.pdf"], Skipped)


def test_a_pdf_citation_gives_the_page_of_the_quoted_sentence(tmp_path: Path) -> None:
    """Both pages fit one passage; the answer quotes page 2, so the citation says p2 (it said p1)."""
    from rag.assistant import Assistant
    from rag.config.settings import Settings

    pdf = tmp_path / "docs" / "report.pdf"
    pdf.parent.mkdir()
    pdf.write_bytes(make_pdf(["Il primo capitolo parla di gatti e di cani domestici.",
                              "Il secondo capitolo descrive il chip Ascend 910B di Huawei."]))
    assistant = Assistant(Settings(home=tmp_path / "home", embedder="hash", min_confidence=0.0),
                          embedder=HashEmbedder())
    assistant.build([str(pdf.parent)])
    assert assistant.searcher.generation.meta.n_chunks == 1
    answer = assistant.ask("Quale chip descrive il secondo capitolo?")
    assert not answer.abstained and "910B" in answer.text
    assert answer.citations[0].hit.chunk.location.endswith(":p2")
