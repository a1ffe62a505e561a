"""The welcome panel: the bot's greeting, what its index holds and a few questions to start with
(the profile's, else one per section heading); with no index yet, an offer to build one."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from index.store import IndexStore
from rag.bots import BotProfile
from rag.render import display_path
from rag.settings import Settings
from rag.terminal import safe

MAX_SUGGESTIONS = 4


@dataclass(frozen=True)
class Holdings:
    """A summary of the index for the welcome panel and the status bar."""

    files: int
    chunks: int
    languages: tuple[str, ...]
    sources: tuple[str, ...]
    documents: tuple[tuple[str, int], ...]  # (path, chunks)
    headings: tuple[str, ...]
    model: str


def holdings(settings: Settings) -> Holdings | None:
    """What the index holds, or None when there is no index yet (opening it is cheap: SQLite only)."""
    store = IndexStore(settings.index_root)
    if not store.exists():
        return None
    generation = store.open()
    try:
        meta = generation.meta
        headings: list[str] = []
        for chunk in generation.chunks(range(min(meta.n_chunks, 500))):
            heading = " ".join(safe(chunk.heading).split())
            if heading and heading not in headings:
                headings.append(heading)
        return Holdings(meta.n_files, meta.n_chunks, tuple(meta.languages),
                        tuple(safe(display_path(s)) for s in meta.sources),
                        tuple((safe(display_path(f.path)), f.n_chunks) for f in generation.files()),
                        tuple(headings), meta.model_id)
    finally:
        generation.close()


def suggestions(held: Holdings, profile: BotProfile | None = None) -> list[str]:
    """Questions to try: the profile's, else one about each section heading (the language of the
    documents is kept)."""
    if profile is not None and profile.suggested_questions:
        return [" ".join(q.split()) for q in profile.suggested_questions[:MAX_SUGGESTIONS]]
    return [f"{h}?" if not h.endswith("?") else h for h in held.headings[:MAX_SUGGESTIONS]]


class Welcome(Vertical):
    DEFAULT_CSS = """
    Welcome { height: auto; padding: 1 2; margin: 1 0; border: round $primary; }
    Welcome .title { text-style: bold; color: $primary; }
    Welcome .muted { color: $text-muted; }
    Welcome OptionList { height: auto; border: none; padding: 0; margin-top: 1; }
    Welcome Horizontal { height: auto; margin-top: 1; }
    Welcome Button { margin-right: 2; }
    """

    def __init__(self, held: Holdings | None, profile: BotProfile | None = None) -> None:
        super().__init__()
        self.held, self.profile = held, profile

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("Ask your documents", classes="title")
        held, profile = self.held, self.profile
        if profile is not None and profile.welcome:
            yield Static(Text(safe(profile.welcome)), id="bot-welcome", markup=False)
        if held is None or held.chunks == 0:
            if profile is not None and profile.sources:
                yield Static(Text(f"There is no index yet: nothing to answer from. Build one from the bot's "
                                  f"sources ({safe(' '.join(profile.sources))}), or index other files."),
                             markup=False)
                label = "Build from its sources"
            else:
                yield Static(Text("There is no index yet: nothing to answer from. Build one from the bundled "
                                  "seed article, or index your own files."), markup=False)
                label = "Build from the seeds"
            with Horizontal():
                yield Button(label, id="build-sources", variant="primary")
                yield Button("Index files…", id="build-paths")
            return
        langs = ", ".join(held.languages) or "language unknown"
        yield Static(Text(f"The knowledge base holds {held.files} document{'s' * (held.files != 1)} in "
                          f"{held.chunks} passages ({langs}), indexed from {' '.join(held.sources)}."),
                     markup=False)
        docs = Text()
        for path, chunks in held.documents[:6]:
            docs.append(f"  • {path}  ({chunks} passages)\n")
        if len(held.documents) > 6:
            docs.append(f"  … and {len(held.documents) - 6} more\n")
        yield Static(docs, classes="muted", markup=False)
        yield Static(Text("Answers quote the documents and cite them [n]. Try one of these, or type below:"),
                     markup=False)
        yield OptionList(*[Option(Text(q), id=f"suggest-{i}") for i, q in enumerate(suggestions(held, profile))],
                         id="suggestions")
