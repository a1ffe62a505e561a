"""Bots in the chat: `rag --bot NAME chat`, switching bots from the palette (status bar, welcome,
answers from that bot's own documents) and the "New bot…" form. Fake embedder, temporary RAG home."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import OptionList

from index.embed import HashEmbedder
from rag.config.bots import BotProfile, BotStore
from rag.config.settings import Settings
from tests.conftest import SEEDS
from tests.tui.conftest import drive, notes, wait_until
from tui.app import ChatApp, make_app
from tui.screens.bot_form import NewBotScreen
from tui.widgets.conversation import AnswerView
from tui.widgets.welcome import Welcome

LIGHTHOUSE = ("# The lighthouse\n\nThe Capo Nord lighthouse is 42 metres tall and was built in 1901.\n\n"
              "# The keeper\n\nThe keeper of the lighthouse is Marta Rossi, who lives in the stone cottage.\n")
TALL = "How tall is the Capo Nord lighthouse?"
ORDERED = "Quante unità di chip ha ordinato ByteDance?"


def _docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "lighthouse.md").write_text(LIGHTHOUSE, encoding="utf-8")
    return folder


async def _palette(pilot: Pilot, app: ChatApp, command: str) -> None:
    """Run `command` from the command palette, as a user types it."""
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*command)
    # The palette searches its providers in the background; wait for the match to be listed first.
    await wait_until(pilot, lambda: app.screen.query_one(CommandList).option_count > 0
                     and str(app.screen.query_one(CommandList).get_option_at_index(0).prompt).startswith(command))
    await pilot.press("enter")
    await wait_until(pilot, lambda: not isinstance(app.screen, CommandPalette))


async def _ask(pilot: Pilot, app: ChatApp, question: str) -> AnswerView:
    view = app.ask(question)
    await wait_until(pilot, lambda: view.answer is not None)
    return view


def test_rag_bot_chat_opens_the_chat_on_that_bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.cli import cli
    from tui.command import chat

    home = tmp_path / "home"
    BotStore(home, SEEDS).save(BotProfile(name="notes", sources=[str(_docs(tmp_path))], top_k=3))
    made: list[ChatApp] = []

    def make(settings: Settings, overrides: dict[str, object]) -> ChatApp:
        app = make_app(settings, embedder=HashEmbedder(), overrides=overrides)
        app.run = lambda: None  # type: ignore[assignment,method-assign]  # built, not run
        made.append(app)
        return app

    monkeypatch.setattr("tui.app.make_app", make)
    cli.add_command(chat, "chat")
    result = CliRunner().invoke(cli, ["--home", str(home), "--bot", "notes", "chat", "--mode", "lexical"])
    assert result.exit_code == 0, result.output
    (app,) = made
    assert app.settings.bot == "notes" and app.settings.top_k == 3 and app.settings.index_root == home / "indexes/notes"
    assert app.controller.overrides["bot"] == "notes" and app.controller.overrides["mode"] == "lexical"


@drive
async def test_the_palette_switches_bots_and_each_answers_from_its_own_documents(
        fake_home: Path, tmp_path: Path) -> None:
    BotStore(fake_home, SEEDS).save(BotProfile(name="notes", sources=[str(_docs(tmp_path))],
                                               welcome="Ask me about the lighthouse.",
                                               suggested_questions=[TALL]))
    app = make_app(Settings(home=fake_home), embedder=HashEmbedder(), export_dir=tmp_path,
                   overrides={"mode": "lexical"})
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.ready)
        assert app.status_line.startswith("bot default ·")
        await _ask(pilot, app, ORDERED)

        await _palette(pilot, app, "Switch bot: notes")
        await wait_until(pilot, lambda: app.state == "no index")  # a new bot: the welcome offers a build
        assert app.status_line.startswith("bot notes ·") and app.settings.mode == "lexical"  # the flag is kept
        assert not app.query(AnswerView) and app.controller.session.turns == []  # a new conversation
        welcome = app.query_one(Welcome)
        assert welcome.profile is not None and "lighthouse" in str(app.query_one("#bot-welcome").content)
        await wait_until(pilot, lambda: app.query_one("#build-sources").region.width)
        await pilot.click("#build-sources")
        await wait_until(pilot, lambda: app.ready)
        assert app.held is not None and app.held.files == 1 and (fake_home / "indexes/notes").is_dir()
        suggested = app.query_one("#suggestions", OptionList)  # the profile's questions, not the headings
        assert [str(suggested.get_option_at_index(i).prompt) for i in range(suggested.option_count)] == [TALL]
        view = await _ask(pilot, app, TALL)
        assert view.answer is not None and not view.answer.abstained and "42 metres" in view.answer.text
        assert {c.hit.chunk.path for c in view.answer.citations} == {str(tmp_path / "docs/lighthouse.md")}

        await _palette(pilot, app, "Switch bot: default")
        await wait_until(pilot, lambda: app.ready and app.settings.bot == "default")
        assert app.status_line.startswith("bot default ·") and "3 passages in 1 file" in app.status_line
        view = await _ask(pilot, app, ORDERED)
        assert view.answer is not None and "100.000" in view.answer.text
        assert all(c.hit.chunk.path.endswith("bytedance_huawei_coze.txt") for c in view.answer.citations)


@drive
async def test_a_broken_profile_is_a_notification_and_the_chat_stays(fake_home: Path, tmp_path: Path) -> None:
    store = BotStore(fake_home, SEEDS)
    store.folder.mkdir(parents=True, exist_ok=True)
    store.path("broken").write_text('name = "broken"\ntop_k = "many"\n', encoding="utf-8")
    app = make_app(Settings(home=fake_home), embedder=HashEmbedder(), export_dir=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.ready)
        app.switch_bot("broken")
        await wait_until(pilot, lambda: any("Cannot switch to the broken bot" in n for n in notes(app)))
        assert any("top_k must be int" in n for n in notes(app))
        assert app.settings.bot == "default" and app.state == "ready" and app.status_line.startswith("bot default")


@drive
async def test_the_new_bot_form_saves_switches_and_builds(fake_home: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _docs(tmp_path)
    monkeypatch.chdir(tmp_path)  # the form keeps relative paths as absolute ones
    app = make_app(Settings(home=fake_home), embedder=HashEmbedder(), export_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.ready)
        await _palette(pilot, app, "New bot…")
        await wait_until(pilot, lambda: isinstance(app.screen, NewBotScreen))
        await pilot.press(*"lighthouse", "tab", *"The lighthouse notes", "tab", *"docs/*.md", "enter")
        await wait_until(pilot, lambda: app.settings.bot == "lighthouse" and app.ready)
        profile = BotStore(fake_home, SEEDS).load("lighthouse")
        assert profile.description == "The lighthouse notes" and profile.engine == "extractive"
        assert profile.sources == [str(tmp_path / "docs" / "*.md")]
        assert app.last_report is not None and app.last_report.files_indexed == 1
        assert app.status_line.startswith("bot lighthouse ·") and "in 1 file" in app.status_line
        view = await _ask(pilot, app, TALL)
        assert view.answer is not None and "42 metres" in view.answer.text


@drive
async def test_a_bad_name_shows_in_the_form_and_nothing_is_saved(fake_home: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _docs(tmp_path)
    monkeypatch.chdir(tmp_path)
    app = make_app(Settings(home=fake_home), embedder=HashEmbedder(), export_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.ready)
        app.action_new_bot()
        await wait_until(pilot, lambda: isinstance(app.screen, NewBotScreen))
        await pilot.press(*"Bad Name!", "tab", "tab", *"docs", "enter")
        error = str(app.screen.query_one("#bot-error").content)
        assert "bot name 'Bad Name!' must be" in error and isinstance(app.screen, NewBotScreen)
        assert sorted(p.name for p in (fake_home / "bots").glob("*")) == ["default.toml"]
        await pilot.press("escape")
        assert not isinstance(app.screen, NewBotScreen) and app.settings.bot == "default"
