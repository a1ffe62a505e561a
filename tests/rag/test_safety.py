"""Terminal safety and secrets: escapes in documents never reach the screen; an API key never leaves."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from rag.config.secret import Secret
from rag.config.settings import Settings
from rag.present.terminal import SafeStream, json_text, safe, safe_line

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


# ---- issue 17: one sanitiser for every output --------------------------------------------------------------
HOSTILE = ["\x1b]0;owned\x07", "\x1b[31m", "\x1b[2J", "\x9b31m", "\x1b]8;;http://evil\x1b\\", "\r", "\n", "\u202e",
           "\x07", "\x1bP+q\x1b\\", "\t", "\x1b", "\x1b(B", "\x85", "\x7f"]
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # all but \n and \t


def test_safe_line_keeps_one_line_and_shows_what_it_escaped() -> None:
    assert safe_line("a\nb\x1b]0;t\x07c\u202e.md") == "a\\nb\\x1b]0;t\\x07c\\u202e.md"
    assert json.loads(json_text({"q": "x\x9b31m\u202ey"})) == {"q": "x\x9b31m\u202ey"}
    assert not UNSAFE.search(json_text({"q": "x\x9b31m\u202ey\x1b"}))


@given(st.lists(st.sampled_from(["Il faro ", "rosso ", "di Capo ", *HOSTILE]), min_size=1, max_size=12),
       st.lists(st.integers(1, 9), min_size=1, max_size=30))
def test_a_stream_cut_anywhere_never_shows_part_of_an_escape(parts: list[str], cuts: list[int]) -> None:
    text = "".join(parts)
    stream, pieces, at = SafeStream(), [], 0
    for n in cuts:
        pieces.append(text[at:at + n])
        at += n
    pieces.append(text[at:])
    shown = "".join(stream(p) for p in pieces) + stream.flush()
    assert shown == safe(text), "the same as sanitising the whole text at once"
    assert not UNSAFE.search(shown) and "[31m" not in shown and "]0;" not in shown


hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(alphabet="abcè Z", min_size=1, max_size=4)),
                        min_size=1, max_size=5).map("".join)
hostile_name = hostile_text.filter(lambda s: "/" not in s and not s.startswith(".") and len(s.encode()) < 120)


@pytest.mark.slow  # long rather than heavy: every command, in this process, for each example
@settings(max_examples=int(os.environ.get("RAG_FUZZ_EXAMPLES", "12")), deadline=None,
          phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking 18 commands took minutes
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(name=hostile_name, title=hostile_text, body=hostile_text)
def test_hostile_names_and_contents_never_reach_the_terminal(name: str, title: str, body: str,
                                                             capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command, fed a file whose name and text carry escapes, newlines, carriage returns and
    bidirectional overrides: nothing of them reaches stdout or stderr unescaped, a file name never
    breaks a line, and streamed text cut in pieces of two characters leaks no half of a sequence."""
    from rag.cli import main
    from rag.engines.fake import FakeEngine

    stream = FakeEngine.stream
    monkeypatch.setattr(FakeEngine, "stream", lambda self, messages, max_tokens=512: (
        piece for text in ["".join(stream(self, messages, max_tokens))] for piece in
        (text[i:i + 2] for i in range(0, len(text), 2))))
    work = Path(tempfile.mkdtemp())
    docs = work / "docs"
    docs.mkdir()
    (docs / f"{name}.md").write_text(f"# {title}\n\nIl faro {body} di Capo Testa si trova a 3585 metri. {body}\n\n"
                                     f"Un altro paragrafo {title} sul faro.\n", encoding="utf-8")
    (docs / f"{name}.txt").write_bytes(b"bin\x00ary")  # skipped, and listed by its name
    questions = work / "q.jsonl"
    questions.write_text(json.dumps({"question": f"Dove si trova il faro {title}?", "answer_any": ["3585"]}) + "\n")
    base = ["--home", str(work / "home"), "--embedder", "hash"]
    runs = [["index", "build", str(docs)], ["index", "build", str(docs), "--json"], ["index", "info"],
            ["index", "info", "--json"], ["search", "faro Capo Testa"], ["search", "faro", "--json"],
            ["ask", f"Dove si trova il faro {title}?"], ["ask", "Dove si trova il faro?", "--json"],
            ["ask", "--engine", "fake", "Dove si trova il faro?"],
            ["ask", "--engine", "fake", "--strict", "Dove si trova il faro?"],
            ["bot", "new", "ostile", "-s", str(docs), "-d", title, "--question", body, "--no-build"],
            ["bot", "list"], ["bot", "list", "--json"], ["bot", "show", "ostile"], ["bot", "show", "ostile", "--json"],
            ["eval", str(questions)], ["index", "build", str(docs / f"{name}-missing")], ["bot", "rm", "ostile", "-y"]]
    for args in runs:
        capsys.readouterr()
        try:
            main([*base, *args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        for text in (out, err):
            assert not UNSAFE.search(text), (args, UNSAFE.search(text), text)
        # no traceback of ours (a server thread another test left may print its own into this capture)
        assert not re.search(r'File "[^"]*/(rag|index|tui)/', err), err
        if code:
            assert len(err.strip().splitlines()) == 1 and err.startswith("rag: error:"), (args, err)
        if args == ["index", "info"]:
            assert len(out.strip().splitlines()) == 9, out  # 7 fields, one document, the skipped count
        if args == ["index", "build", str(docs)]:
            assert len(out.strip().splitlines()) == 3, out  # the report, "Skipped 1 file(s):", the binary file
