"""The documents' word vectors: made at build time, reused by an update, read through a memory map."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from index.builder import Builder
from index.embed import HashEmbedder
from index.search import Searcher
from index.store import IndexStore
from index.text.chunking import ChunkSettings
from index.wordvectors import FOLDER, MAX_BYTES, WordVectors, vocabulary, write_table


class WordEncoder:
    """A stand-in for the multilingual encoder: a fixed random unit vector per word; counts what it embeds."""

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.embedded.extend(texts)
        rows = [np.random.default_rng(zlib.crc32(t.encode())).normal(size=16) for t in texts]
        return np.stack([r / np.linalg.norm(r) for r in rows]).astype(np.float32)


def test_vocabulary_keeps_content_words_that_fit() -> None:
    long_word = "x" * (MAX_BYTES + 1)
    vocab = vocabulary([("Il faro di Genova è alto 77 metri; il faro è del 1543. " + long_word, "it")])
    assert vocab == ["alto", "faro", "genova", "metri"]  # no stopword, number, 2-letter or over-long word


def test_a_table_reads_back_what_was_written_and_an_update_embeds_only_new_words(tmp_path: Path) -> None:
    encode = WordEncoder()
    assert write_table(tmp_path / "one", ["faro", "genova", "lanterna"], encode) == 3
    table = WordVectors(tmp_path / "one")
    got = table.vectors(["lanterna", "pisa", "faro"])
    assert got is not None and got.shape == (3, 16)
    want = encode(["lanterna", "faro"])
    assert np.allclose(got[[0, 2]], want, atol=0.02)  # signed bytes and a scale: close to the floats
    assert not got[1].any()  # a word not in the table: a zero row, which matches nothing

    encode.embedded.clear()
    assert write_table(tmp_path / "two", ["faro", "lanterna", "torre"], encode, reuse=tmp_path / "one") == 1
    assert encode.embedded == ["torre"]
    again = WordVectors(tmp_path / "two").vectors(["faro", "torre"])
    assert again is not None and np.array_equal(again[0], got[2])  # copied, not made again
    assert WordVectors(tmp_path / "none").vectors(["faro"]) is None  # an index without a table


def test_a_build_writes_the_table_and_an_update_embeds_only_the_new_words(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Il faro di Genova si chiama Lanterna.\n", encoding="utf-8")
    store, encode = IndexStore(tmp_path / "idx"), WordEncoder()
    builder = Builder(store, HashEmbedder(), ChunkSettings(size=40, overlap=8), word_encoder=encode)
    builder.build([str(docs)])
    assert sorted(encode.embedded) == ["chiama", "faro", "genova", "lanterna"]
    (docs / "b.txt").write_text("La torre di Pisa pende.\n", encoding="utf-8")
    encode.embedded.clear()
    builder.update()
    assert sorted(encode.embedded) == ["pende", "pisa", "torre"]
    generation = store.open()
    assert (generation.folder / FOLDER / "words.npy").is_file()
    vectors = Searcher(generation, HashEmbedder()).word_vectors(["faro", "pisa"])
    assert vectors is not None and np.allclose(vectors, encode(["faro", "pisa"]), atol=0.02)
    # Without an encoder there is no table, and the searcher says so.
    Builder(IndexStore(tmp_path / "plain"), HashEmbedder(), ChunkSettings(size=40, overlap=8)).build([str(docs)])
    assert Searcher(IndexStore(tmp_path / "plain").open(), HashEmbedder()).word_vectors(["faro"]) is None
    # An index made without a table gets the whole of one at its first update with the encoder.
    encode.embedded.clear()
    Builder(IndexStore(tmp_path / "plain"), HashEmbedder(), ChunkSettings(size=40, overlap=8),
            word_encoder=encode).update()
    assert sorted(encode.embedded) == ["chiama", "faro", "genova", "lanterna", "pende", "pisa", "torre"]
