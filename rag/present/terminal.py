"""Making text from documents and models safe to print in a terminal.

A document can carry ANSI/OSC escape sequences that recolour the terminal, rewrite its title,
hide text or plant hyperlinks; we print documents, so we strip them (and other control
characters, keeping newlines and tabs) before anything reaches the screen. JSON output keeps the
text as stored: JSON escapes control characters itself.
"""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \\), other ESC sequences, then stray C0/C1 controls.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[@-Z\\-_]?"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
)


def safe(text: str) -> str:
    """`text` without escape sequences or control characters (newlines and tabs stay)."""
    return _ESCAPES.sub("", text)
