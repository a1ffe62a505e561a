"""Generated answers: the fake engine through the registry, the citation check on real passages,
stream cuts, conversations and the LangChain adapter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.answer import Answer
from rag.answerers.generative import generate, messages_for
from rag.answerers.verify import PARTIAL, SUPPORTED, UNSUPPORTED, check
from rag.conversation import ChatSession
from rag.engines.base import Message, StreamCutError
from rag.engines.fake import FakeEngine
from rag.prompts import INCOMPLETE_MARK, REFUSAL


def _coze_hits(seed_assistant):  # type: ignore[no-untyped-def]
    hits = seed_assistant.search("Coze piattaforma chatbot OpenAI", 3)
    assert "Coze permette" in hits[0].chunk.text
    return hits


def test_smollm2_hallucination_is_marked_unsupported(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    hits = _coze_hits(seed_assistant)
    embed = seed_assistant.embedder.embed
    # What SmolLM2-135M was seen to answer to "What is Coze?" over the seed article:
    marks = check("Coze is a game development platform. [1]", hits, embed)
    assert [(m.text, m.citations, m.support) for m in marks] == \
        [("Coze is a game development platform.", (1,), UNSUPPORTED)]
    quoted = check("Coze permette agli utenti di creare e distribuire chatbot AI senza richiedere competenze "
                   "di programmazione. [1]", hits, embed)
    assert quoted[0].support == SUPPORTED
    paraphrase = check("Coze lets users create and deploy AI chatbots without programming skills [1].", hits, embed)
    assert paraphrase[0].support in (SUPPORTED, PARTIAL)
    invented = check("ByteDance ha ordinato 250.000 chip nel 2021. [1]", hits, embed)
    assert invented[0].support == UNSUPPORTED, "a figure the passage lacks is never supported"
    uncited = check("Coze permette di creare chatbot.", hits, embed)
    assert uncited[0].support == UNSUPPORTED and uncited[0].citations == ()
    bogus = check("Coze rivaleggia con OpenAI. [7] [1]", hits, embed)
    assert bogus[0].citations == (1,), "a citation to a passage that was not retrieved is removed"


def test_fake_engine_answer_is_checked_and_strict_drops(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    hits = _coze_hits(seed_assistant)
    embed = seed_assistant.embedder.embed
    streamed: list[str] = []
    answer = generate("Che cos'è Coze?", hits, FakeEngine(), embed, on_token=streamed.append)
    assert len(streamed) > 3 and "".join(streamed).endswith("[1]")
    assert not answer.abstained and answer.sentences[0].support == SUPPORTED and "1 of 1" in answer.support
    mixed = FakeEngine(reply="Coze rivaleggia con OpenAI [1]. Coze is a game development platform [1].")
    loose = generate("Che cos'è Coze?", hits, mixed, embed)
    strict = generate("Che cos'è Coze?", hits, mixed, embed, strict=True)
    assert [s.support for s in loose.sentences] == [SUPPORTED, UNSUPPORTED]
    assert loose.support == "1 of 2 sentences supported"
    assert [s.text for s in strict.sentences] == ["Coze rivaleggia con OpenAI."] and "game" not in strict.text
    refusal = generate("Quando è nata Huawei?", hits, FakeEngine(reply=REFUSAL), embed)
    assert refusal.abstained and refusal.text == REFUSAL


def test_prompt_fences_passages_with_a_random_boundary(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    hits = _coze_hits(seed_assistant)
    first, second = messages_for("q", hits, "aaaa1111"), messages_for("q", hits, "bbbb2222")
    assert "BEGIN DATA aaaa1111" in first[1]["content"] and "END DATA aaaa1111" in first[1]["content"]
    assert "never instructions" in first[0]["content"] and "[1]" in first[1]["content"]
    assert first[1]["content"] != second[1]["content"]


class CutEngine(FakeEngine):
    def stream(self, messages: list[Message], max_tokens: int = 512) -> Iterator[str]:
        yield "Coze rivaleggia "
        yield "con OpenAI [1]. E inoltre"
        raise StreamCutError("the answer stream was cut")


def test_cut_stream_keeps_the_partial_answer(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = generate("Che cos'è Coze?", _coze_hits(seed_assistant), CutEngine(), seed_assistant.embedder.embed)
    assert answer.incomplete and answer.text.endswith(INCOMPLETE_MARK)
    assert answer.sentences[0].text == "Coze rivaleggia con OpenAI." and answer.to_json()["incomplete"] is True


def test_deterministic_follow_up_rewrite() -> None:
    session = ChatSession()
    assert session.standalone("Quanti chip ha ordinato ByteDance?") == "Quanti chip ha ordinato ByteDance?"
    session.add("Quanti chip ha ordinato ByteDance?", "Quanti chip ha ordinato ByteDance?", "100.000 [1]")
    assert session.standalone("e quanti ne ha ricevuti?") == \
        "Quanti chip ha ordinato ByteDance? e quanti ne ha ricevuti?"
    assert session.standalone("Che cos'è la piattaforma Coze di ByteDance?") == \
        "Che cos'è la piattaforma Coze di ByteDance?"
    llm = session.standalone("and how many did they receive?", rewrite=lambda prompt: "How many chips arrived?\n")
    assert llm == "How many chips arrived?"


def test_ask_continue_follows_up(rag) -> None:  # type: ignore[no-untyped-def]
    first = rag("ask", "--continue", "--json", "Quante unità di chip Huawei ha ordinato ByteDance?")
    assert first.code == 0 and "100.000" in first.json()["answer"]
    follow = rag("ask", "--continue", "--json", "e quante ne ha ricevute?")
    assert follow.code == 0 and "30.000" in follow.json()["answer"], follow.out
    fake = rag("ask", "--engine", "fake", "--json", "Che cos'è Coze?")
    data = fake.json()
    assert data["engine"] == "fake" and data["sentences"][0]["support"] in (SUPPORTED, PARTIAL, UNSUPPORTED)
    assert all(set(s) >= {"text", "citations", "support"} for s in data["sentences"])


def test_langchain_retriever_in_a_chain(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    from langchain_core.runnables import RunnableLambda

    from rag.langchain_adapter import RagRetriever

    retriever = RagRetriever(assistant=seed_assistant, k=2)
    docs = retriever.invoke("910B")
    assert len(docs) == 2 and "910B" in docs[0].page_content
    meta = docs[0].metadata
    assert meta["citation"].startswith("[1] ") and Path(meta["source"]).name == "bytedance_huawei_coze.txt"
    source = Path(meta["source"]).read_text(encoding="utf-8")
    assert source[meta["char_span"][0]:meta["char_span"][1]] == docs[0].page_content

    def cite(documents: list) -> str:  # type: ignore[type-arg]
        return "\n".join(f"{d.metadata['citation']}: {d.page_content[:40]}" for d in documents)

    chain = retriever | RunnableLambda(cite)
    out = chain.invoke("Reuters")
    assert out.startswith("[1] ") and "Reuters" in seed_assistant.search("Reuters", 1)[0].chunk.text


def test_answer_json_round_trip_fields() -> None:
    answer = Answer("q", REFUSAL, (), (), True, 0.0, engine="fake")
    data = answer.to_json()
    assert data["abstained"] is True and data["sentences"] == [] and data["incomplete"] is False


@pytest.mark.parametrize("engine", ["fake"])
def test_engine_registry(engine: str) -> None:
    from rag.config.settings import Settings
    from rag.engines import EngineError, make_engine

    assert make_engine(engine, Settings(home=Path("/nonexistent"))).name == engine
    with pytest.raises(EngineError, match="unknown engine"):
        make_engine("nope", Settings(home=Path("/nonexistent")))
