"""Build, update, add, change and delete in any order: the index always equals a fresh build."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from index.builder import Builder
from index.embed import HashEmbedder
from index.store import IndexStore
from index.text.chunking import ChunkSettings

NAMES = st.sampled_from([f"f{i}.md" for i in range(6)])
BODIES = st.lists(st.sampled_from(["gatto", "treno", "910B", "Coze", "fiume", "è", "l’anno", "\n\n", ". "]),
                  min_size=3, max_size=60).map(" ".join)


def _snapshot(root: Path) -> list[tuple[str, str, int, int, int, tuple[float, ...]]]:
    generation = IndexStore(root).open()
    n = generation.meta.n_chunks
    vectors = generation.vectors()
    return [(Path(c.path).name, c.text, c.start, c.end, c.line_start, tuple(vectors[i].round(5)))
            for i, c in enumerate(generation.chunks(list(range(n))))]


class IndexMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        self.tmp = Path(tempfile.mkdtemp())
        self.docs = self.tmp / "docs"
        self.docs.mkdir()
        (self.docs / "seed.md").write_text("# Inizio\n\nIl primo documento.\n")
        self.settings = ChunkSettings(size=24, overlap=6)
        Builder(IndexStore(self.tmp / "idx"), HashEmbedder(), self.settings).build([str(self.docs)])

    def teardown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    @rule(name=NAMES, body=BODIES)
    def write(self, name: str, body: str) -> None:
        (self.docs / name).write_text(body)

    @rule(name=NAMES)
    def delete(self, name: str) -> None:
        (self.docs / name).unlink(missing_ok=True)

    @rule()
    def update(self) -> None:
        Builder(IndexStore(self.tmp / "idx"), HashEmbedder(), self.settings).update()

    @rule()
    def rebuild(self) -> None:
        Builder(IndexStore(self.tmp / "idx"), HashEmbedder(), self.settings).build([str(self.docs)])

    @invariant()
    def update_equals_fresh_build(self) -> None:
        if not hasattr(self, "tmp"):
            return
        Builder(IndexStore(self.tmp / "idx"), HashEmbedder(), self.settings).update()
        fresh = self.tmp / "fresh"
        shutil.rmtree(fresh, ignore_errors=True)
        Builder(IndexStore(fresh), HashEmbedder(), self.settings).build([str(self.docs)])
        assert _snapshot(self.tmp / "idx") == _snapshot(fresh)


IndexMachine.TestCase.settings = settings(max_examples=10, stateful_step_count=6, deadline=None)
TestIndexMachine = IndexMachine.TestCase
