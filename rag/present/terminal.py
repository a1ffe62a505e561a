"""Making text from documents, file names and models safe to print in a terminal: the one sanitiser.

A document, a file name, a bot profile or a model's reply can carry ANSI/OSC escape sequences that
recolour the terminal, rewrite its title, hide text or plant hyperlinks, a carriage return that
overwrites what was printed, or bidirectional overrides that show a name backwards. Everything
rag prints goes through one of these:
- `safe(text)`: passages and answers, several lines: escapes and control characters removed,
  newlines and tabs kept;
- `safe_line(text)`: one field on one line (a path, a name, a heading, an error message): the same,
  but a newline, a tab or a stripped control character is shown as its escape (`\\n`, `\\x1b`),
  so that a file name can neither break the output's lines nor pass for another name;
- `SafeStream`: `safe` for text that arrives in pieces (an LLM's stream), holding back an escape
  sequence cut between two pieces until it is whole, so that no half of it reaches the screen;
- `json_text(data)`: JSON output; JSON escapes C0 controls itself, this escapes C1 controls, DEL
  and bidirectional overrides too (as `\\u009b`), which stays valid JSON with the same strings.
"""

from __future__ import annotations

import json
import re
from typing import Any

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), DCS/SOS/PM/APC strings, other ESC sequences,
# C1 CSI, then stray C0/C1 controls (CR included: it rewinds the line) and bidirectional overrides.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)
# The start of an escape sequence that a later piece may complete.
_PARTIAL = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b\x9c]*\x1b?|[PX^_][^\x1b\x9c]*\x1b?|[ -/]*)?"
    r"|\x9b[0-?]*[ -/]*"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNESCAPED_BY_JSON = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # json.dumps escapes C0 itself
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
MAX_HELD = 1024  # characters a stream holds back waiting for a sequence's end (an OSC has no length limit)


def safe(text: str) -> str:
    """`text` without escape sequences or control characters (newlines and tabs stay)."""
    return _ESCAPES.sub("", text.replace("\r\n", "\n"))


def safe_line(text: str) -> str:
    """`text` on one line, every control character shown as its escape (`\\n`, `\\x1b`)."""
    return _CONTROL.sub(lambda m: _NAMED.get(m.group(0)) or ascii(m.group(0))[1:-1], text)


def json_text(data: Any, indent: int | None = 2) -> str:
    """`data` as JSON, non-ASCII text kept readable, every control character escaped."""
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    return _UNESCAPED_BY_JSON.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


class SafeStream:
    """`safe` for consecutive pieces of one text: call it with each piece, then `flush()` at the end."""

    def __init__(self) -> None:
        self._held = ""

    def __call__(self, piece: str) -> str:
        text = self._held + piece
        start = max(text.rfind("\x1b"), text.rfind("\x9b"))
        self._held = ""
        if start >= 0 and len(text) - start <= MAX_HELD and _PARTIAL.fullmatch(text, start):
            text, self._held = text[:start], text[start:]
        if text.endswith("\r"):  # perhaps the first half of a CRLF
            text, self._held = text[:-1], "\r" + self._held
        return safe(text)

    def flush(self) -> str:
        """What was held back: an unfinished sequence at the end of the text is dropped."""
        held, self._held = self._held, ""
        return safe(held)
