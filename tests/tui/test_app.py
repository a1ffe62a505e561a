"""The real app, driven with Pilot, on the seeds indexed with the fake embedder (fast tier)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Markdown, OptionList

from rag.config.settings import Settings
from rag.prompts import REFUSAL
from tests.tui.conftest import GatedEngine, drive, notes, use_engine, wait_until
from tui.app import make_app
from tui.screens.retrieved import RetrievedScreen
from tui.widgets.conversation import AnswerView
from tui.widgets.prompt import PromptInput
from tui.widgets.sources import SourcesPane
from tui.widgets.welcome import Welcome

ORDERED = "Quante unità di chip ha ordinato ByteDance?"


@drive
async def test_ask_streams_an_answer_with_its_citation_and_passage(fake_app) -> None:  # type: ignore[no-untyped-def]
    app = fake_app()
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.query_one(Welcome).held is not None and "3 passages in 1 file ·" in app.status_line
        await wait_until(pilot, lambda: app.ready)
        await pilot.press(*ORDERED, "enter")
        await wait_until(pilot, lambda: app.last_answer() is not None)
        view = app.query_one(AnswerView)
        assert "100.000" in view.markdown.source and "(cite:1)" in view.markdown.source
        sources = app.query_one(SourcesPane)
        assert sources.selected == 1 and "Ascend 910B" in sources.passage_text()
        highlighted = [sources.passage_text()[a:b] for a, b in sources.passage_spans()]
        assert any(h.startswith("ByteDance ha ordinato 100.000") for h in highlighted)
        assert app.query_one(PromptInput).text == "" and app.focused is app.query_one(PromptInput)


@drive
async def test_citations_are_selectable_by_link_and_by_keyboard(fake_app) -> None:  # type: ignore[no-untyped-def]
    app = fake_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*"Quanto costa un biglietto del treno per Milano?", "enter")  # abstains: 3 nearest passages
        await wait_until(pilot, lambda: app.last_answer() is not None)
        answer = app.last_answer()
        assert answer is not None and answer.abstained and REFUSAL in app.query_one(AnswerView).markdown.source
        sources = app.query_one(SourcesPane)
        markdown = app.query_one(AnswerView).markdown
        markdown.post_message(Markdown.LinkClicked(markdown, "cite:3"))
        await wait_until(pilot, lambda: sources.selected == 3)
        assert answer.citations[2].hit.chunk.text.split()[0] in sources.passage_text()
        app.query_one("#citations", OptionList).focus()
        await pilot.press("up")
        await wait_until(pilot, lambda: sources.selected == 2)
        assert "nearest passage" in str(app.query_one("#passage-meta").content)


@drive
async def test_escape_cancels_a_running_answer_and_typing_goes_on(fake_app) -> None:  # type: ignore[no-untyped-def]
    engine = GatedEngine()
    app = fake_app(engine="fake")
    use_engine(app, engine)
    async with app.run_test() as pilot:
        await pilot.press(*"first?", "enter")
        view = app.query_one(AnswerView)
        await wait_until(pilot, lambda: view.markdown.source)  # the first word streamed in
        streamed = view.markdown.source
        await pilot.press(*"still typing")  # the input is never blocked by an answer
        assert app.query_one(PromptInput).text == "still typing"
        await pilot.press("escape")
        assert view.state == "cancelled" and "cancelled" in str(view.note.content)
        engine.gate.set()
        await wait_until(pilot, engine.finished.is_set)
        assert engine.pieces == 2  # the stream was dropped at the next piece, not read to its end
        await pilot.pause(0.1)
        assert view.markdown.source == streamed and view.answer is None
        assert app.state == "ready" and app.controller.session.turns == []


@drive
async def test_export_copy_retrieved_and_new_conversation(fake_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = fake_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*ORDERED, "enter")
        await wait_until(pilot, lambda: app.last_answer() is not None)
        await pilot.press("ctrl+s")
        exported = list(tmp_path.glob("rag-chat-*.md"))
        assert len(exported) == 1
        text = exported[0].read_text(encoding="utf-8")
        assert f"## {ORDERED}" in text and "circa 30.000. \\[1\\]" in text
        assert "- \\[1\\] seeds/bytedance\\_huawei\\_coze.txt:" in text and "> La transizione" in text
        await pilot.press("ctrl+o")
        assert app.clipboard.startswith("ByteDance ha ordinato") and "Sources:" in app.clipboard
        await pilot.press("ctrl+r")
        assert isinstance(app.screen, RetrievedScreen) and "cited as [1]" in _text(app.screen)
        await pilot.press("escape")
        assert not isinstance(app.screen, RetrievedScreen)
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: not app.query(AnswerView) and app.query(Welcome))
        assert app.query_one(SourcesPane).answer is None


@drive
async def test_up_and_down_recall_questions(fake_app) -> None:  # type: ignore[no-untyped-def]
    app = fake_app()
    async with app.run_test() as pilot:
        await pilot.press(*"one?", "enter", *"two", "ctrl+j", *"lines?", "enter")
        prompt = app.query_one(PromptInput)
        await pilot.press("up")
        assert prompt.text == "two\nlines?"
        await pilot.press("home", "up", "up")  # up inside the text moves the cursor first
        assert prompt.text == "one?"
        await pilot.press("down", "down")
        assert prompt.text == ""


@drive
async def test_missing_index_offers_a_build_and_errors_are_notifications(tmp_path: Path) -> None:
    from index.embed import HashEmbedder

    app = make_app(Settings(home=tmp_path / "empty"), embedder=HashEmbedder(), export_dir=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.state == "no index" and app.query_one("#build-sources")
        await pilot.press(*"any [question]?", "enter")
        view = app.query_one(AnswerView)
        await wait_until(pilot, lambda: view.state == "failed")
        assert any("no index" in n for n in notes(app)) and app.is_running
        await wait_until(pilot, lambda: app.query_one("#build-sources").region.width)  # laid out, clickable
        await pilot.click("#build-sources")
        await wait_until(pilot, lambda: app.ready)
        assert app.held is not None and app.held.chunks == 3
        assert app.last_report is not None and app.last_report.files_indexed == 1
        assert app.query_one(Welcome).held is not None and app.focused is app.query_one(PromptInput)


def _text(screen) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(str(w.content) for w in screen.query("Static"))


@drive
async def test_command_palette_runs_the_chat_commands(fake_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from textual.command import CommandList, CommandPalette

    app = fake_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*ORDERED, "enter")
        await wait_until(pilot, lambda: app.last_answer() is not None)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Export conversation")
        # The palette searches its providers in the background; wait for a match to be listed.
        await wait_until(pilot, lambda: app.screen.query_one(CommandList).option_count > 0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: list(tmp_path.glob("rag-chat-*.md")))
        assert not isinstance(app.screen, CommandPalette)
