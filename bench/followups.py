"""Follow-up questions without an LLM: two-turn conversations, the second turn leaning on the first.

    python bench/followups.py      # bench/data/followups.jsonl over squad_it_dev_heldout's articles

Each conversation's first question is asked, then its second as a follow-up three ways, on the same
index in one process: alone (no conversation), with the previous rule (a question that looks like a
follow-up is searched with the previous one, and its answer must cover both), and with the current
`Assistant.ask` (the question is answered alone and, when it looks like a follow-up or finds no answer
alone, searched with the previous turn while the answer must cover its own words; the surer answer
wins). A second turn is right when its answer holds the fact and cites a passage of the right file
that holds the evidence. Conversations whose evidence the held-out articles lack are left out.
Writes bench/results/followups.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from common import EVAL, RESULTS, ROOT, machine

from rag.assistant import Assistant
from rag.config.settings import Settings
from rag.conversation import ChatSession
from rag.evaluate import normalize, score_one

CONVERSATIONS = ROOT / "bench" / "data" / "followups.jsonl"
DOCS = EVAL / "squad_it_dev_heldout" / "docs"


def old_rule(assistant: Assistant, session: ChatSession, question: str):  # type: ignore[no-untyped-def]
    """The rule before: a follow-up-looking question searched (and covered) together with the previous one."""
    return assistant._answer(session.standalone(question), "", None)


def main() -> None:
    conversations = [json.loads(line) for line in CONVERSATIONS.read_text(encoding="utf-8").splitlines() if line]
    texts = {p.name: normalize(p.read_text(encoding="utf-8")) for p in DOCS.glob("*.txt")}
    usable = [c for c in conversations
              if any(normalize(e) in texts.get(c["source"], "") for e in c["turns"][1]["evidence_any"])]
    assistant = Assistant(Settings(home=RESULTS / "tmp" / "home-squad_it_dev_heldout"))
    if not assistant.store.exists():
        assistant.build([str(DOCS)])
    right = {"alone": 0, "previous_rule": 0, "current": 0}
    by_lang: dict[str, dict[str, int]] = {}
    for c in usable:
        first, second = c["turns"][0]["question"], c["turns"][1]
        q = {"id": c["id"], "question": second["question"], "answer_any": second["answer_any"],
             "evidence_any": second["evidence_any"], "source": c["source"]}
        session = ChatSession()
        assistant.ask(first, session=session)
        outcomes = {"alone": assistant.ask(second["question"]),
                    "previous_rule": old_rule(assistant, session, second["question"]),
                    "current": assistant.ask(second["question"], session=session)}
        lang = by_lang.setdefault(c["lang"], {"n": 0, **{k: 0 for k in right}})
        lang["n"] += 1
        for name, answer in outcomes.items():
            row = score_one(q, answer, 5)
            ok = bool(row["fact"] and row["citation"])
            right[name] += ok
            lang[name] += ok
        print(c["id"], {k: bool(score_one(q, a, 5)["fact"]) for k, a in outcomes.items()}, file=sys.stderr, flush=True)
    result = {"command": "python bench/followups.py", "machine": machine(), "conversations": len(usable),
              "left_out": len(conversations) - len(usable),
              "second_turn_right": {k: round(v / len(usable), 3) for k, v in right.items()}, "by_language": by_lang}
    Path(RESULTS / "followups.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
