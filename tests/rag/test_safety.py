"""Terminal safety and secrets: escapes in documents never reach the screen; an API key never leaves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.config.secret import Secret
from rag.config.settings import Settings
from rag.present.terminal import safe

FAKE_KEY = "sk-fake-0123456789abcdefSECRET"
NASTY = ("Il chip \x1b[31mrosso\x1b[0m 910B \x1b]0;titolo rubato\x07 e \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ "
         "con [bold]parentesi[/bold] e \x07campanello.")


def test_safe_strips_escapes_and_keeps_text() -> None:
    cleaned = safe(NASTY)
    assert "\x1b" not in cleaned and "\x07" not in cleaned
    assert "rosso" in cleaned and "910B" in cleaned and "[bold]parentesi[/bold]" in cleaned
    assert safe("riga uno\n\triga due") == "riga uno\n\triga due"


def test_documents_with_escapes_print_clean(rag, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "nasty.txt").write_text(NASTY + "\n")
    assert rag("--embedder", "hash", "index", "build", str(tmp_path), "-q").code == 0
    out = rag("--embedder", "hash", "search", "910B")
    assert out.code == 0 and "910B" in out.out and "[bold]parentesi[/bold]" in out.out
    assert "\x1b" not in out.out and "\x07" not in out.out
    data = rag("--embedder", "hash", "search", "910B", "--json").json()
    assert data["hits"][0]["quote"].startswith("Il chip \x1b[31m"), "JSON keeps the stored text, escaped by JSON"


def test_secret_never_shows() -> None:
    secret = Secret(FAKE_KEY)
    assert FAKE_KEY not in repr(secret) + str(secret) + f"{secret}" + f"{secret!r}"
    assert secret.reveal() == FAKE_KEY
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(secret)
    settings = Settings.load(home=Path("/nonexistent"), api_key=FAKE_KEY)
    assert FAKE_KEY not in repr(settings)


def test_api_key_appears_in_no_output(rag, tmp_path: Path, home: Path) -> None:  # type: ignore[no-untyped-def]
    env = {"OPENAI_API_KEY": FAKE_KEY, "RAG_API_KEY": FAKE_KEY}
    (tmp_path / "a.txt").write_text("Il lago di Garda è il più grande d'Italia.\n")
    runs = [
        rag("--embedder", "hash", "index", "build", str(tmp_path), "--json", env=env),
        rag("--embedder", "hash", "ask", "--json", "Qual è il lago più grande?", env=env),
        rag("--embedder", "hash", "ask", "Qual è il lago più grande?", env=env),
        rag("--embedder", "hash", "index", "info", "--json", env=env),
        rag("--embedder", "hash", "index", "build", str(tmp_path / "missing"), env=env),
        rag("--embedder", "hash", "ask", "x", "--top-k", "0", env=env),
    ]
    assert runs[1].code == 0 and json.loads(runs[1].out)["question"]
    for run in runs:
        assert FAKE_KEY not in run.out and FAKE_KEY not in run.err
    stored = [p for p in home.rglob("*") if p.is_file()]
    assert stored, "the build wrote an index"
    for path in stored:  # nor on disk: index files, metadata, locks
        assert FAKE_KEY.encode() not in path.read_bytes(), path
