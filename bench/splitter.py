"""The one sentence splitter in retrieval: recall@4 with the rerank's old split and with the shared one.

    python bench/splitter.py          # about 5 min on 2 cores: one build, every question searched twice

Until the redesign, the hybrid search's sentence rerank (`LexicalIndex.sentence_match`) cut
passages with its own regex (at `.!?…` + space, and at newlines), while the answerer and the
support check used `index.text.sentences.split_sentences`, which keeps initials and titles whole
("John F. Kennedy", "Dr. Rossi") and needs a capital after the stop. Both are measured here in one
process, on one index of squad_it_dev, so the figures differ only by the splitter. Writes
bench/results/splitter.json.
"""

from __future__ import annotations

import json
import re
import sys
import time

from common import RESULTS, SQUAD_DOCS, SQUAD_QUESTIONS, holds, machine

import index.lexical as lexical
from index.text.sentences import Sentence, split_sentences
from rag.assistant import Assistant
from rag.config.settings import Settings
from rag.evaluate import load_questions

K = 4
_OLD_END = re.compile(r"(?<=[.!?…])\s+|\n+")  # the rerank's own split before the redesign


def old_split(text: str, offset: int = 0, min_chars: int = 1) -> list[Sentence]:
    return [Sentence(piece, 0, len(piece)) for piece in _OLD_END.split(text)]


def recall(assistant: Assistant, questions: list[dict]) -> tuple[float, list[bool]]:  # type: ignore[type-arg]
    found = []
    for q in questions:
        hits = assistant.search(q["question"], K)
        found.append(any(holds(h.chunk.path, h.chunk.text, q) for h in hits))
    return sum(found) / len(found), found


def main() -> None:
    questions = [q for q in load_questions(str(SQUAD_QUESTIONS)) if not q.get("unanswerable")]
    if True:  # the index is kept in bench/results/tmp/ (not committed), built once
        assistant = Assistant(Settings(home=RESULTS / "tmp" / "home-squad_it_dev"))
        if not assistant.store.exists():
            assistant.build([str(SQUAD_DOCS)])
        result: dict[str, object] = {"command": "python bench/splitter.py", "machine": machine(),
                                     "questions": len(questions)}
        runs = {}
        for name, splitter in (("old_rerank_split", old_split), ("shared_split", split_sentences)):
            lexical.split_sentences = splitter  # type: ignore[assignment]
            began = time.perf_counter()
            share, found = recall(assistant, questions)
            runs[name] = found
            result[name] = {"recall_at_4": round(share, 4), "seconds": round(time.perf_counter() - began, 1)}
            print(name, result[name], file=sys.stderr, flush=True)
        lexical.split_sentences = split_sentences  # type: ignore[assignment]
        names = sorted({q["source"] for q in questions})
        half = [names.index(q["source"]) % 2 for q in questions]  # even and odd articles, as bench/calibrate.py
        for name, found in runs.items():
            result[name]["by_half"] = [round(sum(f for f, h in zip(found, half, strict=True) if h == part)
                                             / half.count(part), 4) for part in (0, 1)]  # type: ignore[index]
        old, new = runs["old_rerank_split"], runs["shared_split"]
        result["gained"] = sum(n and not o for o, n in zip(old, new, strict=True))
        result["lost"] = sum(o and not n for o, n in zip(old, new, strict=True))
    out = RESULTS / "splitter.json"
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
