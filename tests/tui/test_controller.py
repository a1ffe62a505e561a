"""The chat's controller alone, without Textual: answering as Markdown fragments, cancelling, switching
engines and bots (the embedder shared, the flags kept, a failed switch changing nothing) and indexing.
The fake embedder and the fake engine; the seeds index from `fake_home`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from index.embed import HashEmbedder
from rag.assistant import Assistant
from rag.config.bots import BotProfile, BotStore
from rag.config.settings import Settings
from rag.engines.fake import FakeEngine
from rag.errors import ConfigError, EngineError, IndexMissingError
from tests.conftest import ROOT, SEEDS
from tui.controller import Controller

ORDERED = "Quante unità di chip ha ordinato ByteDance?"
LIGHTHOUSE = "# The lighthouse\n\nThe Capo Nord lighthouse is 42 metres tall and was built in 1901.\n"


def _controller(home: Path, **overrides: object) -> Controller:
    settings = Settings.load(home=home, **overrides)  # type: ignore[arg-type]
    return Controller(Assistant(settings, embedder=HashEmbedder()), {"home": home, **overrides})


def _imports(module: str) -> set[str]:
    """The modules that `module` (one of tui's) imports, following its imports inside tui."""
    seen, todo, out = set(), [module], set()
    while todo:
        name = todo.pop()
        seen.add(name)
        for node in ast.walk(ast.parse((ROOT / (name.replace(".", "/") + ".py")).read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            out.update(names)
            todo += [n for n in names if n.startswith("tui.") and n not in seen]
    return out


def test_it_knows_no_textual() -> None:
    imported = _imports("tui.controller")
    assert "tui.format" in imported and "rag.assistant" in imported  # the walk follows tui's imports
    assert not {m for m in imported if m.split(".")[0] in ("textual", "index")}


def test_an_extractive_answer_comes_as_one_fragment_per_sentence_and_is_a_turn(fake_home: Path) -> None:
    controller = _controller(fake_home)
    controller.warm()
    shown: list[str] = []
    answer = controller.answer(ORDERED, shown.append)
    assert answer is not None and not answer.abstained and len(shown) == len(answer.sentences) >= 1
    # The first sentence, escaped for Markdown, with its citation as a link to source 1.
    assert shown[0].startswith("ByteDance ha ordinato 100.000") and shown[0].endswith("(cite:1)")
    assert [t.question for t in controller.session.turns] == [ORDERED]
    controller.reset()
    assert controller.session.turns == []


def test_a_cancelled_answer_is_dropped_mid_stream_and_not_recorded(fake_home: Path) -> None:
    controller = _controller(fake_home, engine="fake")
    shown: list[str] = []
    answer = controller.answer(ORDERED, shown.append, cancelled=lambda: len(shown) == 2)
    assert answer is None and len(shown) == 2 and controller.session.turns == []
    assert controller.answer(ORDERED, shown.append, cancelled=lambda: True) is None  # before it starts


def test_a_generated_answer_streams_escaped_pieces(fake_home: Path) -> None:
    controller = _controller(fake_home, engine="fake")
    controller.assistant.engine = FakeEngine(reply="ByteDance ordered *100.000* chips [1].")
    shown: list[str] = []
    answer = controller.answer(ORDERED, shown.append)
    assert answer is not None and answer.engine == "fake"
    assert "".join(shown) == "ByteDance ordered \\*100\\.000\\* chips \\[1\\]\\."  # as written, never markup


def test_an_engine_switch_keeps_the_embedder_and_the_conversation(fake_home: Path, tmp_path: Path) -> None:
    controller = _controller(fake_home, llm_model=str(tmp_path / "missing.gguf"))
    controller.answer(ORDERED, lambda fragment: None)
    embedder, session = controller.assistant.embedder, controller.session
    assert controller.label == "extractive"
    with pytest.raises(EngineError, match="missing.gguf"):
        controller.switch_engine("local")  # cannot be made: nothing changes
    assert controller.engine == "extractive" and controller.assistant.embedder is embedder
    controller.switch_engine("fake")
    assert controller.engine == "fake" and controller.label == "fake (fake-quoter)"
    assert controller.assistant.embedder is embedder and controller.session is session
    answer = controller.answer("e Coze?", lambda fragment: None)
    assert answer is not None and answer.engine == "fake" and len(controller.session.turns) == 2


def test_a_bot_switch_keeps_the_flags_and_indexes_that_bots_sources(fake_home: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lighthouse.md").write_text(LIGHTHOUSE, encoding="utf-8")
    store = BotStore(fake_home, SEEDS)
    store.save(BotProfile(name="notes", sources=[str(docs)]))
    store.path("broken").write_text('name = "broken"\ntop_k = "many"\n', encoding="utf-8")
    controller = _controller(fake_home, mode="lexical")
    embedder = controller.assistant.embedder
    controller.answer(ORDERED, lambda fragment: None)
    held = controller.summary()
    assert held is not None and held.files == 1 and held.chunks == 3

    with pytest.raises(ConfigError, match="top_k must be int"):
        controller.switch_bot("broken")
    assert controller.settings.bot == "default" and len(controller.session.turns) == 1

    controller.switch_bot("notes")
    assert controller.settings.bot == "notes" and controller.settings.mode == "lexical"  # the flag is kept
    assert controller.assistant.embedder is embedder and controller.session.turns == []  # a new conversation
    assert controller.summary() is None and controller.sources() == [str(docs)]
    with pytest.raises(IndexMissingError):
        controller.warm()
    report = controller.build(controller.sources())
    assert report.files_indexed == 1 and (fake_home / "indexes/notes").is_dir()
    held = controller.summary()
    assert held is not None and held.sources == (str(docs),) and [d.path for d in held.documents] == [
        str(docs / "lighthouse.md")]
    answer = controller.answer("How tall is the Capo Nord lighthouse?", lambda fragment: None)
    assert answer is not None and "42 metres" in answer.text

    (docs / "keeper.md").write_text("# The keeper\n\nThe keeper is Marta Rossi.\n", encoding="utf-8")
    report = controller.update()  # the new file embedded, the other one reused
    assert (report.files_indexed, report.files_reused) == (2, 1)
    controller.build([str(docs / "lighthouse.md")])
    report = controller.rebuild()  # from what the index records (one file), not the bot's sources (the folder)
    assert report.files_indexed == 1
    held = controller.summary()
    assert held is not None and held.sources == (str(docs / "lighthouse.md"),)
