"""Bots: profiles validated with clear errors, made and shared from the CLI (serving them over HTTP:
tests/rag/test_server.py)."""

from __future__ import annotations

import json
import os
import re
import zipfile
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
    answer = rag("--embedder", "hash", "--bot", "alpi", "ask", "--json",
                 "A che quota si trova il rifugio Vittorio Emanuele?")
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
                "A che quota si trova il rifugio Vittorio Emanuele?")
    assert again.code == 0 and "2732" in again.json()["answer"]
    assert str(elsewhere) in again.json()["citations"][0]["path"], "the documents travelled in the export"
    assert rag("bot", "rm", "alpi", "-y").code == 0
    assert [b["name"] for b in rag("bot", "list", "--json").json()] == ["default"]


# ---- issue 17: bots that cannot hurt (in process, the hash embedder: fast) -------------------------------------
class Cli:
    """`rag --embedder hash ARGS` in this process: exit code, stdout, stderr."""

    def __init__(self, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.home, self.capsys = home, capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        from rag.cli import main

        self.capsys.readouterr()
        try:
            main(["--home", str(self.home), "--embedder", "hash", *args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        # no traceback of ours (a server thread another test left may print its own into this capture)
        assert not re.search(r'File "[^"]*/(rag|index|tui)/', err), err
        if code:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("rag: error:"), err
        return code, out, err


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(home, capsys)


def ragbot(path: Path, toml: str = 'name = "imp"\nsources = ["docs"]\n',
           docs: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bot.toml", toml)
        for name, data in (docs if docs is not None else {"docs/0000-faro.md": b"# Faro\n\nIl faro di Capo Testa.\n"}
                           ).items():
            archive.writestr(name, data)
    return path


def nothing_left(home: Path) -> None:
    """A failed import registered nothing and left no file."""
    bots = home / "bots"
    left = sorted(p.name for p in bots.iterdir()) if bots.exists() else []
    assert set(left) <= {"default.toml", ".bots.lock"}, left
    assert not (home / "indexes" / "imp").exists()


def _lie_about_size(path: Path) -> None:
    """Make the central directory say the first document is smaller than it is."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = next(i for i in archive.infolist() if i.filename.startswith("docs/"))
    at = data.find(b"PK\x01\x02")  # the central directory's entries
    while at >= 0:
        name_len = int.from_bytes(data[at + 28:at + 30], "little")
        if data[at + 46:at + 46 + name_len].decode() == info.filename:
            data[at + 24:at + 28] = (info.file_size // 2).to_bytes(4, "little")
            path.write_bytes(bytes(data))
            return
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError("no central directory entry found")


@pytest.mark.parametrize("case", ["bomb", "member over max_file_mb", "too many members", "too large in all",
                                  "header lies about the size", "not a zip", "bad bot.toml", "other paths",
                                  "other paths beside docs", "name taken"])
def test_a_bad_ragbot_is_refused_and_leaves_nothing(cli: Cli, home: Path, tmp_path: Path, case: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.config import ragbot as module

    file = tmp_path / "x.ragbot"
    expect = ""
    if case == "bomb":  # 5 MB of one byte: the 611 KB file that wrote 600 MB, scaled down
        ragbot(file, docs={"docs/0000-a.md": b"a" * (5 << 20)})
        expect = "expands"
    elif case == "member over max_file_mb":
        monkeypatch.setenv("RAG_MAX_FILE_MB", "0.001")
        ragbot(file, docs={"docs/0000-a.md": os.urandom(2048)})
        expect = "a document may have"
    elif case == "too many members":
        monkeypatch.setattr(module, "MAX_MEMBERS", 5)
        ragbot(file, docs={f"docs/{i:04}.md": b"x" for i in range(5)})
        expect = "files inside"
    elif case == "too large in all":
        monkeypatch.setattr(module, "MAX_TOTAL_BYTES", 3000)
        ragbot(file, docs={f"docs/{i:04}.md": os.urandom(1000) for i in range(4)})
        expect = "an import takes"
    elif case == "header lies about the size":
        ragbot(file, docs={"docs/0000-a.md": b"Il faro di Capo Testa. " * 400, "docs/0001-b.md": b"ok"})
        _lie_about_size(file)
        expect = "cannot be read"
    elif case == "not a zip":
        file.write_bytes(b"not a zip at all")
        expect = "not a bot export"
    elif case == "bad bot.toml":
        ragbot(file, toml='name = "imp"\ntop_k = 3.7\n')
        expect = "top_k must be int"
    elif case == "other paths":
        ragbot(file, toml='name = "imp"\nsources = ["/etc", "~/.ssh"]\n', docs={})
        expect = "/etc, ~/.ssh"
    elif case == "other paths beside docs":
        ragbot(file, toml='name = "imp"\nsources = ["docs", "/etc"]\n')
        expect = "--allow-paths"
    else:
        assert cli("bot", "new", "imp", "-s", str(tmp_path), "--no-build")[0] == 0
        ragbot(file)
        expect = "exists"
    code, _, err = cli("bot", "import", str(file), "-q")
    assert code == 2 and expect in err, err
    if case == "name taken":
        assert (home / "bots" / "imp.toml").exists() and not (home / "bots" / "imp-docs").exists()
    else:
        nothing_left(home)


def test_an_import_keeps_its_documents_in_its_own_folder(cli: Cli, home: Path, tmp_path: Path) -> None:
    evil = {"docs/../../../../escape.md": b"# Fuori\n\nNon deve uscire.\n",
            "docs/\x1b]0;pwned\x07.md": b"# Titolo\n\nUn titolo ostile.\n",
            "docs/.hidden.md": b"# Nascosto\n\nUn file nascosto.\n",
            "docs/sub/0000-faro.md": b"# Faro\n\nIl faro di Capo Testa.\n",
            "docs/0000-faro.md": b"# Faro due\n\nUn altro faro.\n"}
    code, _, err = cli("bot", "import", str(ragbot(tmp_path / "x.ragbot", docs=evil)), "-q")
    assert code == 0, err
    folder = home / "bots" / "imp-docs"
    names = sorted(p.name for p in folder.iterdir())
    assert names == [".imported-by-rag", "0000-faro.md", "2-0000-faro.md", "__0_pwned_.md", "escape.md",
                     "hidden.md"], names
    assert not (tmp_path / "escape.md").exists() and not list(tmp_path.parent.glob("escape.md"))
    assert BotStore(home, tmp_path).load("imp").sources == [str(folder)]
    trusted = ragbot(tmp_path / "y.ragbot", toml=f'name = "paths"\nsources = ["{tmp_path}"]\n', docs={})
    assert cli("bot", "import", str(trusted), "--allow-paths", "--no-build")[0] == 0
    assert BotStore(home, tmp_path).load("paths").sources == [str(tmp_path)]


def test_bot_rm_removes_the_documents_its_import_made_and_nothing_else(cli: Cli, home: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "nota.md").write_text("# Nota\n\nLa mia nota.\n")
    assert cli("bot", "new", "own", "-s", str(mine), "-q")[0] == 0
    assert cli("bot", "import", str(ragbot(tmp_path / "x.ragbot")), "-q")[0] == 0
    assert (home / "bots" / "imp-docs").is_dir() and (home / "indexes" / "imp").is_dir()
    assert cli("bot", "rm", "imp", "-y")[0] == 0
    assert not (home / "bots" / "imp-docs").exists() and not (home / "indexes" / "imp").exists()
    assert cli("bot", "rm", "own", "-y")[0] == 0
    assert (mine / "nota.md").read_text() == "# Nota\n\nLa mia nota.\n", "documents elsewhere are never touched"
    # a folder of that name the import did not make (no mark) stays
    (home / "bots" / "late-docs").mkdir()
    (home / "bots" / "late-docs" / "a.md").write_text("mio")
    assert cli("bot", "new", "late", "-s", str(mine), "--no-build")[0] == 0
    assert cli("bot", "rm", "late", "-y")[0] == 0 and (home / "bots" / "late-docs" / "a.md").exists()


BROKEN = {"bad toml": 'name = "broken\n', "bad value": 'name = "broken"\ntop_k = "tre"\n',
          "other name": 'name = "altro"\n', "not utf-8": b'name = "broken"\ndescription = "\xff"\n'}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_a_broken_bot_is_listed_removable_and_editable(cli: Cli, home: Path, tmp_path: Path, kind: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (home / "bots").mkdir(parents=True)
    path = home / "bots" / "broken.toml"
    raw = BROKEN[kind]
    path.write_bytes(raw if isinstance(raw, bytes) else raw.encode())
    code, out, _ = cli("bot", "list")
    assert code == 0 and "broken" in out and "BROKEN" in out and "default" in out, out
    code, out, _ = cli("bot", "list", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0 and "rag bot edit broken" in rows["broken"]["broken"] and "broken" not in rows["default"]
    assert cli("bot", "show", "broken")[0] == 2
    code, _, err = cli("bot", "edit", "broken", "--set", "top_k=3")
    assert code == 2 and "without --set" in err
    shown: list[str] = []

    def editor(text: str, extension: str = "") -> str:  # the user's editor: shown the file as it is, fixes it
        shown.append(text)
        return 'name = "broken"\ntop_k = 3\n'

    monkeypatch.setattr("click.edit", editor)
    code, _, err = cli("bot", "edit", "broken")  # the edit the error message suggests
    assert shown and (shown[0] == raw or kind == "not utf-8" and "broken" in shown[0]), shown
    assert code == 0, err
    assert BotStore(home, tmp_path).load("broken").top_k == 3
    path.write_text('name = "broken\n')
    assert cli("bot", "rm", "broken", "-y")[0] == 0 and not path.exists()


SET_WHEN_SET = [  # (how it is set, what the error names)
    (["bot", "edit", "default", "--set", "chunk_size=99999"], "chunk_size must be at most 256"),
    (["bot", "edit", "default", "--set", "chunk_size=8"], "chunk_size must be at least"),
    (["bot", "edit", "default", "--set", "chunk_overlap=300"], "chunk_overlap must be below"),
    (["bot", "edit", "default", "--set", "top_k=3.7"], "top_k must be int"),
    (["bot", "edit", "default", "--set", "top_k=0"], "top_k must be between"),
    (["bot", "edit", "default", "--set", "min_confidence=nan"], "min_confidence must be finite"),
    (["bot", "edit", "default", "--set", "mode=psychic"], "mode must be one of"),
    (["bot", "edit", "default", "--set", "name=other"], "name cannot be edited"),
    (["bot", "edit", "default", "--set", "colour=red"], "unknown field"),
    (["index", "build", "DOCS", "--max-file-mb", "-1"], "is not in the range x>0"),
    (["index", "build", "DOCS", "--max-file-mb", "nan"], "max_file_mb must be"),
    (["index", "build", "DOCS", "--chunk-size", "99999"], "over the 256 tokens"),
    (["index", "build", "DOCS", "--chunk-size", "100", "--chunk-overlap", "100"], "chunk_overlap must be between"),
    (["ask", "--min-confidence", "nan", "x"], "min_confidence must be a finite number"),
    (["ask", "--read-timeout", "-1", "x"], "read_timeout must be"),
    (["search", "x", "config:top_k = 3.7"], "is not a whole number"),
    (["search", "x", "config:max_file_mb = -2"], "max_file_mb must be"),
    (["search", "x", "config:chunk_size = 1000000"], None),  # allowed until a build: the model decides
    (["search", "x", "env:RAG_TOP_K=3.7"], "not a valid int"),
    (["search", "x", "env:RAG_STRICT=maybe"], "is not true or false"),
    (["search", "x", "env:RAG_CONNECT_TIMEOUT=0"], "connect_timeout must be"),
    (["search", "x", "env:RAG_CHUNK_OVERLAP=-1"], "chunk_overlap must be between"),
]


@pytest.mark.parametrize(("args", "message"), SET_WHEN_SET, ids=[" ".join(a) for a, _ in SET_WHEN_SET])
def test_a_setting_is_checked_when_it_is_set(cli: Cli, home: Path, tmp_path: Path, args: list[str],
                                             message: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import SEEDS

    assert cli("index", "build", str(SEEDS), "-q")[0] == 0
    before = (home / "bots" / "default.toml").read_text()
    if args[-1].startswith("config:"):
        (home / "config.toml").write_text(args[-1].removeprefix("config:") + "\n")
        args = args[:-1]
    elif args[-1].startswith("env:"):
        name, _, value = args[-1].removeprefix("env:").partition("=")
        monkeypatch.setenv(name, value)
        args = args[:-1]
    code, _, err = cli(*[str(SEEDS) if a == "DOCS" else a for a in args])
    if message is None:
        assert code in (0, 4), err  # searching with other chunk settings is refused, one line, at use
        return
    assert code == 2 and message in err, err
    assert (home / "bots" / "default.toml").read_text() == before, "nothing was saved"
