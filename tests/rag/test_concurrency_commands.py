"""Two commands at once on one RAG_HOME lose nothing: every pair of build, update, ask, watch, chat,
serve, bot import and bot rm, each a real `rag` process (slow tier).

Each pair runs once, in the order that can hurt: the command earlier in `HOLDERS` first (a writer
before a reader, a first build before what waits for it), `bot rm` always second (it is over at
once), and two removals of one bot in their own test. The first command is held in the middle of
its work: a writer (build, update, a first ask, a watch's update, an import's build) blocks inside
its first batch of embedding, holding the writer lock, until the test lets it go; serve and chat
are simply running. The second command then runs to its end, or until it says it waits for the
index. Then the first is let go, both finish, and the test checks what a user would: the index
holds what they asked for (never the seeds over their own documents, never another folder behind
their back), no build journal is left, every failure is one line with its exit code, and an `ask`
that waited answers from the index it waited for.

`chat` here is its controller (`tui.controller.Controller`: what the chat does, without the screen)
in its own process: it reads what the index holds, then answers, or builds the bot's sources when
there is no index, as its Build button does.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from index.builder import Builder
from index.cache import CACHE_NAME
from index.embed import HashEmbedder
from index.store import IndexStore
from index.text.chunking import ChunkSettings
from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # every case runs three or four `rag` processes

GATED = """
import sys, time
from pathlib import Path
from index.embed import HashEmbedder

gate, args = Path(sys.argv[1]), sys.argv[2:]
embed, batches = HashEmbedder.embed, [0]


def held(self, texts, progress=None):  # a build's batch waits for the test's word; questions do not
    if len(texts) > 1:
        batches[0] += 1
        (gate / f"batch-{batches[0]}").touch()
        while not (gate / "go").exists() and not (gate / f"go-{batches[0]}").exists():
            time.sleep(0.01)
    return embed(self, texts, progress)


HashEmbedder.embed = held
from rag.cli import main
main(["--embedder", "hash", *args])
"""

CHAT = """
import json, sys, time
from pathlib import Path
from index.embed import HashEmbedder
from index.errors import RagError
from rag.assistant import Assistant
from rag.config.settings import Settings
from tui.controller import Controller

gate, home, question = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
controller = Controller(Assistant(Settings.load(home=home, embedder="hash"), embedder=HashEmbedder()))
held = controller.summary()
print("ready", flush=True)
while not (gate / "chat-go").exists():
    time.sleep(0.01)
result = {"held": list(held.sources) if held else None, "error": None, "answer": None}
try:
    if held:
        result["answer"] = controller.answer(question, lambda fragment: None).text
    else:  # the welcome's Build button: the bot's sources
        result["built"] = controller.build(controller.sources()).files_indexed
except RagError as exc:
    result["error"] = type(exc).__name__
print(json.dumps(result), flush=True)
"""

FACT_Q = "A che quota si trova il rifugio Quintino Sella?"
FILLER = ("Il sentiero sale tra i larici e i pascoli, attraversa il torrente su un ponte di legno e raggiunge "
          "la conca glaciale dove il vento cambia direzione nel pomeriggio. ")
HOLDERS = ["build", "update", "ask", "watch", "import", "serve", "chat"]
LOCKS_DEFAULT = {"build", "update", "ask", "watch"}  # holders that hold the default bot's writer lock
PAIRS = [(a, b) for i, a in enumerate(HOLDERS) for b in HOLDERS[i:]] + [(a, "rm") for a in HOLDERS]
TIMEOUT = 180


def write_docs(folder: Path, topic: str, files: int = 3) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        fact = f"Il rifugio {topic} si trova a 3585 metri." if i == 0 else f"Documento {i} su {topic}."
        (folder / f"{topic.split()[0].lower()}{i}.md").write_text(f"# {topic} {i}\n\n{fact}\n\n" + FILLER * 12,
                                                                  encoding="utf-8")


def bundle(path: Path) -> Path:
    """An export of bot `imp` with its documents, as `rag bot export --with-docs` writes one."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bot.toml", 'name = "imp"\nsources = ["docs"]\n')
        for i in range(2):
            archive.writestr(f"docs/{i:04}-faro{i}.md", f"# Faro {i}\n\nIl faro di Capo Testa numero {i}.\n\n"
                             + FILLER * 12)
    return path


class Proc:
    """A `rag` process whose output lines are gathered as they come (so a test can wait on one)."""

    def __init__(self, argv: list[str], home: Path) -> None:
        env = {**os.environ, "RAG_HOME": str(home)}
        self.p = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(s, b), daemon=True)
                         for s, b in ((self.p.stdout, self.out), (self.p.stderr, self.err))]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream, into: list[str]) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            into.append(line)

    def saw(self, text: str) -> bool:
        return any(text in line for line in self.out + self.err)

    def until(self, *texts: str) -> str:
        """Wait until the process prints one of `texts` or ends; returns the text seen, or "exit"."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            for text in texts:
                if self.saw(text):
                    return text
            if self.p.poll() is not None:
                for reader in self._readers:
                    reader.join(timeout=10)
                return next((t for t in texts if self.saw(t)), "exit")
            time.sleep(0.01)
        raise AssertionError(f"timed out waiting for {texts}: {''.join(self.err)[-2000:]}")

    def finish(self, stop: bool = False) -> int:
        if stop and self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        code = self.p.wait(timeout=TIMEOUT)
        for reader in self._readers:
            reader.join(timeout=10)
        return code

    @property
    def stdout(self) -> str:
        return "".join(self.out)

    @property
    def stderr(self) -> str:
        return "".join(self.err)


class World:
    """One RAG_HOME, the user's documents, another folder, a bot export and a gate."""

    def __init__(self, tmp: Path) -> None:
        self.home, self.docs, self.other, self.gate = tmp / "home", tmp / "notes", tmp / "other", tmp / "gate"
        write_docs(self.docs, "Quintino Sella")
        write_docs(self.other, "Faro Capo Testa")
        self.bundle = bundle(tmp / "imp.ragbot")
        self.gate.mkdir()
        self.procs: list[Proc] = []

    def rag(self, *args: str, gated: bool = False) -> Proc:
        argv = [sys.executable, "-c", GATED, str(self.gate), *args] if gated else \
            [sys.executable, "-m", "rag", "--embedder", "hash", *args]
        self.procs.append(Proc(argv, self.home))
        return self.procs[-1]

    def chat(self) -> Proc:
        self.procs.append(Proc([sys.executable, "-c", CHAT, str(self.gate), str(self.home), FACT_Q], self.home))
        return self.procs[-1]

    def run(self, *args: str) -> int:
        proc = self.rag(*args)
        return proc.finish()

    def wait_batch(self, proc: Proc) -> None:
        """Until the held process has begun its first batch (so it holds the writer lock)."""
        deadline = time.monotonic() + TIMEOUT
        while not (self.gate / "batch-1").exists():
            assert proc.p.poll() is None, proc.stderr
            assert time.monotonic() < deadline, proc.stderr
            time.sleep(0.01)

    def release(self) -> None:
        (self.gate / "go").touch()
        (self.gate / "chat-go").touch()

    def files(self, bot: str = "default") -> set[str] | None:
        store = IndexStore(self.home / "indexes" / bot)
        if not store.exists():
            return None
        generation = store.open()
        try:
            return {Path(f.path).name for f in generation.files()}
        finally:
            generation.close()


def ask_serve(proc: Proc) -> str:
    url = re.search(r"(http://[^ /]+)/", proc.stderr)
    assert url, proc.stderr
    reply = httpx.post(f"{url.group(1)}/v1/chat/completions", timeout=60,
                       json={"model": "default", "messages": [{"role": "user", "content": FACT_Q}]})
    assert reply.status_code == 200, reply.text
    return str(reply.json()["choices"][0]["message"]["content"])


def hold(world: World, first: str) -> Proc:
    """Start `first` and return once it is in the middle of its work."""
    if first in ("update", "watch", "serve", "chat"):  # the user's index, as `rag index build NOTES` makes it
        Builder(IndexStore(world.home / "indexes" / "default"), HashEmbedder(), ChunkSettings()).build(
            [str(world.docs)])
    if first == "build":
        proc = world.rag("index", "build", str(world.docs), "-q", gated=True)
    elif first == "update":
        (world.docs / "nuovo.md").write_text("# Nuovo\n\n" + FILLER * 30, encoding="utf-8")
        proc = world.rag("index", "update", "-q", gated=True)
    elif first == "ask":
        proc = world.rag("ask", "Che cos'è Coze?", gated=True)
    elif first == "watch":
        proc = world.rag("index", "watch", gated=True)
        assert proc.until("Watching") == "Watching", proc.stderr
        (world.docs / "nuovo.md").write_text("# Nuovo\n\n" + FILLER * 30, encoding="utf-8")
    elif first == "import":
        proc = world.rag("bot", "import", str(world.bundle), "-q", gated=True)
    elif first == "serve":
        proc = world.rag("serve", "--port", "0")
        assert proc.until("Serving") == "Serving", proc.stderr
        return proc
    else:
        proc = world.chat()
        assert proc.until("ready") == "ready", proc.stderr
        return proc
    world.wait_batch(proc)
    return proc


ARRIVE: dict[str, Callable[[World], list[str]]] = {
    "build": lambda w: ["index", "build", str(w.other), "-q"],
    "update": lambda w: ["index", "update", "-q"],
    "ask": lambda w: ["ask", FACT_Q],
    "watch": lambda w: ["index", "watch"],
    "import": lambda w: ["bot", "import", str(w.bundle), "-q"],
    "serve": lambda w: ["serve", "--port", "0"],
}


def expected_codes(first: str, second: str) -> set[int]:
    locks = first in LOCKS_DEFAULT
    if second == "build":
        return {7} if locks else {0}
    if second == "update":
        return {7} if locks else ({3} if first == "import" else {0})
    if second == "import":
        return {2} if first == "import" else {0}
    if second == "rm":
        return {7} if locks or first == "import" else {0}
    return {0}


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_two_commands_at_once_lose_nothing(tmp_path: Path, first: str, second: str) -> None:
    world = World(tmp_path)
    a = hold(world, first)
    # the second command, while the first is held
    if second == "chat":
        if first != "chat":
            (world.gate / "chat-go").touch()  # the second chat does its part at once
        b = world.chat()
        if first == "chat":
            assert b.until("ready") == "ready"
            (world.gate / "chat-go").touch()
        b.until("{")
    elif second == "rm":
        b = world.rag("bot", "rm", "imp" if first == "import" else "default", "-y")
        b.finish()
    else:
        b = world.rag(*ARRIVE[second](world))
        b.until("waiting for the index", "Serving", "Watching")
    waited = b.saw("waiting for the index")
    world.release()
    if second in ("serve", "watch"):
        assert b.until("Serving", "Watching") != "exit", b.stderr
    if second == "serve":
        b_answer = ask_serve(b)
    # the first command finishes its work
    if first == "watch":
        assert a.until("updated:") == "updated:", a.stderr
    removed = second == "rm" and b.p.returncode == 0
    if first == "serve" and not removed:
        a_answer = ask_serve(a)
    a_code = a.finish(stop=first in ("watch", "serve"))
    b_code = b.finish(stop=second in ("watch", "serve"))

    # every process: no traceback; a failure is one line with its code
    for proc in world.procs:
        assert "Traceback" not in proc.stderr, proc.stderr
        errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
        assert all(line.startswith("rag: error:") for line in errors), proc.stderr
    assert a_code == 0, a.stderr
    assert b_code in expected_codes(first, second), (b_code, b.stderr)
    if b_code not in (0, 130, 143) and second not in ("chat",):
        assert len(b.stderr.strip().splitlines()) == 1, b.stderr

    # what the default bot's index holds: what was asked for, never the seeds over the user's notes
    notes = {p.name for p in world.docs.iterdir()}
    base = {"build": notes, "update": notes, "ask": {"bytedance_huawei_coze.txt"}, "watch": notes, "import": None,
            "serve": notes, "chat": notes}[first]
    if second == "build" and b_code == 0:
        base = {p.name for p in world.other.iterdir()}
    elif removed:
        base = None
    elif first == "import" and second in ("ask", "watch", "serve", "chat"):
        base = {"bytedance_huawei_coze.txt"}  # a default bot that never had an index: its seeds, once
    assert world.files() == base
    if first == "import" or (second == "import" and b_code == 0):
        assert world.files("imp") == {"0000-faro0.md", "0001-faro1.md"}
    for bot in ("default", "imp"):
        assert not (world.home / "indexes" / bot / CACHE_NAME).exists(), "a finished build leaves no journal"

    # a command that waited for the user's first build answers from it
    if second == "ask":
        assert ("3585" in b.stdout) == (base == notes), b.stdout
        if first in ("build", "ask"):
            assert waited, b.stderr
    if second == "serve" and base == notes:
        assert "3585" in b_answer
    if first == "serve" and not removed and base == notes:
        assert "3585" in a_answer
    if second == "chat":
        result = json.loads(b.stdout.strip().splitlines()[-1])
        assert result["error"] == ("IndexBusyError" if first in ("build", "ask") else None), result
    if first == "chat":
        result = json.loads(a.stdout.strip().splitlines()[-1])
        if base == notes:
            assert "3585" in (result["answer"] or ""), result


def test_two_removals_of_one_bot_at_once(tmp_path: Path) -> None:
    world = World(tmp_path)
    assert world.run("bot", "import", str(world.bundle), "-q") == 0
    first, second = world.rag("bot", "rm", "imp", "-y"), world.rag("bot", "rm", "imp", "-y")
    codes = sorted([first.finish(), second.finish()])
    assert codes == [0, 2], (first.stderr, second.stderr)
    assert not (world.home / "indexes" / "imp").exists() and not (world.home / "bots" / "imp-docs").exists()
    assert "Traceback" not in first.stderr + second.stderr


def test_an_interrupted_first_build_is_reported_then_resumed_never_replaced(tmp_path: Path) -> None:
    """The fault that started issue 17: a user's first build killed before its first batch was saved,
    then every command that would have built the seeds: each reports it instead, and `rag index build`
    with no paths resumes the user's folder."""
    world = World(tmp_path)
    a = world.rag("index", "build", str(world.docs), "-q", gated=True)
    world.wait_batch(a)
    a.p.send_signal(signal.SIGKILL)
    a.finish()
    root = world.home / "indexes" / "default"
    journal = root / CACHE_NAME
    assert journal.exists() and not IndexStore(root).exists()
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": FACT_Q, "answer_any": ["3585"]}) + "\n", encoding="utf-8")
    for args in (["ask", FACT_Q], ["index", "info"], ["serve", "--port", "0"], ["index", "watch"],
                 ["eval", str(questions)], ["index", "update"]):
        proc = world.rag(*args)
        code = proc.finish()
        lines = proc.stderr.strip().splitlines()
        assert code == 3 and len(lines) == 1 and lines[0].startswith("rag: error:"), (args, code, proc.stderr)
        assert args[:2] == ["index", "update"] or str(world.docs) in lines[0], (args, lines)
        assert journal.exists() and not IndexStore(root).exists(), args
    chat = world.chat()
    (world.gate / "chat-go").touch()
    chat.finish()
    assert json.loads(chat.stdout.strip().splitlines()[-1])["built"] == 3  # its Build button resumes the notes
    assert world.files() == {p.name for p in world.docs.iterdir()} and not journal.exists()
    proc = world.rag("ask", FACT_Q)
    assert proc.finish() == 0 and "3585" in proc.stdout


def test_rag_index_build_with_no_paths_rebuilds_what_the_index_recorded(tmp_path: Path) -> None:
    world = World(tmp_path)
    assert world.run("index", "build", str(world.docs), "-q") == 0
    assert world.run("index", "build", "-q") == 0
    assert world.files() == {p.name for p in world.docs.iterdir()}, "not the seeds"
    folder = IndexStore(world.home / "indexes" / "default").current_folder()
    assert folder is not None
    (folder / "vectors.npy").unlink()  # damaged: `rag index info` shows what to rebuild from
    info = world.rag("index", "info")
    assert info.finish() == 5 and f"Sources:   {world.docs}" in info.stdout, info.stdout
    assert world.run("index", "build", "-q") == 0
    assert world.files() == {p.name for p in world.docs.iterdir()}
