"""`rag bot publish NAME`: what a person needs to publish a bot: the widget snippet, the chat page, a
curl and a Python `openai` example, and the MCP client configuration. It prints; it starts nothing."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from rag.cli import context


def publication(name: str, url: str, home: Path, needs_key: bool) -> dict[str, Any]:
    auth = ' -H "Authorization: Bearer $RAG_SERVE_API_KEY"' if needs_key else ""
    key = 'os.environ["RAG_SERVE_API_KEY"]' if needs_key else '"none"'
    rag = shutil.which("rag") or str(Path(sys.executable).parent / "rag")
    where = urlsplit(url)
    serve = f"rag --bot {name} serve"
    # https: a proxy in front terminates TLS and forwards to rag on loopback:8000, so nothing to add
    if where.scheme == "http" and where.hostname not in ("127.0.0.1", "localhost", "::1", None):
        serve += " --host 0.0.0.0"  # reached from elsewhere: listen beyond loopback
    if where.scheme == "http" and (where.port or 80) != 8000:
        serve += f" --port {where.port or 80}"
    if needs_key:
        serve += ' --api-key "$RAG_SERVE_API_KEY"'
    return {
        "bot": name, "page": f"{url}/bots/{name}", "api": f"{url}/v1",
        "serve": serve + " --allow-origin https://your.site",
        "widget": f'<script src="{url}/widget.js" data-bot="{name}"></script>',
        "curl": f"curl {url}/v1/chat/completions{auth} -H 'Content-Type: application/json' "
                f"-d '{{\"model\": \"{name}\", \"messages\": [{{\"role\": \"user\", \"content\": \"...\"}}]}}'",
        "python": "\n".join([*(["import os"] if needs_key else []), "from openai import OpenAI", "",
                             f'client = OpenAI(base_url="{url}/v1", api_key={key})',
                             f'reply = client.chat.completions.create(model="{name}", '
                             'messages=[{"role": "user", "content": "..."}])',
                             "print(reply.choices[0].message.content)",
                             'print(reply.model_extra["citations"])  # path, lines, quote of each [n]']),
        "mcp": {"mcpServers": {f"rag-{name}": {"command": rag, "args": ["mcp", "--bot", name],
                                                "env": {"RAG_HOME": str(home)}}}},
    }


@click.command("publish")
@click.argument("name")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True,
              help="Where `rag serve` will be reached (its public address if behind a proxy).")
@click.option("--api-key/--no-api-key", "needs_key", default=None,
              help="Whether the server needs a key [default: yes when $RAG_SERVE_API_KEY is set].")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def publish(ctx: click.Context, name: str, url: str, needs_key: bool | None, as_json: bool) -> None:
    """Print how to publish bot NAME: web page, widget, API and MCP."""
    import os

    from rag.config.bots import BotStore
    from rag.config.settings import bundled_seeds

    settings = context.settings(ctx, bot=name)
    BotStore(settings.home, bundled_seeds()).load(name)  # a one-line error for a bot that does not exist
    key = bool(os.environ.get("RAG_SERVE_API_KEY")) if needs_key is None else needs_key
    info = publication(name, url.rstrip("/"), settings.home, key)
    if as_json:
        context.echo_json(info)
        return
    click.echo(f"""Publish bot {name!r}.

1. Start the server (then the chat page is {info['page']}):
   {info['serve']}

2. Add the chat bubble to a website (its origin goes in --allow-origin):
   {info['widget']}

3. Call the OpenAI-compatible API ({info['api']}):
   {info['curl']}

   From Python:
{_indent(info['python'], 5)}

4. Use it from an MCP client (Claude Desktop, editors): add to the client's configuration
{_indent(json.dumps(info['mcp'], indent=2), 5)}
""")


def _indent(text: str, n: int) -> str:
    return "\n".join(" " * n + line if line else "" for line in text.splitlines())
