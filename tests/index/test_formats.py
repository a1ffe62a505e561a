"""Word, PowerPoint, Excel, OpenDocument and EPUB files: read from real files made here with the libraries
that write them, cited in each format's own terms, and every hostile or broken variant skipped with a reason."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.builder import Builder
from index.embed import HashEmbedder
from index.ingest import zipsafe
from index.ingest.loaders import load
from index.ingest.sources import Found, discover
from index.records import Document, Skipped
from index.search import Searcher
from index.store import IndexStore
from index.text.chunking import ChunkSettings
from tests.formats import make_docx, make_epub, make_odt, make_pptx, make_xlsx, rewrite_member

FUZZ = int(os.environ.get("RAG_FUZZ_EXAMPLES", "200"))
FILLER = "Questa frase serve solo a riempire il documento con parole comuni e senza fatti."


def corpus(root: Path) -> dict[str, Path]:
    """One real file of each kind; the fact "910B" sits at a known place in each."""
    root.mkdir(parents=True, exist_ok=True)
    return {
        "docx": make_docx(root / "report.docx", [
            ("h1", "Introduzione"), ("p", FILLER), ("p", FILLER), ("h1", "Chip"), ("p", FILLER),
            ("p", "ByteDance ha ordinato centomila chip Ascend 910B a Huawei."),
            ("table", "Nome|Valore\nprezzo|alto")]),
        "pptx": make_pptx(root / "deck.pptx", [
            ("Apertura", FILLER, "Note: salutare il pubblico."), ("Mercato", FILLER, ""),
            ("Fornitori", "Huawei fornisce il chip Ascend 910B a ByteDance.", "")]),
        "xlsx": make_xlsx(root / "sales.xlsx", {
            "Riepilogo": [["Anno", "Totale"], [2023, 10]],
            "Ordini": [["Cliente", "Chip", "Pezzi"], ["Alfa", "H20", 5], [None, None, None],
                       ["ByteDance", "910B", 100000]]}),
        "odt": make_odt(root / "note.odt", [
            ("h1", "Appunti"), ("p", FILLER), ("h1", "Fornitura"), ("p", "Il chip 910B arriva da Huawei.")]),
        "epub": make_epub(root / "libro.epub", [
            ("Origini", [FILLER, FILLER]), ("Il chip", [FILLER, "Il chip 910B fu ordinato da ByteDance."])]),
    }


def _load(path: Path) -> Document | Skipped:
    found, skipped = discover([str(path)])
    return load(found[0]) if found else skipped[0]


def test_each_format_reads_its_text_headings_and_places(tmp_path: Path) -> None:
    files = corpus(tmp_path / "docs")
    docx = _load(files["docx"])
    assert isinstance(docx, Document) and docx.kind == "docx"
    lines = docx.text.split("\n")
    assert [h for _, h in docx.headings] == ["Introduzione", "Chip"]
    assert lines[5].startswith("ByteDance ha ordinato") and lines[6] == "Nome | Valore"  # paragraph 6, then a table
    deck = _load(files["pptx"])
    assert isinstance(deck, Document) and len(deck.page_starts) == 3
    assert [h for _, h in deck.headings] == ["Apertura", "Mercato", "Fornitori"]
    assert "salutare il pubblico" in deck.text  # speaker notes are read
    assert deck.text[deck.page_starts[2]:].startswith("Fornitori\nHuawei fornisce")
    book = _load(files["xlsx"])
    assert isinstance(book, Document) and [h for _, h in book.headings] == ["Riepilogo", "Ordini"]
    sheet = book.text[book.page_starts[1]:].split("\n")
    assert sheet[0] == "Cliente | Chip | Pezzi" and sheet[2] == "" and sheet[3] == "ByteDance | 910B | 100000"
    odt = _load(files["odt"])
    assert isinstance(odt, Document) and [h for _, h in odt.headings] == ["Appunti", "Fornitura"]
    assert odt.text.split("\n")[3] == "Il chip 910B arriva da Huawei."
    epub = _load(files["epub"])
    assert isinstance(epub, Document) and len(epub.page_starts) == 2
    assert [h for _, h in epub.headings] == ["Origini", "Il chip"] and epub.lang == "it"


def test_citations_name_the_place_in_the_formats_own_terms(tmp_path: Path) -> None:
    files = corpus(tmp_path / "docs")
    store = IndexStore(tmp_path / "idx")
    Builder(store, HashEmbedder(), ChunkSettings(size=24, overlap=0)).build([str(tmp_path / "docs")])
    searcher = Searcher(store.open(), HashEmbedder())
    where = {}
    for hit in searcher.search("910B ByteDance Huawei chip", k=10):
        suffix = hit.chunk.path.rsplit(".", 1)[-1]
        if "910B" in hit.chunk.text and suffix not in where:
            where[suffix] = (hit.chunk.location.split(":", 1)[1], hit.chunk.heading)
    assert where["docx"][0].startswith("¶") and where["docx"][1] == "Chip"
    assert where["pptx"] == ("slide 3", "Fornitori")
    assert where["xlsx"][1] == "Ordini" and where["xlsx"][0].startswith("row") and where["xlsx"][0].endswith("4")
    assert where["odt"] == ("¶3-4", "Fornitura")  # the section: its heading (paragraph 3) and paragraph 4
    assert where["epub"] == ("chapter 2", "Il chip")
    assert set(where) == set(files)


def test_macros_are_ignored(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "macro.docx", [("p", "Testo con una macro accanto, mai eseguita.")])
    rewrite_member(path, "word/vbaProject.bin", b"\xd0\xcf\x11\xe0 Sub AutoOpen() Shell(\"rm -rf ~\") End Sub")
    doc = _load(path)
    assert isinstance(doc, Document) and "AutoOpen" not in doc.text and "mai eseguita" in doc.text


XXE = (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY leak SYSTEM "file:///etc/passwd">]>'
       b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>'
       b'<w:t>&leak;</w:t></w:r></w:p></w:body></w:document>')
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
          b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><x>&c;</x>')


@pytest.mark.parametrize("payload", [XXE, LAUGHS], ids=["external-entity", "billion-laughs"])
def test_xml_entities_are_refused(tmp_path: Path, payload: bytes) -> None:
    path = make_docx(tmp_path / "evil.docx", [("p", "Innocuo.")])
    rewrite_member(path, "word/document.xml", payload)
    result = _load(path)
    assert isinstance(result, Skipped) and "entities" in result.reason
    assert "root:" not in result.reason


def test_zip_bombs_are_bounded(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "bomb.docx", [("p", "Testo.")])
    rewrite_member(path, "word/media/zeros.bin", bytes(4 * 1024 * 1024))  # inflates over 1,000 times
    result = _load(path)
    assert isinstance(result, Skipped) and "zip bomb" in result.reason
    small = make_docx(tmp_path / "ok.docx", [("p", "Testo.")])
    members = len(zipfile.ZipFile(small).infolist())
    assert zipsafe.check(str(small), "doc", zipsafe.ZipLimits(members=members - 1)).startswith("zip with")
    assert "inflates to" in zipsafe.check(str(small), "doc", zipsafe.ZipLimits(member_bytes=100))
    assert "in all" in zipsafe.check(str(small), "doc", zipsafe.ZipLimits(total_bytes=1000))
    assert zipsafe.check(str(small), "doc") is None


def test_protected_and_broken_files_are_skipped_with_a_reason(tmp_path: Path) -> None:
    files = corpus(tmp_path / "docs")
    encrypted = tmp_path / "locked.docx"  # an encrypted OOXML file is an OLE container
    encrypted.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    odt = rewrite_member(files["odt"], "META-INF/manifest.xml",
                         b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
                         b'<manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data/>'
                         b'</manifest:file-entry></manifest:manifest>', tmp_path / "locked.odt")
    drm = rewrite_member(files["epub"], "META-INF/encryption.xml", b"<encryption/>", tmp_path / "drm.epub")
    flagged = tmp_path / "flagged.xlsx"  # zip encryption: bit 0 of each central directory entry's flags
    raw = bytearray(files["xlsx"].read_bytes())
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        raw[at + 8] |= 0x1
        at = raw.find(b"PK\x01\x02", at + 4)
    flagged.write_bytes(bytes(raw))
    truncated = tmp_path / "cut.pptx"
    truncated.write_bytes(files["pptx"].read_bytes()[:2000])
    not_a_book = rewrite_member(files["epub"], "META-INF/container.xml", b"<container/>", tmp_path / "nobook.epub")
    expect = {encrypted: "password-protected", odt: "password-protected", drm: "DRM", flagged: "password-protected",
              truncated: "broken", not_a_book: "broken"}
    for path, word in expect.items():
        result = _load(path)
        assert isinstance(result, Skipped) and word in result.reason, (path.name, result)


@pytest.mark.parametrize("kind", ["docx", "pptx", "xlsx", "odt", "epub"])
def test_fuzz_each_container_loader(tmp_path: Path, kind: str) -> None:
    """Real files with bytes flipped, cut or members garbled: always a Document or a Skipped with a reason."""
    original = corpus(tmp_path / "docs")[kind]
    data = original.read_bytes()
    with zipfile.ZipFile(original) as archive:
        names = [i.filename for i in archive.infolist()]

    @settings(max_examples=max(10, FUZZ // 8), deadline=None, suppress_health_check=list(HealthCheck))
    @given(flips=st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)), max_size=8),
           cut=st.integers(100, len(data)), member=st.sampled_from(names), garbage=st.binary(max_size=200))
    def run(flips: list[tuple[int, int]], cut: int, member: str, garbage: bytes) -> None:
        mutated = bytearray(data[:cut])
        for at, value in flips:
            if at < len(mutated):
                mutated[at] = value
        for body in (bytes(mutated), _garble(data, member, garbage)):
            path = tmp_path / f"fuzz.{kind}"
            path.write_bytes(body)
            result = load(Found(path=path, kind=kind, size=len(body), mtime=0.0))
            assert isinstance(result, Document | Skipped)
            if isinstance(result, Skipped):
                assert result.reason

    run()


def _garble(data: bytes, member: str, garbage: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            dst.writestr(info, body[: len(body) // 2] + garbage if info.filename == member else body)
    return out.getvalue()
