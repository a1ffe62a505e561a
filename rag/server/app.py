"""The ASGI app that publishes bots: the OpenAI-compatible API, the web chat page and the widget.

`make_app(service)` builds a Starlette app around a `Service` (the bots, one `Answering` pool, the
`ServerConfig`); tests run it in uvicorn on 127.0.0.1 in a thread. `from_environment` builds the
same app from a JSON spec in `$RAG_SERVE_SPEC`: it is the factory each `rag serve --workers N`
process imports, so that every worker opens the bots itself (generations are read-only files; each
worker's `Assistant` re-opens the current one per question, so a rebuild reaches every worker).
No click here: `rag.cli.serve` starts it.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rag.server import api, web
from rag.server.protocol import ApiError
from rag.server.service import ServerConfig, Service

SPEC_ENV = "RAG_SERVE_SPEC"


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    hint = "; try /, /bots/NAME, /v1/chat/completions, /v1/models or /health" if exc.status_code == 404 else ""
    return JSONResponse(ApiError(exc.status_code, f"{exc.detail}: {request.method} {request.url.path}{hint}").body(),
                        exc.status_code, headers=getattr(exc, "headers", None))


def make_app(service: Service) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service.start()
        yield
        service.close()

    middleware = [Middleware(CORSMiddleware, allow_origins=list(service.config.allow_origins),
                             allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"],
                             max_age=600)] if service.config.allow_origins else []
    routes = [Route("/health", api.health), Route("/v1/models", api.models),
              Route("/v1/chat/completions", api.chat, methods=["POST"]), *web.routes()]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={ApiError: api.api_error, HTTPException: _http_error})
    app.state.service = service
    return app


# ---- the worker processes' factory -------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    """Everything a worker process needs to build the same app: the CLI's settings and the bots."""

    settings: dict[str, Any]  # Settings.load overrides: home, model, embedder
    bots: list[str]
    default: str
    config: ServerConfig = field(default_factory=ServerConfig)
    workers: int = 1

    def dumps(self) -> str:
        return json.dumps(asdict(self))


def build_service(spec: Spec) -> Service:
    from index.embed import make_embedder
    from rag.assistant import Assistant
    from rag.config.settings import Settings
    from rag.server.vectors import CachedEmbedder

    bots = {}
    for name in spec.bots:
        settings = Settings.load(**{**spec.settings, "bot": name})
        bots[name] = Assistant(settings, embedder=CachedEmbedder(make_embedder(settings.embedder, settings.model)))
    for assistant in bots.values():
        assistant.warm_up()  # the model loads before the first request, not during it
    return Service(bots, spec.default, spec.config, warm=True)


def from_environment() -> Starlette:
    raw = json.loads(os.environ[SPEC_ENV])
    raw["config"]["allow_origins"] = tuple(raw["config"]["allow_origins"])
    spec = Spec(raw["settings"], raw["bots"], raw["default"], ServerConfig(**raw["config"]), raw["workers"])
    # N processes share the cores: each one's NumPy/BLAS gets its share, not all of them (oversubscribed,
    # they slowed each other down)
    from threadpoolctl import threadpool_limits

    threadpool_limits(max(1, (os.cpu_count() or 1) // spec.workers))
    return make_app(build_service(spec))
