"""Smaller promises of issue 17, in this process with the hash embedder (fast): outputs checked before
the work, a damaged index that still says what to rebuild it from, a build with no paths that rebuilds
what the index recorded, and the seeds only for a default bot that never had an index."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from index.cache import CACHE_NAME, begin_run
from index.store import IndexStore
from tests.conftest import DATA, SEEDS


def run(home: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from rag.cli import main

    capsys.readouterr()
    try:
        main(["--home", str(home), "--embedder", "hash", *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    # no traceback of ours (a server thread another test left may print its own into this capture)
    assert not re.search(r'File "[^"]*/(rag|index|tui)/', err), err
    if code:
        assert len(err.strip().splitlines()) == 1 and err.startswith("rag: error:"), err
    return code, out, err


def test_eval_out_to_a_missing_folder_fails_before_the_first_question(home: Path, capsys: pytest.CaptureFixture[str],
                                                                       monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    from rag.assistant import Assistant

    asked: list[str] = []
    ask = Assistant.ask
    monkeypatch.setattr(Assistant, "ask", lambda self, q, *a, **k: asked.append(q) or ask(self, q, *a, **k))
    questions = str(DATA / "seed_dev.jsonl")
    code, _, err = run(home, capsys, "eval", questions, "--out", str(tmp_path / "missing" / "rows.jsonl"))
    assert code == 2 and "cannot write" in err and "nothing was run" in err and asked == []
    kept = tmp_path / "rows.jsonl"
    kept.write_text("earlier rows\n")
    monkeypatch.setattr(Assistant, "ask", lambda self, q, *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(SystemExit) as stopped:  # Ctrl-C during the run
        from rag.cli import main

        main(["--home", str(home), "--embedder", "hash", "eval", questions, "--out", str(kept), "--limit", "1"])
    assert stopped.value.code == 130
    assert kept.read_text() == "earlier rows\n", "a run that fails leaves the earlier file as it was"
    monkeypatch.setattr(Assistant, "ask", ask)
    assert run(home, capsys, "eval", questions, "--out", str(kept), "--limit", "2")[0] == 0
    assert len(kept.read_text().splitlines()) == 2


def test_a_damaged_index_shows_its_sources_and_a_build_with_no_paths_rebuilds_them(
        home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    notes = tmp_path / "my notes"
    notes.mkdir()
    (notes / "nota.md").write_text("# Nota\n\nIl rifugio Quintino Sella si trova a 3585 metri.\n")
    assert run(home, capsys, "index", "build", str(notes), "-q")[0] == 0
    assert run(home, capsys, "index", "build", "-q")[0] == 0  # no paths: what the index recorded, not the seeds
    root = home / "indexes" / "default"
    folder = IndexStore(root).current_folder()
    assert folder is not None and {f.path for f in IndexStore(root).open().files()} == {str(notes / "nota.md")}
    (folder / "chunks.sqlite").write_bytes(b"garbage")
    code, out, err = run(home, capsys, "index", "info")
    assert code == 5 and f"Sources:   '{notes}'" in out and "(damaged)" in out, out
    code, out, _ = run(home, capsys, "index", "info", "--json")
    assert code == 5 and json.loads(out)["sources"] == [str(notes)]
    assert run(home, capsys, "ask", "A che quota si trova il rifugio?")[0] == 5, "never rebuilt over it with seeds"
    assert run(home, capsys, "index", "build", "-q")[0] == 0
    assert {f.path for f in IndexStore(root).open().files()} == {str(notes / "nota.md")}


def test_the_seeds_only_for_a_default_bot_that_never_had_an_index(home: Path, capsys: pytest.CaptureFixture[str],
                                                                  tmp_path: Path) -> None:
    root = home / "indexes" / "default"
    begin_run(root, [str(tmp_path / "notes")])  # a first build of the user's notes, killed before any batch
    code, _, err = run(home, capsys, "ask", "Che cos'è Coze?")
    assert code == 3 and str(tmp_path / "notes") in err and "rag index build" in err, err
    assert (root / CACHE_NAME).exists() and not IndexStore(root).exists()
    code, _, err = run(home, capsys, "index", "build", "-q")  # resumes the notes (which are gone): says so
    assert code == 2 and str(tmp_path / "notes") in err and not IndexStore(root).exists()
    other = tmp_path / "fresh-home"
    code, _, err = run(other, capsys, "ask", "Che cos'è Coze?")
    assert code == 0 and "Built the default index from the bundled seeds" in err
    assert {Path(f.path).name for f in IndexStore(other / "indexes" / "default").open().files()} == \
        {p.name for p in SEEDS.iterdir()}
