"""A conversation: the turns so far, and follow-up questions made standalone for retrieval.

"And how many did they receive?" retrieves nothing useful alone. With an LLM the question is
rewritten into a standalone one by the model; without one, a deterministic rule: a question that
looks like a follow-up (short, or opening with "and"/"e", or leaning on a pronoun) is searched
together with the previous standalone question. `--continue` keeps the session in
`$RAG_HOME/session.json` between CLI calls.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rag.prompts import REWRITE_PROMPT

_FOLLOW_UP = re.compile(
    r"^\s*(and|e|ed|also|anche|ma|but|what about|e invece|invece|then|poi|so|quindi)\b"
    r"|\b(it|its|they|them|their|this|that|these|those|he|she|him|her|ne|esso|essa|essi|"
    r"loro|suo|sua|suoi|sue|questo|questa|questi|queste|quello|quella|quelli|quelle)\b", re.I)
MAX_TURNS = 20


@dataclass
class Turn:
    question: str
    standalone: str
    answer: str


@dataclass
class ChatSession:
    turns: list[Turn] = field(default_factory=list)

    def looks_like_follow_up(self, question: str) -> bool:
        """Short, or opening with "and"/"e", or leaning on a pronoun: it needs the previous turn."""
        return bool(self.turns) and (bool(_FOLLOW_UP.search(question)) or len(question.split()) <= 4)

    def with_context(self, question: str) -> str:
        """The question searched together with the previous turn's standalone question."""
        return f"{self.turns[-1].standalone} {question}" if self.turns else question

    def standalone(self, question: str, rewrite: Callable[[str], str] | None = None) -> str:
        """The question as it should be searched, given the turns so far."""
        if not self.turns:
            return question
        if rewrite is not None:
            history = "\n".join(f"Q: {t.question}\nA: {t.answer}" for t in self.turns[-3:])
            rewritten = rewrite(REWRITE_PROMPT.format(history=history, question=question)).strip()
            first_line = rewritten.splitlines()[0].strip() if rewritten else ""
            return first_line or question
        return self.with_context(question) if self.looks_like_follow_up(question) else question

    def add(self, question: str, standalone: str, answer: str) -> None:
        self.turns.append(Turn(question, standalone, answer))
        del self.turns[:-MAX_TURNS]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([asdict(t) for t in self.turns], ensure_ascii=False, indent=1))

    @classmethod
    def load(cls, path: Path) -> ChatSession:
        try:
            return cls([Turn(**t) for t in json.loads(path.read_text())])
        except (OSError, ValueError, TypeError):
            return cls()
