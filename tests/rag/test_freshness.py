"""Answers say when a cited file changed or was deleted after indexing; a touch alone is not a change;
a quote's page is the page of the quoted sentence, not of its passage's start."""

from __future__ import annotations

import json
import os
from pathlib import Path

from index.embed import HashEmbedder
from index.records import Chunk, Hit
from index.store.meta import FileRecord
from rag.answer import Answer, AnswerSentence, Citation
from rag.assistant import Assistant
from rag.config.settings import Settings
from rag.freshness import CHANGED, CURRENT, DELETED, settle, state_of
from rag.present.render import answer_text

FACT = "Il faro di Genova si chiama Lanterna ed è alto settantasette metri sul livello del mare.\n"


def _ask(assistant: Assistant) -> Answer:
    answer = assistant.ask("Come si chiama il faro di Genova?")
    assert answer.citations and answer.citations[0].hit.chunk.path.endswith("faro.txt")
    return answer


def test_a_cited_file_that_moved_on_is_marked(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    faro = docs / "faro.txt"
    faro.write_text(FACT, encoding="utf-8")
    (docs / "altro.txt").write_text("La torre di Pisa pende di quasi quattro gradi verso sud.\n", encoding="utf-8")
    assistant = Assistant(Settings(home=tmp_path / "home", embedder="hash", min_confidence=0.0),
                          embedder=HashEmbedder())
    assistant.build([str(docs)])
    fresh = _ask(assistant)
    assert fresh.citations[0].source_state == CURRENT
    assert fresh.to_json()["citations"][0]["source_state"] == "current"
    assert "(changed since indexed)" not in answer_text(fresh)

    stat = faro.stat()
    os.utime(faro, (stat.st_atime, stat.st_mtime + 50))  # touched, same bytes: hashed, still current
    assert _ask(assistant).citations[0].source_state == CURRENT

    faro.write_text(FACT.replace("settantasette", "settantotto"), encoding="utf-8")  # same size, new bytes
    changed = _ask(assistant)
    assert changed.citations[0].source_state == CHANGED
    data = json.loads(json.dumps(changed.to_json()))
    assert data["citations"][0]["source_state"] == "changed since indexed"
    assert "[1] docs/faro.txt:1  (changed since indexed)" in answer_text(changed)  # shown from its source's folder
    assert changed.citations[0].shown == "docs/faro.txt"

    faro.unlink()
    gone = _ask(assistant)
    assert gone.citations[0].source_state == DELETED and "(deleted)" in answer_text(gone)


def test_size_first_then_hash(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("uno due tre")
    st = path.stat()
    record = FileRecord(str(path), "not-the-hash", st.st_size, st.st_mtime, "txt", "it", 1)
    assert state_of(str(path), record) == CURRENT  # size and time equal: never hashed (the hash is wrong)
    path.write_text("uno due tre quattro")
    assert state_of(str(path), record) == CHANGED  # size differs: no hash needed either
    assert state_of("relative/missing.txt", record) == CURRENT  # an old relative path: cannot tell
    assert state_of(str(tmp_path / "missing.txt"), record) == DELETED


def test_the_page_of_a_quote_is_the_page_of_its_sentence() -> None:
    text = "Pagina uno parla di gatti domestici.\n\n\fPagina due parla del chip Ascend 910B."
    chunk = Chunk(path="/x/r.pdf", start=0, end=len(text), line_start=1, line_end=3, heading="", text=text,
                  page=1)
    quote = text.index("Pagina due")
    answer = Answer(question="q", text="Pagina due parla del chip Ascend 910B.",
                    sentences=(AnswerSentence("Pagina due parla del chip Ascend 910B.", (1,),
                                              char_span=(quote, len(text))),),
                    citations=(Citation(1, Hit(chunk, 1.0)),), abstained=False, confidence=1.0)
    settled = settle(answer, None)
    assert settled.citations[0].hit.chunk.page == 2 and settled.citations[0].hit.chunk.location == "/x/r.pdf:p2"
    assert settled.to_json()["citations"][0]["page"] == 2
    assert settle(answer.__class__(**{**answer.__dict__, "sentences": ()}), None).citations[0].hit.chunk.page == 1
