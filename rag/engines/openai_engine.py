"""Any OpenAI-compatible chat endpoint (OpenAI, Ollama, vLLM, llama.cpp's server) via `openai`.

Retries live in one place: the client's own retries are switched off (`max_retries=0`) and we
retry 429 and 5xx answers, and refused connections, with exponential backoff, only before the
first token (a stream cannot be resumed). Errors become one line that never contains the key.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from rag.config.secret import Secret
from rag.engines.base import EngineError, Message, StreamCutError

RETRIES = 3
BACKOFF_SECONDS = 0.5


class OpenAIEngine:
    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: Secret, connect_timeout: float = 5.0,
                 read_timeout: float = 60.0, retries: int = RETRIES, backoff: float = BACKOFF_SECONDS) -> None:
        import openai

        self.base_url, self.model = base_url, model
        self.retries, self.backoff = retries, backoff
        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key.reveal() or "not-needed", max_retries=0,
            timeout=openai.Timeout(read_timeout, connect=connect_timeout))

    @classmethod
    def from_settings(cls, settings: Any) -> OpenAIEngine:
        return cls(settings.base_url, settings.llm_model or "default", settings.api_key,
                   settings.connect_timeout, settings.read_timeout)

    def stream(self, messages: list[Message], max_tokens: int = 512) -> Iterator[str]:
        import openai

        response = self._open(messages, max_tokens)
        started, finished = False, False
        try:
            for event in response:
                if not event.choices:
                    continue
                if event.choices[0].finish_reason:
                    finished = True
                if event.choices[0].delta.content:
                    started = True
                    yield event.choices[0].delta.content
        except (openai.APIError, openai.APIConnectionError) as exc:
            raise StreamCutError(f"the answer stream from {self.base_url} was cut ({type(exc).__name__})") from None
        except Exception as exc:  # httpx transport errors surface raw while iterating a stream
            if started or type(exc).__module__.startswith(("httpx", "httpcore")):
                raise StreamCutError(f"the answer stream from {self.base_url} was cut "
                                     f"({type(exc).__name__})") from None
            raise
        if not finished:  # every server ends a whole answer with a finish_reason; EOF before it is a cut
            raise StreamCutError(f"the answer stream from {self.base_url} ended before the answer did")

    def _open(self, messages: list[Message], max_tokens: int):  # type: ignore[no-untyped-def]
        import openai

        for attempt in range(self.retries + 1):
            try:
                return self._client.chat.completions.create(
                    model=self.model, messages=messages, stream=True, max_tokens=max_tokens,  # type: ignore[arg-type]
                    temperature=0)
            except openai.AuthenticationError:
                raise EngineError(f"{self.base_url} refused the API key (401); set a valid one in "
                                  "OPENAI_API_KEY or RAG_API_KEY") from None
            except openai.NotFoundError:
                raise EngineError(f"{self.base_url} has no model {self.model!r} (404); pick one with "
                                  "--llm-model") from None
            except openai.APITimeoutError:
                raise EngineError(f"{self.base_url} did not answer in time; raise --read-timeout or check "
                                  "the server") from None
            except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as exc:
                if attempt == self.retries:
                    raise EngineError(self._describe(exc)) from None
                time.sleep(self.backoff * 2**attempt)
            except openai.APIStatusError as exc:
                raise EngineError(f"{self.base_url} answered {exc.status_code}; check the endpoint and "
                                  "model") from None
        raise AssertionError("unreachable")

    def _describe(self, exc: Exception) -> str:
        import openai

        if isinstance(exc, openai.APIConnectionError):
            return f"cannot reach {self.base_url}; is the server running? (set OPENAI_BASE_URL or --base-url)"
        status = getattr(exc, "status_code", "?")
        return f"{self.base_url} kept answering {status} after {self.retries + 1} tries; try again later"
