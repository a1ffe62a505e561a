"""`rag serve`: a bot behind an OpenAI-compatible HTTP API (the app itself is `rag.server.app`)."""

from __future__ import annotations

import click

from rag.cli import context
from rag.server.app import MAX_CONCURRENT


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (0.0.0.0 exposes it).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--api-key", envvar="RAG_SERVE_API_KEY", help="Require this bearer key (or $RAG_SERVE_API_KEY).")
@click.option("--max-concurrent", default=MAX_CONCURRENT, show_default=True, type=click.IntRange(1, 64),
              help="Answers in progress at once; more get 429.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, api_key: str | None, max_concurrent: int) -> None:
    """Serve a bot (--bot, default 'default') over an OpenAI-compatible API.

    \b
    Then, from any OpenAI client:
      OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="...").chat.completions.create(
          model="default", messages=[{"role": "user", "content": "Che cos'è Coze?"}])
    """
    from rag.server.app import BotServer

    assistant, progress = context.assistant(ctx, False)
    with progress:
        assistant.ensure_index()
    assistant.warm_up()  # load the model before the first request, not during it
    name = assistant.settings.bot
    server = BotServer((host, port), {name: assistant}, name, api_key or "", max_concurrent)
    click.echo(f"Serving bot {name!r} on http://{host}:{server.server_address[1]}/v1"
               + (" (API key required)" if api_key else "") + "; Ctrl+C stops.", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)
    finally:
        server.server_close()
