"""The Assistant facade on the fake embedder: it follows the index as other processes rebuild it."""

from __future__ import annotations

from pathlib import Path

from index.embed import HashEmbedder
from rag.assistant import Assistant
from rag.config.settings import Settings


def test_a_new_generation_is_used_without_a_restart(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Il faro di Genova si chiama Lanterna ed è alto 77 metri.\n", encoding="utf-8")
    settings = Settings(home=tmp_path / "home", embedder="hash")
    reader = Assistant(settings, embedder=HashEmbedder())
    reader.build([str(docs)])
    assert reader.summary() is not None and reader.search("Lanterna", 1)[0].chunk.path.endswith("a.txt")
    first = reader.generation_changed_at()
    # Another process (here another Assistant on the same index) rebuilds with a new file.
    (docs / "b.txt").write_text("La torre di Pisa pende di quasi quattro gradi.\n", encoding="utf-8")
    Assistant(settings, embedder=HashEmbedder()).build([str(docs)])
    hit = reader.search("torre Pisa pende", 1)[0]  # the same reader, no restart
    assert hit.chunk.path.endswith("b.txt")
    assert reader.generation_changed_at() >= first and reader.searcher.generation.meta.n_files == 2


def test_a_question_in_another_language_is_reranked_by_the_multilingual_encoder(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Il faro di Genova si chiama Lanterna ed è alto 77 metri. La torre è del 1543.\n",
                                encoding="utf-8")
    (docs / "b.txt").write_text("La torre di Pisa pende di quasi quattro gradi ed è alta 56 metri.\n", encoding="utf-8")
    assistant = Assistant(Settings(home=tmp_path / "home", embedder="hash"), embedder=HashEmbedder())
    assistant.build([str(docs)])

    class Encoder(HashEmbedder):  # a stand-in for USE v3 that records what it is asked to compare
        seen: list[str] = []

        def embed(self, texts, progress=None):  # type: ignore[no-untyped-def]
            self.seen.extend(texts)
            return super().embed(texts, progress)

    encoder = Encoder(model="fake-multilingual")
    assistant.multilingual = encoder  # type: ignore[misc]
    assistant.ask("Quanto è alta la Lanterna di Genova?")  # asked in the documents' language
    assert encoder.seen == []
    answer = assistant.ask("How tall is the Lanterna lighthouse in Genoa?")
    assert encoder.seen[0] == "How tall is the Lanterna lighthouse in Genoa?"  # the question, then sentences
    assert "Il faro di Genova si chiama Lanterna ed è alto 77 metri." in encoder.seen
    assert answer.retrieved and all(h.score <= 1.0 + 0.3 + 1e-6 for h in answer.retrieved)  # re-rank scores


def test_the_word_table_is_made_only_with_the_encoder_switched_on_and_a_real_model(tmp_path: Path) -> None:
    """The documents' word vectors cost the multilingual encoder's load at build time: not for the hash
    fake (tests, demos), nor with `multilingual = false`."""
    fake = Assistant(Settings(home=tmp_path / "a", embedder="hash"), embedder=HashEmbedder())
    assert fake._word_encoder() is None
    assert Assistant(Settings(home=tmp_path / "b", multilingual=False))._word_encoder() is None
