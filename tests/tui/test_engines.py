"""The chat on the real engine layer (`rag.engines`): generated answers stream in and are then checked
sentence by sentence, follow-ups share the conversation, engines switch from the palette, and an
engine error is a notification. The `fake` engine quotes passage [1]; the embedder is the fake one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from textual.command import CommandList, CommandPalette

from index.embed import HashEmbedder
from rag.answerers.verify import SUPPORTED, UNSUPPORTED
from rag.config.settings import Settings
from rag.engines import ENGINES
from rag.engines.base import Message, StreamCutError
from rag.engines.fake import FakeEngine
from tests.tui.conftest import DownEngine, GatedEngine, drive, notes, use_engine, wait_until
from tui.app import make_app
from tui.widgets.conversation import AnswerView
from tui.widgets.sources import SUPPORT_MARKS, SourcesPane

ORDERED = "Quante unità di chip ha ordinato ByteDance?"


class CutEngine(FakeEngine):
    """Says its `reply`, then the connection drops before the answer is finished."""

    def stream(self, messages: list[Message], max_tokens: int = 512) -> Iterator[str]:
        yield from super().stream(messages, max_tokens)
        raise StreamCutError("the answer stream from http://127.0.0.1:9/v1 was cut (RemoteProtocolError)")


def _meta(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.query_one("#passage-meta").content)


@drive
async def test_a_generated_answer_streams_then_shows_its_checked_support(fake_app) -> None:  # type: ignore[no-untyped-def]
    engine = GatedEngine()
    app = fake_app(engine="fake")
    use_engine(app, engine)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.ready)
        assert "· engine fake (fake-quoter) · model " in app.status_line
        await pilot.press(*ORDERED, "enter")
        view = app.query_one(AnswerView)
        await wait_until(pilot, lambda: view.markdown.source)
        streamed = view.markdown.source  # the first word only: the engine waits at the gate
        assert view.state == "answering" and view.answer is None and len(streamed.split()) == 1
        engine.gate.set()
        await wait_until(pilot, lambda: view.answer is not None)
        answer = view.answer
        assert answer is not None and (answer.engine, answer.model, answer.incomplete) == ("fake", "fake-quoter", False)
        assert [s.support for s in answer.sentences] == [SUPPORTED] and answer.support == "1 of 1 sentence supported"
        # The streamed text was replaced by the checked answer, its [1] now a link to the source.
        assert view.markdown.source.startswith(streamed.rstrip()) and view.markdown.source.endswith("(cite:1)")
        assert str(view.note.content).startswith("fake (fake-quoter) · 1 of 1 sentence supported · 1 source ·")
        assert app.query_one(SourcesPane).selected == 1
        assert f"\n{SUPPORT_MARKS[SUPPORTED]} {SUPPORTED}: " in _meta(app)
        assert app.state == "ready" and app.controller.session.turns[0].question == ORDERED


@drive
async def test_an_invented_and_cut_answer_is_marked_unsupported_and_incomplete(fake_app) -> None:  # type: ignore[no-untyped-def]
    app = fake_app(engine="fake")
    use_engine(app, CutEngine(reply="ByteDance ordered 999 *chips* from <b>Huawei</b> [1]. Coze wins the race."))
    async with app.run_test(size=(120, 36)) as pilot:
        view = app.ask(ORDERED)
        await wait_until(pilot, lambda: view.answer is not None)
        answer = view.answer
        assert answer is not None and answer.incomplete and answer.support == "0 of 2 sentences supported"
        assert [s.support for s in answer.sentences] == [UNSUPPORTED, UNSUPPORTED]
        # no sentence supported: an abstention (issue 17); the streamed invention is replaced by the refusal
        assert answer.abstained and "999" not in view.markdown.source and "do not answer" in view.markdown.source
        assert view.has_class("-incomplete")
        assert str(view.note.content).startswith("incomplete: the stream was cut · no answer in the documents")
        meta = _meta(app)
        mark = SUPPORT_MARKS[UNSUPPORTED]
        assert f"\n{mark} {UNSUPPORTED}: ByteDance ordered 999" in meta


@drive
async def test_follow_up_questions_share_the_conversation_until_a_new_one(fake_app) -> None:  # type: ignore[no-untyped-def]
    app = fake_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*ORDERED, "enter")
        await wait_until(pilot, lambda: app.last_answer() is not None)
        await pilot.press(*"e Coze?", "enter")
        await wait_until(pilot, lambda: len(app.controller.session.turns) == 2)
        assert app.controller.session.turns[1].standalone == f"{ORDERED} e Coze?"  # searched with the first
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: not app.query(AnswerView))
        assert app.controller.session.turns == []


@drive
async def test_the_palette_offers_every_engine_and_switches_keeping_the_embedder(fake_app) -> None:  # type: ignore[no-untyped-def]
    app = fake_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.ready)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert [t for t in titles if t.startswith("Engine: ")] == [f"Engine: {name}" for name in ENGINES]
        assert "· engine extractive · model " in app.status_line
        embedder, session = app.assistant.embedder, app.controller.session
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Engine: fake")
        await wait_until(pilot, lambda: app.screen.query_one(CommandList).option_count > 0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.controller.engine == "fake" and app.state == "ready")
        assert "· engine fake (fake-quoter) · model " in app.status_line
        assert app.assistant is app.controller.assistant and app.assistant.settings.engine == "fake"
        assert app.assistant.embedder is embedder and app.controller.session is session
        view = app.ask(ORDERED)
        await wait_until(pilot, lambda: view.answer is not None)
        assert view.answer is not None and view.answer.engine == "fake" and view.answer.support


@drive
async def test_an_engine_that_cannot_be_made_is_a_notification(fake_home: Path, tmp_path: Path) -> None:
    settings = Settings(home=fake_home, llm_model=str(tmp_path / "missing.gguf"))
    app = make_app(settings, embedder=HashEmbedder(), export_dir=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.ready)
        app.switch_engine("local")
        await wait_until(pilot, lambda: any("Cannot switch to the local engine" in n for n in notes(app)))
        assert any("missing.gguf: no such GGUF file" in n for n in notes(app))
        assert app.is_running and app.controller.engine == "extractive" and app.state == "ready"
        assert "· engine extractive ·" in app.status_line
        view = app.ask(ORDERED)  # still answering, with the engine it had
        await wait_until(pilot, lambda: view.answer is not None)


@drive
async def test_an_engine_error_while_answering_is_a_notification(fake_app) -> None:  # type: ignore[no-untyped-def]
    app = fake_app(engine="fake")
    engine = DownEngine()
    use_engine(app, engine)
    async with app.run_test(size=(120, 36)) as pilot:
        view = app.ask(ORDERED)
        await wait_until(pilot, lambda: view.state == "failed")
        assert f"error: Cannot answer: {DownEngine.MESSAGE}" in notes(app)
        assert app.is_running and "no answer: cannot reach" in str(view.note.content)
        engine.up = True  # the server is back
        view = app.ask(ORDERED)
        await wait_until(pilot, lambda: view.answer is not None)
