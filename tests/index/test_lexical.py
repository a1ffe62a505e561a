"""The lexical signals of the hybrid ranking, checked by hand: question words, file BM25, sentence match."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.builder import Builder
from index.embed import HashEmbedder
from index.lexical import FileIndex, LexicalIndex
from index.search import Searcher
from index.store import IndexStore
from index.text.chunking import ChunkSettings
from index.text.language import query_terms, terms


def test_question_words_leave_queries_but_not_documents() -> None:
    assert query_terms("Qual è stato il nome della nave? Cos' era?", {"it"}) == ["nom", "nav"]
    assert "stat" in terms("Lo stato è stato fondato", "it")  # documents keep them


def test_file_index_scores_every_chunk_by_its_file() -> None:
    chunks = [["gatt", "lat"], ["gatt", "cod"], ["cod", "pesc"], ["tren", "binar"]]
    files = FileIndex.build(chunks, [0, 0, 1, 1])
    scores = files.chunk_scores(query_terms("gatti e code", {"it"}))
    assert scores[0] == scores[1] == 1.0  # the file with both words is the best
    assert 0 < scores[2] == scores[3] < 1.0
    assert not files.chunk_scores(query_terms("aerei", {"it"})).any()


def test_sentence_match_is_the_best_single_sentence() -> None:
    index = LexicalIndex.build([terms(t, "it") for t in ("gatti neri", "cani bianchi", "gatti e cani", "treni")])
    q = query_terms("gatti neri con cani?", {"it"})
    one = "I gatti neri dormono. I cani abbaiano."
    assert 0 < index.sentence_match(q, one, "it") < 1  # no sentence holds all three words
    assert index.sentence_match(q, "I gatti neri e i cani giocano.", "it") == 1.0
    assert index.sentence_match(q, "Niente di tutto questo.", "it") == 0.0


def test_an_unknown_question_word_searches_for_the_nearest_indexed_spelling() -> None:
    texts = ("Gli ctenofori sono animali marini", "Il Plasmodium causa la malaria", "Nel 1941 la guerra",
             "I cani abbaiano")
    index = LexicalIndex.build([terms(t, "it") for t in texts])
    assert index.query("Quanti ctenohore marini?", {"it"}) == ["ctenofor", "marin"]  # one edit away
    assert index.query("Cos'è il Plasmodio?", {"it"}) == ["plasmodium"]  # the stem is a prefix
    assert index.query("La guerra del 1940?", {"it"}) == ["guerr"]  # 1940 is not 1941
    assert index.query("I cani?", {"it"}) == ["can"]  # known words are searched as they are
    assert index.query("Xylofono?", {"it"}) == []  # nothing near: nothing searched
    # An English question over Italian text: its missing words are not typos, "start" is not "stat".
    state = LexicalIndex.build([terms(t, "it") for t in ("Lo stato e la sua storia", "Il mare")])
    assert state.query("La storia del mare?", {"it"}) == ["stor", "mar"]
    assert state.query("What did they start this year?", {"it"}) == []
    assert state.query("Che cosa è lo start?", {"it"}) == ["stat"]
    scores = index.scores(index.query("ctenohore", {"it"}))
    assert scores.argmax() == 0 and scores[0] > 0


def test_hybrid_prefers_the_sentence_and_file_that_hold_the_question(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    # BM25 prefers b.txt, short and repeating the words; only a.txt has one sentence that holds the
    # whole question, and the hybrid ranks it first.
    (docs / "a.txt").write_text("La nave Vespucci partì da Genova. Poi il mare fu calmo e il cielo sereno.\n")
    (docs / "b.txt").write_text("Vespucci, Vespucci. Genova. La nave.\n")
    Builder(IndexStore(tmp_path / "idx"), HashEmbedder(), ChunkSettings(size=40, overlap=8)).build([str(docs)])
    searcher = Searcher(IndexStore(tmp_path / "idx").open(), HashEmbedder(), dense_weight=0.0)
    question = "Quale nave di Vespucci era a Genova?"
    assert searcher.search(question, k=2, mode="lexical")[0].chunk.path.endswith("b.txt")
    hits = searcher.search(question, k=2)
    assert hits[0].chunk.path.endswith("a.txt")
    assert hits[0].score > hits[1].score


def test_the_file_index_is_saved_with_the_generation_and_scores_as_if_built_at_query_time(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from index.store import IndexStore
    from rag.assistant import Assistant
    from rag.config.settings import Settings
    from tests.conftest import SEEDS

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text((SEEDS / "bytedance_huawei_coze.txt").read_text())
    (docs / "b.txt").write_text("Il chip Ascend 910B di Huawei. " * 50 + "\n\nCoze è una piattaforma di ByteDance.")
    assistant = Assistant(Settings(home=tmp_path / "home", embedder="hash"), embedder=HashEmbedder())
    assistant.build([str(docs)])
    generation = IndexStore(assistant.settings.index_root).open()
    saved = Searcher(generation, assistant.embedder).files
    assert (generation.folder / "files" / "file_of_chunk.npy").exists()
    rebuilt = FileIndex.build(generation.terms(), saved.file_of_chunk)
    for question in ("Quanti chip Ascend ha ordinato ByteDance?", "Che cos'è Coze?", "zzz"):
        terms = query_terms(question, {"it"})
        assert np.allclose(saved.chunk_scores(terms), rebuilt.chunk_scores(terms))
    assert saved.chunk_scores(query_terms("Coze piattaforma", {"it"})).max() == 1.0


def test_a_saved_index_scores_as_bm25s_does_without_importing_it(tmp_path: Path) -> None:
    """A question reads bm25s's files with NumPy (no bm25s, no SciPy at question time): same scores."""
    import bm25s

    texts = ["Il gatto nero dorme sul tetto.", "Il cane bianco abbaia al gatto.", "Treni e binari.", "",
             "Gatto, gatto e ancora gatto nel titolo del gatto."]
    lists = [terms(t, "it") for t in texts]
    LexicalIndex.build(lists).save(tmp_path)
    ours = LexicalIndex.load(tmp_path, len(lists))
    theirs = bm25s.BM25.load(str(tmp_path), allow_pickle=False)
    for question in (["gatt"], ["gatt", "can", "gatt"], ["tren", "nient"], []):
        known = [theirs.vocab_dict[t] for t in question if t in theirs.vocab_dict]
        expected = theirs.get_scores(known) if known else np.zeros(len(lists))
        assert np.array_equal(ours.scores(question), expected), question
    assert ours.idf("gatt") > 0 and ours.idf("nient") == 0.0


@pytest.mark.slow  # starts a process
def test_a_question_imports_neither_bm25s_nor_scipy(tmp_path: Path) -> None:
    import subprocess
    import sys

    LexicalIndex.build([terms("Il gatto nero dorme.", "it"), terms("Treni e binari.", "it")]).save(tmp_path)
    probe = ("import sys; from index.lexical import LexicalIndex; from pathlib import Path; "
             f"i = LexicalIndex.load(Path({str(tmp_path)!r}), 2); assert i.scores(['gatt'])[0] > 0; "
             "import index.text.language; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('bm25s', 'scipy')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr
