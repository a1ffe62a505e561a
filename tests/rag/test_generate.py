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


# ---- issue 17: generated answers that say what they are (fast: the hash embedder over the seeds) -----------
@pytest.fixture(scope="module")
def coze(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from index.embed import HashEmbedder
    from rag.assistant import Assistant
    from rag.config.settings import Settings
    from tests.conftest import SEEDS

    assistant = Assistant(Settings(home=tmp_path_factory.mktemp("hashhome"), embedder="hash"),
                          embedder=HashEmbedder())
    assistant.build([str(SEEDS)])
    hits = [h for h in assistant.search("Coze piattaforma chatbot OpenAI rivaleggia", 5)
            if "Coze permette" in h.chunk.text and "rivaleggia con OpenAI" in h.chunk.text]
    assert hits, "a seed passage that says both"
    return hits[:1], assistant.embedder.embed


ONE = "Coze permette agli utenti di creare e distribuire chatbot AI senza richiedere competenze di programmazione."
TWO = "Coze è una piattaforma che rivaleggia con OpenAI."
INVENTED = "Coze ha venduto 999 milioni di abbonamenti nel 2019."


def test_sentences_cited_after_their_full_stop_are_checked_one_by_one(coze) -> None:  # type: ignore[no-untyped-def]
    hits, embed = coze
    styles = (f"{ONE} [1] {TWO} [1]", f"{ONE}[1] {TWO}[1]", f"{ONE} [1]\n{TWO} [1]", f"{ONE[:-1]} [1]. {TWO[:-1]} [1].")
    for text in styles:
        marks = check(text, hits, embed)
        assert [(m.text, m.citations, m.support) for m in marks] == [(ONE, (1,), SUPPORTED), (TWO, (1,), SUPPORTED)]
    strict = generate("Che cos'è Coze?", hits, FakeEngine(reply=f"{ONE} [1] {TWO} [1]"), embed, strict=True)
    assert strict.support == "2 of 2 sentences supported" and strict.text == f"{ONE} [1] {TWO} [1]"


class Pieces(FakeEngine):
    """Streams its reply in pieces of `size` characters, as a real engine's tokens cut words anywhere."""

    def __init__(self, reply: str, size: int = 3, echo_fence: bool = False) -> None:
        super().__init__(reply)
        self.size, self.echo_fence = size, echo_fence

    def stream(self, messages: list[Message], max_tokens: int = 512) -> Iterator[str]:
        text = self.reply
        if self.echo_fence:  # SmolLM2 repeats the prompt's fence around or inside its answer
            boundary = messages[-1]["content"].split("BEGIN DATA ", 1)[1].split("\n", 1)[0]
            text = f"BEGIN DATA {boundary}\n{text} END DATA {boundary}\nEND DATA {boundary[:7]}"
        yield from (text[i:i + self.size] for i in range(0, len(text), self.size))


@pytest.mark.parametrize("size", [1, 3, 7])
def test_strict_streaming_shows_only_what_survives_the_check(coze, size: int) -> None:  # type: ignore[no-untyped-def]
    hits, embed = coze
    shown: list[str] = []
    answer = generate("Che cos'è Coze?", hits, Pieces(f"{ONE} [1] {INVENTED} [1] {TWO} [1]", size), embed,
                      strict=True, on_token=shown.append)
    assert "".join(shown) == answer.text == f"{ONE} [1] {TWO} [1]", shown
    assert "999" not in "".join(shown) and [s.support for s in answer.sentences] == [SUPPORTED, SUPPORTED]
    loose: list[str] = []
    generate("Che cos'è Coze?", hits, Pieces(f"{ONE} [1] {INVENTED} [1]", size), embed, on_token=loose.append)
    assert "999" in "".join(loose), "without --strict the text streams as it comes, marked afterwards"


@pytest.mark.parametrize("strict", [False, True])
def test_the_prompts_fence_never_reaches_the_output(coze, strict: bool) -> None:  # type: ignore[no-untyped-def]
    hits, embed = coze
    shown: list[str] = []
    answer = generate("Che cos'è Coze?", hits, Pieces(f"{ONE} [1]", 2, echo_fence=True), embed, strict=strict,
                      on_token=shown.append)
    for text in ("".join(shown), answer.text, *(s.text for s in answer.sentences)):
        assert "DATA" not in text and "END" not in text, text
    assert answer.text == f"{ONE} [1]" and not answer.abstained


def test_an_answer_with_no_supported_sentence_is_an_abstention(coze, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from rag.evaluate import score_one

    hits, embed = coze
    answer = generate("Quanti abbonamenti?", hits, FakeEngine(reply=f"{INVENTED} [1] Coze è gratis."), embed)
    assert answer.abstained and answer.text == REFUSAL and answer.support == "0 of 2 sentences supported"
    assert [s.support for s in answer.sentences] == [UNSUPPORTED, UNSUPPORTED], "what was said stays, marked"
    data = answer.to_json()
    assert data["abstained"] is True and data["answer"] == REFUSAL and data["citations"]  # the nearest passages
    row = score_one({"id": "1", "question": "q", "answer_any": ["999"]}, answer, 5)
    assert row["abstained"] and not row["fact"], "eval counts it as an abstention, not a right answer"
    partial = generate("Che cos'è Coze?", hits, FakeEngine(reply=f"{ONE} [1] {INVENTED} [1]"), embed)
    assert not partial.abstained and partial.text.startswith(ONE), "one supported sentence is an answer"
