"""The welcome panel: the bot's greeting, what its index holds and a few questions to start with
(the profile's, else one per section heading); with no index yet, an offer to build one.

It shows an `IndexSummary` it is given (from the controller) and reads nothing itself. Everything
from documents is made safe for the terminal here, where it is shown.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from rag.config.bots import BotProfile
from rag.present.render import display_path
from rag.present.terminal import safe
from rag.summary import IndexSummary

MAX_SUGGESTIONS = 4


def suggestions(held: IndexSummary, profile: BotProfile | None = None) -> list[str]:
    """Questions to try: the profile's, else one about each section heading (the language of the
    documents is kept)."""
    if profile is not None and profile.suggested_questions:
        return [" ".join(q.split()) for q in profile.suggested_questions[:MAX_SUGGESTIONS]]
    headings = [" ".join(safe(h).split()) for h in held.headings[:MAX_SUGGESTIONS]]
    return [f"{h}?" if not h.endswith("?") else h for h in headings]


class Welcome(Vertical):
    DEFAULT_CSS = """
    Welcome { height: auto; padding: 1 2; margin: 1 0; border: round $primary; }
    Welcome .title { text-style: bold; color: $primary; }
    Welcome .muted { color: $text-muted; }
    Welcome OptionList { height: auto; border: none; padding: 0; margin-top: 1; }
    Welcome Horizontal { height: auto; margin-top: 1; }
    Welcome Button { margin-right: 2; }
    """

    def __init__(self, held: IndexSummary | None, profile: BotProfile | None = None) -> None:
        super().__init__()
        self.held, self.profile = held, profile

    def compose(self) -> ComposeResult:
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
                          f"{held.chunks} passages ({langs}), indexed from {_paths(held.sources)}."),
                     markup=False)
        docs = Text()
        for doc in held.documents[:6]:
            docs.append(f"  • {_paths([doc.path])}  ({doc.chunks} passages)\n")
        if len(held.documents) > 6:
            docs.append(f"  … and {len(held.documents) - 6} more\n")
        yield Static(docs, classes="muted", markup=False)
        yield Static(Text("Answers quote the documents and cite them [n]. Try one of these, or type below:"),
                     markup=False)
        yield OptionList(*[Option(Text(q), id=f"suggest-{i}") for i, q in enumerate(suggestions(held, profile))],
                         id="suggestions")


def _paths(paths: Iterable[str]) -> str:
    """Paths as the user knows them (relative to the working directory below it), safe to show."""
    return " ".join(safe(display_path(p)) for p in paths)
