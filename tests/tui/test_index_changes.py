"""The chat notices a new generation of its index made elsewhere (a `rag index watch`, another terminal):
it says so, the status bar shows when, and the next answer comes from it."""

from __future__ import annotations

from pathlib import Path

from index.embed import HashEmbedder
from rag.assistant import Assistant
from rag.config.settings import Settings
from tests.conftest import SEEDS
from tests.tui.conftest import drive, notes, wait_until


@drive
async def test_a_generation_made_elsewhere_is_announced_and_used(fake_app, fake_home: Path,  # type: ignore[no-untyped-def]
                                                                 tmp_path: Path) -> None:
    app = fake_app()
    async with app.run_test(size=(140, 36)) as pilot:
        await wait_until(pilot, lambda: app.ready)
        assert "index updated" not in app.status_line
        extra = tmp_path / "extra.txt"
        extra.write_text("Il faro di Genova si chiama Lanterna ed è alto settantasette metri.\n", encoding="utf-8")
        # another process would do this: a second Assistant on the same home
        Assistant(Settings(home=fake_home), embedder=HashEmbedder()).build([str(SEEDS), str(extra)])
        await wait_until(pilot, lambda: app.index_changes == 1)
        assert "index updated " in app.status_line and "in 2 files" in app.status_line
        assert any("The index changed: 2 file(s)" in n for n in notes(app))
        await pilot.press(*"Come si chiama il faro di Genova?", "enter")
        await wait_until(pilot, lambda: app.last_answer() is not None)
        answer = app.last_answer()
        assert answer is not None and any(c.hit.chunk.path.endswith("extra.txt") for c in answer.citations)
