"""The question input: multi-line, Enter sends, Shift+Enter or Ctrl+J starts a new line, and
Up/Down on the first/last line walk through the questions already asked (like a shell)."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.message import Message
from textual.widgets import TextArea

NEWLINE_KEYS = ("shift+enter", "ctrl+j", "alt+enter")


class PromptInput(TextArea):
    DEFAULT_CSS = """
    PromptInput { height: auto; max-height: 8; min-height: 3; border: tall $accent; }
    """

    @dataclass
    class Submitted(Message):
        prompt: PromptInput
        text: str

    def __init__(self, **kwargs: object) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)  # type: ignore[arg-type]
        self.asked: list[str] = []
        self._position = 0  # index into history; len(history) is the line being typed
        self._draft = ""

    def remember(self, text: str) -> None:
        if text and (not self.asked or self.asked[-1] != text):
            self.asked.append(text)
        self._position, self._draft = len(self.asked), ""

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text.strip()
            if text:
                self.remember(text)
                self.clear()
                self.post_message(self.Submitted(self, text))
            return
        if event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        row = self.cursor_location[0]
        if event.key == "up" and row == 0 and self._position > 0:
            self._recall(self._position - 1, event)
            return
        if event.key == "down" and row == self.document.line_count - 1 and self._position < len(self.asked):
            self._recall(self._position + 1, event)
            return
        await super()._on_key(event)

    def _recall(self, position: int, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        if self._position == len(self.asked):
            self._draft = self.text
        self._position = position
        self.load_text(self.asked[position] if position < len(self.asked) else self._draft)
        self.move_cursor(self.document.end)
