"""The OpenAI-compatible routes: `/v1/chat/completions` (streamed or not), `/v1/models`, `/health`.

Citations travel twice: as `[n]` in the text, and as structured data (`citations`, `sentences`,
`abstained`, `support`) in the response, or in the last chunk of a stream. `usage` counts word
pieces with the bot's embedding model's tokenizer: exact for the extractive answerer, whose text is
quoted from the documents that model cut, and an estimate for an LLM's answer (an LLM's own
tokenizer usually cuts Italian and English text into a similar number of pieces, give or take a
fifth).

The body is read against a deadline (408 past it) and a size cap (413, checked on `Content-Length`
before reading); a malformed `Content-Length` never reaches here (uvicorn answers 400 itself).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from sse_starlette import EventSourceResponse
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from index.errors import RagError
from rag.answer import Answer
from rag.server.answering import Job
from rag.server.protocol import ApiError, ChatRequest, chunk, completion, parse_chat

if TYPE_CHECKING:
    from rag.server.service import Service

log = logging.getLogger("rag.server")
CLOSE = {"Connection": "close"}  # the body was not read to its end: the connection cannot carry another request


def service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


def authorise(request: Request) -> None:
    key = service(request).config.api_key
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if key and not hmac.compare_digest(given.encode(), key.encode()):
        raise ApiError(401, "missing or wrong API key", code="invalid_api_key")


async def health(request: Request) -> Response:
    svc = service(request)
    return JSONResponse({"status": "ok", "bots": svc.names, "warming": svc.warming(),
                         "indexed_at": {name: svc.indexed_at(name) for name in svc.names}})


async def models(request: Request) -> Response:
    authorise(request)
    bots = service(request).bots
    return JSONResponse({"object": "list", "data": [
        {"id": name, "object": "model", "created": 0, "owned_by": "rag", "description": bots[name].profile.description}
        for name in service(request).names]})


async def read_body(request: Request, limit: int, deadline_s: float) -> Any:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"request body over {limit} bytes", code="request_too_large", headers=CLOSE)
    body = bytearray()
    try:
        async with asyncio.timeout(deadline_s):
            async for part in request.stream():
                body += part
                if len(body) > limit:
                    raise ApiError(413, f"request body over {limit} bytes", code="request_too_large", headers=CLOSE)
    except TimeoutError:
        raise ApiError(408, f"the request body did not arrive within {deadline_s:g} s", code="timeout",
                       headers=CLOSE) from None
    try:
        return json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the body is not valid JSON") from None


async def chat(request: Request) -> Response:
    svc = service(request)
    authorise(request)
    try:
        body = await read_body(request, svc.config.max_body, svc.config.read_timeout)
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is left to read it
    req = parse_chat(body, svc.names, svc.default)
    job = svc.answering.admit(svc.bots[req.bot], req)
    if req.stream:
        return EventSourceResponse(_stream(svc, req, job), ping=15, sep="\n",
                                   shutdown_grace_period=svc.config.grace_s)
    answering = asyncio.ensure_future(_last(job.events()))
    gone = asyncio.ensure_future(_disconnected(request))
    await asyncio.wait({answering, gone}, return_when=asyncio.FIRST_COMPLETED)
    if not answering.done():
        answering.cancel()
        job.cancel.set()  # an LLM stops at its next token
        log.warning("rag.server: a client left before its answer was ready; the answer was cancelled")
        return Response(status_code=499)
    gone.cancel()
    try:
        answer = answering.result()
    except RagError as exc:
        raise _engine_error(exc) from None
    except Exception as exc:  # the edge: a bug is one log line and a 500 in OpenAI's shape, not a traceback
        raise _internal(exc) from None
    return JSONResponse(completion(req, answer.text, svc.usage(req, answer), svc.extra(req.bot, answer)))


async def _last(events: AsyncIterator[str | Answer]) -> Answer:
    async for item in events:
        if isinstance(item, Answer):
            return item
    raise RuntimeError("the answer's events ended without an answer")


async def _disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _stream(svc: Service, req: ChatRequest, job: Job) -> AsyncIterator[str]:
    yield _data(chunk(req, {"role": "assistant", "content": ""}))
    try:
        async for item in job.events():
            if isinstance(item, str):
                yield _data(chunk(req, {"content": item}))
            else:
                yield _data(chunk(req, {}, "stop", usage=svc.usage(req, item), **svc.extra(req.bot, item)))
    except RagError as exc:
        yield json.dumps(_engine_error(exc).body(), ensure_ascii=False)
    except Exception as exc:  # the edge, as above
        yield json.dumps(_internal(exc).body(), ensure_ascii=False)
    except asyncio.CancelledError:
        log.warning("rag.server: a client left during a streamed answer; the answer was cancelled")
        raise
    finally:
        job.cancel.set()
    yield "[DONE]"


def _data(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


def _engine_error(exc: RagError) -> ApiError:
    from rag.engines import EngineError

    if isinstance(exc, EngineError):
        return ApiError(502, str(exc), "engine_error", "engine_error")
    return ApiError(503, str(exc), "server_error", type(exc).__name__)


def _internal(exc: Exception) -> ApiError:
    log.error("rag.server: internal error: %s: %s", type(exc).__name__, exc)
    return ApiError(500, f"internal error: {type(exc).__name__}: {exc}", "server_error", "internal_error")


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), exc.status, headers=exc.headers)
