"""The chat's answerer: a thin adapter over `Assistant.ask` that turns an answer into Markdown
fragments for the conversation view, and keeps the conversation's `ChatSession`.

The engines themselves live in `rag.engines`. A generative one streams its text as it is written
(each piece escaped by `tui.format.StreamEscaper`); the extractive one answers all at once, so its
fragments come after, one per sentence. Either way the checked `Answer` is returned last. Nothing
here knows Textual: the app calls `answer` in a thread worker and moves fragments to the UI itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from rag.answer import Answer
from rag.assistant import Assistant
from rag.chat import ChatSession
from tui.format import StreamEscaper, answer_fragments

EXTRACTIVE = "extractive"


class Answerer:
    def __init__(self, assistant: Assistant, session: ChatSession | None = None) -> None:
        self.assistant = assistant
        self.session = session or ChatSession()
        self.model = assistant.settings.llm_model  # the generative engine's model, known for sure once warm

    @property
    def name(self) -> str:
        return self.assistant.settings.engine

    @property
    def generative(self) -> bool:
        return self.name != EXTRACTIVE

    @property
    def label(self) -> str:
        """`extractive`, or `fake (fake-quoter)`: the engine and the model it answers with."""
        return f"{self.name} ({self.model})" if self.generative and self.model else self.name

    def warm(self) -> None:
        """Load what the first answer needs (index, embedding model, engine client); raises RagError
        (EngineError for an engine that cannot be made), so that a bad setting shows at once."""
        self.assistant.searcher.embed_query("warm up")
        engine = self.assistant.engine
        if engine is not None:
            self.model = engine.model

    def answer(self, question: str, show: Callable[[str], None]) -> Answer:
        """Answer `question` as a turn of this conversation, passing Markdown fragments to `show` as
        they come. `show` may raise to stop a generative answer midway (the app does, on cancel)."""
        escape = StreamEscaper()

        def on_token(piece: str) -> None:
            fragment = escape(piece)
            if fragment:
                show(fragment)

        answer = self.assistant.ask(question, on_token=on_token if self.generative else None, session=self.session)
        if not self.generative:
            for fragment in answer_fragments(answer):
                show(fragment)
        return answer

    def reset(self) -> None:
        """A new conversation: follow-up questions no longer lean on the earlier ones. A fresh session
        object rather than a cleared one, so an answer still finishing records into the old one."""
        self.session = ChatSession()

    def switched(self, engine: str) -> Answerer:
        """The same index, embedder and conversation, answered by `engine` (not warmed yet)."""
        old = self.assistant
        assistant = Assistant(replace(old.settings, engine=engine), embedder=old.embedder,
                              progress=old.progress, wait=old.wait)
        return Answerer(assistant, self.session)
