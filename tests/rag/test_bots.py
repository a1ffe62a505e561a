"""Bots: profiles validated with clear errors, made and shared from the CLI, and served over HTTP
to the real `openai` client on loopback."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from index.errors import ConfigError
from rag.config.bots import BotProfile, BotStore, to_toml, validate
from rag.server.app import BotServer
from tests.conftest import assert_one_line_error


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "Bad Name"}, "lowercase"),
    ({"name": "ok", "colour": "red"}, "unknown field"),
    ({"name": "ok", "top_k": "five"}, "top_k must be int"),
    ({"name": "ok", "sources": "docs"}, "sources must be list"),
    ({"name": "ok", "mode": "psychic"}, "mode must be one of"),
    ({"name": "ok", "engine": "gpt"}, "engine must be one of"),
    ({"name": "ok", "chunk_overlap": 300}, "chunk_overlap must be below"),
    ({"description": "no name"}, "'name' is required"),
])
def test_profile_validation(data: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError, match=message):
        validate(data, "bot.toml")


def test_profile_round_trips_through_toml(tmp_path: Path) -> None:
    import tomllib

    profile = BotProfile(name="x", description='Quotes "and" \\ backslashes', sources=["a b/*.md"],
                         suggested_questions=["Perché?"], min_confidence=0.8)
    assert validate(tomllib.loads(to_toml(profile)), "t") == profile
    store = BotStore(tmp_path, tmp_path / "seeds")
    assert store.names() == ["default"] and store.load("default").name == "default"


def test_bots_from_the_cli(rag, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "rifugio.md").write_text("# Rifugi\n\nIl rifugio Vittorio Emanuele si trova a 2732 metri.\n")
    made = rag("--embedder", "hash", "bot", "new", "alpi", "-s", str(docs), "-d", "Rifugi alpini",
               "--question", "A che quota è il rifugio?", "-q")
    assert made.code == 0, made.err
    assert 'rag --bot alpi ask "A che quota è il rifugio?"' in made.out
    listed = rag("bot", "list", "--json").json()
    assert {b["name"]: b["indexed"] for b in listed} == {"alpi": True, "default": False}
    answer = rag("--embedder", "hash", "--bot", "alpi", "ask", "--json", "A che quota si trova il rifugio?")
    assert answer.code == 0 and "2732" in answer.json()["answer"]
    assert rag("bot", "edit", "alpi", "--set", "top_k=3", "--set", "welcome=Ciao!").code == 0
    assert rag("bot", "show", "alpi", "--json").json()["top_k"] == 3
    assert_one_line_error(rag("bot", "edit", "alpi", "--set", "mode=psychic"))
    assert_one_line_error(rag("--bot", "nobody", "ask", "x"))
    assert_one_line_error(rag("bot", "new", "alpi", "-s", str(docs)))

    export = tmp_path / "alpi.ragbot"
    assert rag("bot", "export", "alpi", "--with-docs", "-o", str(export)).code == 0
    elsewhere = tmp_path / "other-home"
    imported = rag("--home", str(elsewhere), "--embedder", "hash", "bot", "import", str(export), "-q")
    assert imported.code == 0, imported.err
    again = rag("--home", str(elsewhere), "--embedder", "hash", "--bot", "alpi", "ask", "--json",
                "A che quota si trova il rifugio?")
    assert again.code == 0 and "2732" in again.json()["answer"]
    assert str(elsewhere) in again.json()["citations"][0]["path"], "the documents travelled in the export"
    assert rag("bot", "rm", "alpi", "-y").code == 0
    assert [b["name"] for b in rag("bot", "list", "--json").json()] == ["default"]


@pytest.fixture
def server(seed_assistant) -> Iterator[str]:  # type: ignore[no-untyped-def]
    httpd = BotServer(("127.0.0.1", 0), {"default": seed_assistant}, "default", api_key="sk-serve-test",
                      max_concurrent=8)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def _client(url: str, key: str = "sk-serve-test"):  # type: ignore[no-untyped-def]
    from openai import OpenAI

    return OpenAI(base_url=url, api_key=key, max_retries=0)


QUESTION = "Quante unità di chip Huawei ha ordinato ByteDance?"


def test_openai_client_non_streaming_and_streaming(server: str) -> None:
    client = _client(server)
    assert [m.id for m in client.models.list().data] == ["default"]
    reply = client.chat.completions.create(model="default", messages=[{"role": "user", "content": QUESTION}])
    assert "100.000" in reply.choices[0].message.content and "[1]" in reply.choices[0].message.content
    citations = reply.model_extra["citations"]
    assert citations[0]["path"].endswith("bytedance_huawei_coze.txt") and citations[0]["quote"]
    pieces, last = [], None
    for chunk in client.chat.completions.create(model="default", stream=True,
                                                messages=[{"role": "user", "content": QUESTION}]):
        pieces.append(chunk.choices[0].delta.content or "")
        last = chunk
    assert "100.000" in "".join(pieces) and last is not None and last.model_extra["citations"]


def test_wrong_key_bad_json_and_limits(server: str) -> None:
    import openai

    with pytest.raises(openai.AuthenticationError):
        _client(server, key="sk-wrong").chat.completions.create(
            model="default", messages=[{"role": "user", "content": QUESTION}])
    headers = {"Authorization": "Bearer sk-serve-test", "Content-Type": "application/json"}
    for body, code in ((b"{not json", 400), (b'{"messages": []}', 400), (b"x" * 300_000, 413)):
        request = urllib.request.Request(f"{server}/chat/completions", data=body, headers=headers)
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=10)
        assert info.value.code == code
        assert "message" in json.loads(info.value.read())["error"]
    health = json.loads(urllib.request.urlopen(server.removesuffix("/v1") + "/health", timeout=5).read())
    assert health == {"status": "ok", "bots": ["default"]}


def test_several_concurrent_clients(server: str) -> None:
    questions = [QUESTION, "Con quale azienda rivaleggia Coze?",
                 "Quali chip usava ByteDance prima delle restrizioni?"] * 2
    expected = ["100.000", "OpenAI", "NVIDIA"] * 2

    def ask(question: str) -> str:
        reply = _client(server).chat.completions.create(model="default",
                                                        messages=[{"role": "user", "content": question}])
        return reply.choices[0].message.content or ""

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(ask, questions))
    assert all(fact in answer for fact, answer in zip(expected, answers, strict=True))


def test_over_the_concurrency_limit_is_429() -> None:
    import openai

    started, release = threading.Event(), threading.Event()

    class Slow:
        class profile:  # noqa: N801 (stands in for a BotProfile)
            description = "slow"

        def ask(self, question: str):  # type: ignore[no-untyped-def]
            from rag.answer import Answer

            started.set()
            release.wait(timeout=30)
            return Answer(question, "ok", (), (), True, 0.0)

    httpd = BotServer(("127.0.0.1", 0), {"slow": Slow()}, "slow", max_concurrent=1)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    try:
        def ask(_: int) -> str:
            try:
                _client(url, key="x").chat.completions.create(model="slow", messages=[{"role": "user", "content": "q"}])
                return "ok"
            except openai.RateLimitError:
                return "429"

        with ThreadPoolExecutor(max_workers=2) as pool:
            first = pool.submit(ask, 0)
            assert started.wait(timeout=30), "the first answer is in progress"
            second = pool.submit(ask, 1).result()  # while the first holds the only slot
            release.set()
            assert (first.result(), second) == ("ok", "429")
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()
