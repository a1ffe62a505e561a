"""Build and update with the fast fake embedder: what gets embedded, what is kept, what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.builder import Builder
from index.embed import HashEmbedder
from index.errors import Fix, IndexMismatchError, SourceError
from index.search import Searcher
from index.store import IndexStore
from index.text.chunking import ChunkSettings

TOPICS = ["gatti", "cani", "treni", "navi", "fiori", "monti", "fiumi", "libri", "stelle", "pane"]


def make_corpus(root: Path) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    files = []
    for i, topic in enumerate(TOPICS):
        path = root / f"doc{i}.md"
        body = "\n\n".join(f"Paragrafo {j} sui {topic}: i {topic} sono importanti per la storia numero {i}{j}."
                           for j in range(12))
        path.write_text(f"# {topic.title()}\n\n{body}\n", encoding="utf-8")
        files.append(path)
    return files


def _builder(root: Path, embedder: HashEmbedder, size: int = 40) -> Builder:
    return Builder(IndexStore(root), embedder, ChunkSettings(size=size, overlap=8))


def test_update_embeds_only_the_changed_file(tmp_path: Path) -> None:
    files = make_corpus(tmp_path / "docs")
    embedder = HashEmbedder()
    first = _builder(tmp_path / "idx", embedder).build([str(tmp_path / "docs")])
    # every chunk is embedded once, plus the probe sentence that fingerprints the model
    assert first.files_indexed == 10 and first.chunks_embedded == first.chunks == embedder.calls - 1

    files[3].write_text("# Treni\n\nUn solo paragrafo nuovo sui treni veloci.\n", encoding="utf-8")
    embedder.calls = 0
    report = _builder(tmp_path / "idx", embedder).update()
    generation = IndexStore(tmp_path / "idx").open()
    changed = generation.chunk_ids_for(str(files[3]))
    assert report.files_reused == 9
    assert embedder.calls - 1 == report.chunks_embedded == len(changed) == 1
    assert report.chunks == generation.meta.n_chunks

    # unchanged files keep identical vectors; the index equals a fresh build of the same files
    fresh = _builder(tmp_path / "fresh", HashEmbedder()).build([str(tmp_path / "docs")])
    assert fresh.chunks == report.chunks
    fresh_gen = IndexStore(tmp_path / "fresh").open()
    assert [c.text for c in fresh_gen.chunks(list(range(fresh.chunks)))] == \
           [c.text for c in generation.chunks(list(range(report.chunks)))]
    assert (fresh_gen.vectors() == generation.vectors()).all()


def test_update_reads_only_files_whose_size_or_time_moved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import index.builder

    files = make_corpus(tmp_path / "docs")
    for path in files:  # written a minute ago: a file changed within seconds of a build is read anyway
        os.utime(path, (path.stat().st_atime - 60, path.stat().st_mtime - 60))
    _builder(tmp_path / "idx", HashEmbedder()).build([str(tmp_path / "docs")])
    read: list[str] = []
    real_load = index.builder.load
    monkeypatch.setattr(index.builder, "load", lambda item: read.append(item.name) or real_load(item))

    report = _builder(tmp_path / "idx", HashEmbedder()).update()
    assert read == [] and report.files_reused == 10 and report.chunks_embedded == 0

    os.utime(files[1])  # touched: read, same hash, reused
    same_size = files[2].read_text(encoding="utf-8").replace("treni", "TRENI")  # edited, same size
    files[2].write_text(same_size, encoding="utf-8")
    report = _builder(tmp_path / "idx", HashEmbedder()).update()
    assert sorted(read) == sorted([str(files[1]), str(files[2])])
    assert report.files_reused == 9 and report.chunks_embedded > 0
    generation = IndexStore(tmp_path / "idx").open()
    assert "TRENI" in generation.chunks(generation.chunk_ids_for(str(files[2])))[0].text
    assert generation.file(str(files[1])).mtime == files[1].stat().st_mtime  # the new time is recorded

    read.clear()
    _builder(tmp_path / "idx", HashEmbedder()).update()
    assert sorted(read) == sorted([str(files[1]), str(files[2])])  # too close to the last build: read again


def test_update_drops_deleted_files(tmp_path: Path) -> None:
    files = make_corpus(tmp_path / "docs")
    _builder(tmp_path / "idx", HashEmbedder()).build([str(tmp_path / "docs")])
    files[0].unlink()
    report = _builder(tmp_path / "idx", HashEmbedder()).update()
    assert report.files_removed == 1 and report.chunks_embedded == 0
    paths = {f.path for f in IndexStore(tmp_path / "idx").open().files()}
    assert str(files[0]) not in paths and len(paths) == 9


def test_failed_build_keeps_the_previous_index(tmp_path: Path) -> None:
    make_corpus(tmp_path / "docs")
    _builder(tmp_path / "idx", HashEmbedder()).build([str(tmp_path / "docs")])
    before = IndexStore(tmp_path / "idx").open().meta
    with pytest.raises(SourceError):
        _builder(tmp_path / "idx", HashEmbedder()).build([str(tmp_path / "missing")])
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "blank.txt").write_text("   \n")
    with pytest.raises(SourceError, match="left unchanged"):
        _builder(tmp_path / "idx", HashEmbedder()).build([str(tmp_path / "empty")])
    after = IndexStore(tmp_path / "idx").open().meta
    assert after == before


def test_other_model_or_settings_are_refused(tmp_path: Path) -> None:
    make_corpus(tmp_path / "docs")
    _builder(tmp_path / "idx", HashEmbedder()).build([str(tmp_path / "docs")])
    generation = IndexStore(tmp_path / "idx").open()
    with pytest.raises(IndexMismatchError, match="built with model hash-64 .64 dims. but hash-other") as refused:
        Searcher(generation, HashEmbedder(model="hash-other"))
    assert refused.value.fix is Fix.REBUILD  # the edge words it: a command in the CLI, a key in the chat
    with pytest.raises(IndexMismatchError, match="but hash-64 .32 dims."):
        Searcher(generation, HashEmbedder(dim=32))
    with pytest.raises(IndexMismatchError, match="built with chunk_size 40 but 60"):
        _builder(tmp_path / "idx", HashEmbedder(), size=60).update()


def test_hybrid_search_finds_exact_tokens(tmp_path: Path) -> None:
    make_corpus(tmp_path / "docs")
    (tmp_path / "docs" / "chip.txt").write_text("Il chip Ascend 910B di Huawei, secondo Reuters.\n")
    _builder(tmp_path / "idx", HashEmbedder()).build([str(tmp_path / "docs")])
    searcher = Searcher(IndexStore(tmp_path / "idx").open(), HashEmbedder())
    for query in ("910B", "reuters", "Quale chip vende Huawei?"):
        hits = searcher.search(query, k=3)
        assert hits[0].chunk.path.endswith("chip.txt"), query
        assert hits[0].lexical_rank == 1
    only_dense = searcher.search("910B", k=3, mode="dense")
    assert all(h.lexical_rank is None for h in only_dense)
