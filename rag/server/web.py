"""The channel people see: `/` lists the bots, `/bots/NAME` is a chat page, `/widget.js` a chat bubble
for any website.

The pages are plain HTML shells; `static/chat.js` (no framework, no build step) talks to the same
`/v1/chat/completions` any client uses, streamed. A bot's welcome, suggested questions and whether
an API key is needed travel in the page as JSON data (not script). Everything is served from the
package: no CDN, nothing fetched from elsewhere. The Content-Security-Policy allows only this
server's own scripts and styles; pages may be framed (the widget) by the `--allow-origin` origins,
or by any page when none is given.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

if TYPE_CHECKING:
    from rag.server.service import Service

STATIC = Path(__file__).parent / "static"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="stylesheet" href="/static/chat.css"><script src="/static/theme.js"></script></head>
<body class="{body_class}">{body}</body></html>"""


def _service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


def _headers(service: Service) -> dict[str, str]:
    policy = "default-src 'self'; img-src 'self' data:"
    if service.config.allow_origins:  # none listed: any page may frame it (a file:// page too, which `*` misses)
        policy += "; frame-ancestors " + " ".join(("'self'", *service.config.allow_origins))
    return {"Content-Security-Policy": policy,
            "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}


async def index(request: Request) -> Response:
    service = _service(request)
    items = "".join(f'<li><a href="/bots/{html.escape(name)}">{html.escape(name)}</a>'
                    f"<p>{html.escape(service.bots[name].profile.description)}</p></li>" for name in service.names)
    body = (f'<header class="top"><h1>Bots</h1>{_theme_button()}</header>'
            f'<main class="bots"><ul class="bot-list">{items}</ul></main>')
    return HTMLResponse(PAGE.format(title="rag: bots", body_class="list", body=body), headers=_headers(service))


async def bot_page(request: Request) -> Response:
    service, name = _service(request), request.path_params["name"]
    if name not in service.bots:
        raise HTTPException(404, f"no bot {name!r}")
    profile = service.bots[name].profile
    data = {"name": name, "description": profile.description, "welcome": profile.welcome,
            "suggested": list(profile.suggested_questions), "needsKey": bool(service.config.api_key),
            "bots": service.names, "indexedAt": service.indexed_at(name)}
    # JSON in a non-script block; "</" escaped so that no text of a profile can close the element
    blob = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    embed = request.query_params.get("embed") == "1"
    body = (f'<script type="application/json" id="bot">{blob}</script>'
            '<div id="app"></div><script src="/static/chat.js"></script>')
    return HTMLResponse(PAGE.format(title=f"{html.escape(name)}: chat", body=body,
                                    body_class="chat embed" if embed else "chat"), headers=_headers(service))


async def widget(request: Request) -> Response:
    return FileResponse(STATIC / "widget.js", media_type="text/javascript",
                        headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"})


def _theme_button() -> str:
    return '<button type="button" class="theme" id="theme" aria-label="Switch light and dark">◐</button>'


def routes() -> list[BaseRoute]:
    return [Route("/", index), Route("/bots/{name}", bot_page), Route("/widget.js", widget),
            Mount("/static", StaticFiles(directory=STATIC), name="static")]
