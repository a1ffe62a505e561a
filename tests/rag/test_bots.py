"""Bots: profiles validated with clear errors, made and shared from the CLI (serving them over HTTP:
tests/rag/test_server.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.errors import ConfigError
from rag.config.bots import BotProfile, BotStore, to_toml, validate
from tests.conftest import assert_one_line_error


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "Bad Name"}, "lowercase"),
    ({"name": "ok", "colour": "red"}, "unknown field"),
    ({"name": "ok", "top_k": "five"}, "top_k must be int"),
    ({"name": "ok", "sources": "docs"}, "sources must be list"),
    ({"name": "ok", "mode": "psychic"}, "mode must be one of"),
    ({"name": "ok", "engine": "gpt"}, "engine must be one of"),
    ({"name": "ok", "chunk_overlap": 300}, "chunk_overlap must be below"),
    ({"description": "no name"}, "'name' is required"),
])
def test_profile_validation(data: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError, match=message):
        validate(data, "bot.toml")


def test_profile_round_trips_through_toml(tmp_path: Path) -> None:
    import tomllib

    profile = BotProfile(name="x", description='Quotes "and" \\ backslashes', sources=["a b/*.md"],
                         suggested_questions=["Perché?"], min_confidence=0.8)
    assert validate(tomllib.loads(to_toml(profile)), "t") == profile
    store = BotStore(tmp_path, tmp_path / "seeds")
    assert store.names() == ["default"] and store.load("default").name == "default"


def test_bots_from_the_cli(rag, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "rifugio.md").write_text("# Rifugi\n\nIl rifugio Vittorio Emanuele si trova a 2732 metri.\n")
    made = rag("--embedder", "hash", "bot", "new", "alpi", "-s", str(docs), "-d", "Rifugi alpini",
               "--question", "A che quota è il rifugio?", "-q")
    assert made.code == 0, made.err
    assert 'rag --bot alpi ask "A che quota è il rifugio?"' in made.out
    listed = rag("bot", "list", "--json").json()
    assert {b["name"]: b["indexed"] for b in listed} == {"alpi": True, "default": False}
    answer = rag("--embedder", "hash", "--bot", "alpi", "ask", "--json", "A che quota si trova il rifugio?")
    assert answer.code == 0 and "2732" in answer.json()["answer"]
    assert rag("bot", "edit", "alpi", "--set", "top_k=3", "--set", "welcome=Ciao!").code == 0
    assert rag("bot", "show", "alpi", "--json").json()["top_k"] == 3
    assert_one_line_error(rag("bot", "edit", "alpi", "--set", "mode=psychic"))
    assert_one_line_error(rag("--bot", "nobody", "ask", "x"))
    assert_one_line_error(rag("bot", "new", "alpi", "-s", str(docs)))

    export = tmp_path / "alpi.ragbot"
    assert rag("bot", "export", "alpi", "--with-docs", "-o", str(export)).code == 0
    elsewhere = tmp_path / "other-home"
    imported = rag("--home", str(elsewhere), "--embedder", "hash", "bot", "import", str(export), "-q")
    assert imported.code == 0, imported.err
    again = rag("--home", str(elsewhere), "--embedder", "hash", "--bot", "alpi", "ask", "--json",
                "A che quota si trova il rifugio?")
    assert again.code == 0 and "2732" in again.json()["answer"]
    assert str(elsewhere) in again.json()["citations"][0]["path"], "the documents travelled in the export"
    assert rag("bot", "rm", "alpi", "-y").code == 0
    assert [b["name"] for b in rag("bot", "list", "--json").json()] == ["default"]
