"""Discovery and loading: every kind of bad file is skipped with its reason, and the rest indexed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from index.errors import SourceError
from index.ingest.loaders import load
from index.ingest.sources import discover
from index.records import Document, Skipped

GOOD = "Il gatto dorme sul divano. La casa è silenziosa e calda.\n"


def make_bad_corpus(root: Path) -> dict[str, str]:
    """A folder with one good file and one of every kind of file a build must skip; returns name -> reason."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "good.txt").write_text(GOOD, encoding="utf-8")
    (root / "binary.txt").write_bytes(b"abc\x00def")
    (root / "empty.md").write_bytes(b"")
    (root / "latin1.txt").write_bytes("perché così".encode("latin-1"))
    (root / "big.txt").write_text("x" * 3000)
    (root / "image.png").write_bytes(b"\x89PNG")
    os.mkfifo(root / "pipe.txt")
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "dangling.txt").symlink_to(root / "missing.txt")
    hidden = root / ".git"
    hidden.mkdir()
    (hidden / "config.txt").write_text(GOOD)
    return {
        "binary.txt": "binary", "empty.md": "empty", "latin1.txt": "UTF-8", "big.txt": "size limit",
        "image.png": "unsupported", "pipe.txt": "FIFO", "dangling.txt": "broken symlink", "loop": "symlink loop",
    }


def test_bad_files_are_skipped_with_reasons(tmp_path: Path) -> None:
    expected = make_bad_corpus(tmp_path / "docs")
    found, skipped = discover([str(tmp_path / "docs")], max_bytes=2000)
    docs, more = [], []
    for item in found:
        result = load(item)
        (docs if isinstance(result, Document) else more).append(result)
    skipped += more
    assert [Path(d.path).name for d in docs] == ["good.txt"]
    reasons = {Path(s.path).name: s.reason for s in skipped}
    for name, word in expected.items():
        assert name in reasons, f"{name} not reported; got {reasons}"
        assert word.lower() in reasons[name].lower(), (name, reasons[name])
    assert not any(".git" in s.path for s in skipped), "hidden folders are skipped silently"


def test_missing_path_and_empty_glob_are_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        discover([str(tmp_path / "nope")])
    with pytest.raises(SourceError, match="no files match"):
        discover([str(tmp_path / "*.md")])


def test_globs_and_dedup(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.md").write_text("# One\n\nText here.\n")
    (tmp_path / "a" / "two.txt").write_text(GOOD)
    found, _ = discover([str(tmp_path / "**" / "*.md"), str(tmp_path / "a")])
    assert sorted(f.path.name for f in found) == ["one.md", "two.txt"]


def test_html_keeps_visible_text_only(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><head><title>T</title><style>p{}</style></head><body><h1>Titolo</h1>"
                    "<script>alert('x')</script><p>Il chip <b>910B</b> è veloce.</p></body></html>")
    found, _ = discover([str(page)])
    doc = load(found[0])
    assert isinstance(doc, Document)
    assert "alert" not in doc.text and "p{}" not in doc.text and "<" not in doc.text
    assert "910B" in doc.text and doc.headings and doc.headings[0][1] == "Titolo"


def test_markdown_headings_and_language(tmp_path: Path) -> None:
    md = tmp_path / "notes.md"
    md.write_text("# Chip\n\nByteDance ha ordinato i chip di Huawei per il suo modello.\n\n"
                  "## Coze\n\nCoze è una piattaforma che permette di creare chatbot.\n")
    doc = load(discover([str(md)])[0][0])
    assert isinstance(doc, Document)
    assert [h for _, h in doc.headings] == ["Chip", "Coze"]
    assert doc.lang == "it"


def test_undecodable_name_does_not_crash(tmp_path: Path) -> None:
    name = os.fsencode(tmp_path) + b"/caf\xe9.txt"
    with open(name, "wb") as fh:
        fh.write(GOOD.encode())
    found, skipped = discover([str(tmp_path)])
    assert len(found) == 1 and "\\xe9" in found[0].name
    assert not isinstance(load(found[0]), Skipped)


def test_relative_sources_are_stored_resolved_and_update_from_anywhere(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from index.builder import Builder
    from index.embed import HashEmbedder
    from index.store import IndexStore
    from index.text.chunking import ChunkSettings

    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (project / "docs").mkdir(parents=True)
    elsewhere.mkdir()
    (project / "docs" / "a.txt").write_text(GOOD)
    monkeypatch.chdir(project)
    found, _ = discover(["docs", "./docs/../docs/*.txt"])
    assert [str(f.path) for f in found] == [str(project / "docs" / "a.txt")]
    store = IndexStore(tmp_path / "idx")
    builder = Builder(store, HashEmbedder(), ChunkSettings(size=32, overlap=0))
    builder.build(["docs"])
    assert store.open().meta.sources == [str(project / "docs")]
    monkeypatch.chdir(elsewhere)
    (project / "docs" / "b.txt").write_text("Un secondo file, aggiunto dopo la prima costruzione.\n")
    report = builder.update()
    assert report.files_indexed == 2 and report.files_reused == 1
    assert {f.path for f in store.open().files()} == {str(project / "docs" / n) for n in ("a.txt", "b.txt")}


def test_a_path_is_shown_relative_to_the_folder_above_its_source() -> None:
    from index.ingest.sources import shown

    sources = ["/home/u/proj/docs", "/home/u/notes.md", "/srv/kb/**/*.md"]
    assert shown("/home/u/proj/docs/guide/a.md", sources) == "docs/guide/a.md"
    assert shown("/home/u/notes.md", sources) == "notes.md"
    assert shown("/srv/kb/x/y.md", sources) == "kb/x/y.md"
    assert shown("/elsewhere/z.md", sources) == ""
