"""The real tier: the chat with the bundled embedding model, building and answering from the real seeds."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import OptionList, ProgressBar

from rag.config.settings import Settings
from tests.tui.conftest import drive, wait_until
from tui.app import make_app
from tui.widgets.sources import SourcesPane

pytestmark = pytest.mark.slow
TWO_PART = "Quante unità di chip ha ordinato ByteDance e con chi rivaleggia Coze?"


@drive
async def test_build_ask_select_rebuild_export_with_the_real_model(real_embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(home=tmp_path / "home"), embedder=real_embedder, export_dir=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.query_one("#build-sources").region.width)  # laid out, clickable
        await pilot.click("#build-sources")  # an empty index offers to build one
        await wait_until(pilot, lambda: app.ready, timeout=120)
        bar = app.query_one(ProgressBar)
        assert bar.total and bar.progress == bar.total and not app.query_one("#progress").has_class("-active")
        assert app.held is not None and app.status_line == (
            f"bot default · engine extractive · model all-MiniLM-L6-v2 · {app.held.chunks} passages in 1 file · ready")

        await pilot.press(*TWO_PART, "enter")
        await wait_until(pilot, lambda: app.last_answer() is not None, timeout=60)
        answer = app.last_answer()
        assert answer is not None and not answer.abstained and [c.n for c in answer.citations] == [1, 2]
        assert "100.000" in answer.text and "OpenAI" in answer.text
        sources = app.query_one(SourcesPane)
        app.query_one("#citations", OptionList).focus()
        await pilot.press("down")
        await wait_until(pilot, lambda: sources.selected == 2)
        highlighted = [sources.passage_text()[a:b] for a, b in sources.passage_spans()]
        assert any("rivaleggia con OpenAI" in h for h in highlighted)
        assert "seeds/bytedance_huawei_coze.txt:" in str(app.query_one("#passage-head").content)

        await pilot.press("ctrl+b")  # rebuild from the same sources, in the background
        await wait_until(pilot, lambda: app.index_runs == 2, timeout=120)
        assert app.last_report is not None and app.last_report.files_indexed == 1
        await wait_until(pilot, lambda: app.ready, timeout=60)

        app.query_one("#prompt").focus()
        await pilot.press("ctrl+s")
        text = next(tmp_path.glob("rag-chat-*.md")).read_text(encoding="utf-8")
        assert "\\[1\\]" in text and "\\[2\\]" in text and "rivaleggia con OpenAI" in text
