"""Chunks map back to their source exactly, never exceed the model's tokens, and know their place."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from index.embed import HashEmbedder, SentenceTransformerEmbedder
from index.records import Document
from index.text.chunking import Chunker, ChunkSettings

WORDS = st.sampled_from(["il", "chip", "910B", "Huawei", "è", "l’addestramento", "100.000", "Coze", "dell'anno",
                         "supercalifragilistichespiralidoso", "a", "—", "OpenAI."])
SEPS = st.sampled_from([" ", " ", " ", "\n", "\n\n", ". ", "  ", "\t"])
TEXT = st.lists(st.tuples(WORDS, SEPS), min_size=1, max_size=400).map(lambda pairs: "".join(w + s for w, s in pairs))


def _doc(text: str, headings: tuple[tuple[int, str], ...] = ()) -> Document:
    return Document(path="t.txt", text=text, kind="txt", sha256="0", size=len(text), mtime=0.0, lang="it",
                    headings=headings)


@settings(max_examples=150, deadline=None)
@given(text=TEXT, size=st.integers(16, 80), overlap_share=st.floats(0, 0.5))
def test_spans_map_back_and_fit_the_model(text: str, size: int, overlap_share: float) -> None:
    embedder = HashEmbedder()
    chunk_settings = ChunkSettings(size=size, overlap=int(size * overlap_share))
    doc = _doc(text)
    for chunk in Chunker(chunk_settings, embedder.count_tokens).split(doc):
        assert doc.text[chunk.start:chunk.end] == chunk.text
        assert embedder.count_tokens(chunk.text) <= size
        assert chunk.line_start == doc.text.count("\n", 0, chunk.start) + 1
        assert chunk.line_end == doc.text.count("\n", 0, chunk.end - 1) + 1


def test_real_tokenizer_never_truncates_seed_chunks(real_embedder) -> None:  # type: ignore[no-untyped-def]
    from index.ingest.loaders import load
    from index.ingest.sources import discover
    from tests.conftest import SEEDS

    assert isinstance(real_embedder, SentenceTransformerEmbedder)
    doc = load(discover([str(SEEDS)])[0][0])
    assert isinstance(doc, Document)
    chunks = Chunker(ChunkSettings(), real_embedder.count_tokens).split(doc)
    assert len(chunks) > 1
    for chunk in chunks:
        assert real_embedder.count_tokens(chunk.text) <= real_embedder.max_tokens == 254
        assert doc.text[chunk.start:chunk.end] == chunk.text
    # With short sentences the overlap is real: consecutive chunks share text. (The splitter carries
    # over whole pieces, sentences or paragraphs, that fit in the overlap; never half a sentence.)
    flat = " ".join(f"La frase numero {i} parla del chip 910B." for i in range(80))
    one = Document(path="flat.txt", text=flat, kind="txt", sha256="0", size=len(flat), mtime=0.0, lang="it")
    pieces = Chunker(ChunkSettings(size=120, overlap=40), real_embedder.count_tokens).split(one)
    assert len(pieces) > 2
    assert all(b.start < a.end for a, b in zip(pieces, pieces[1:], strict=False))


def test_nearest_heading_and_pdf_pages() -> None:
    filler = "parola " * 12
    text = f"Intro\n\nPrima parte {filler}.\n\nSecondo\n\nAltro testo {filler}."
    headings = ((0, "Intro"), (text.index("Secondo"), "Secondo"))
    doc = Document(path="t.pdf", text=text, kind="pdf", sha256="0", size=1, mtime=0.0, headings=headings,
                   page_starts=(0, text.index("Secondo")))
    chunks = Chunker(ChunkSettings(size=16, overlap=0), HashEmbedder().count_tokens).split(doc)
    last = chunks[-1]
    assert last.heading == "Secondo" and last.page == 2
    assert chunks[0].heading == "Intro" and chunks[0].page == 1


@settings(max_examples=10, deadline=None)
@given(unit=st.sampled_from(["x", "parola ", "Una frase. ", "a\n", "é"]), size=st.integers(16, 64))
def test_the_tokenizer_never_sees_a_long_text(unit: str, size: int) -> None:
    """A tokenizer is slower than linear on one long string (a 20 MB line hung a build): no text longer than
    MAX_CHARS_PER_TOKEN characters a token reaches it, and an unbroken string still becomes bounded chunks."""
    from index.text.chunking import MAX_CHARS_PER_TOKEN

    text = unit * (20_000 // len(unit))
    seen: list[int] = []

    def count(piece: str) -> int:
        seen.append(len(piece))
        return HashEmbedder().count_tokens(piece)

    chunks = Chunker(ChunkSettings(size=size, overlap=size // 4), count).split(_doc(text))
    assert max(seen) <= size * MAX_CHARS_PER_TOKEN
    assert chunks and all(len(c.text) <= size * MAX_CHARS_PER_TOKEN for c in chunks)
    assert all(text[c.start:c.end] == c.text for c in chunks)


def test_slides_sheets_chapters_and_sections_are_chunked_apart() -> None:
    """No chunk spans two slides (sheets, chapters) or two sections of an office document; a sheet's lines
    are its rows, counted from the sheet's start."""
    text = "Riga uno\nRiga due\n\n\fAltro foglio\n\nRiga tre"
    sheet2 = text.index("Altro")
    doc = Document(path="t.xlsx", text=text, kind="xlsx", sha256="0", size=1, mtime=0.0,
                   headings=((0, "Uno"), (sheet2, "Due")), page_starts=(0, sheet2))
    chunks = Chunker(ChunkSettings(size=200, overlap=0), HashEmbedder().count_tokens).split(doc)
    assert [(c.heading, c.page, c.line_start, c.line_end) for c in chunks] == [("Uno", 1, 1, 2), ("Due", 2, 1, 3)]
    assert chunks[1].location == "t.xlsx:rows 1-3"
    body = "Titolo\nUn paragrafo.\nSezione\nAltro paragrafo."
    docx = Document(path="t.docx", text=body, kind="docx", sha256="0", size=1, mtime=0.0,
                    headings=((0, "Titolo"), (body.index("Sezione"), "Sezione")))
    parts = Chunker(ChunkSettings(size=200, overlap=0), HashEmbedder().count_tokens).split(docx)
    assert [(c.heading, c.location) for c in parts] == [("Titolo", "t.docx:¶1-2"), ("Sezione", "t.docx:¶3-4")]


def test_a_quotes_page_counts_the_page_breaks_before_it() -> None:
    text = "Pagina uno, fine.\n\n\fPagina due inizia qui."
    doc = Document(path="t.pdf", text=text, kind="pdf", sha256="0", size=1, mtime=0.0, page_starts=(0, 20))
    (chunk,) = Chunker(ChunkSettings(size=200, overlap=0), HashEmbedder().count_tokens).split(doc)
    assert chunk.page == 1 and chunk.page_at(0) == 1 and chunk.page_at(text.index("due")) == 2
