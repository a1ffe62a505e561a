"""`rag mcp`: a bot as an MCP server over stdio (tools `search` and `ask`; the server is `rag.server.mcp`)."""

from __future__ import annotations

import click

from rag.cli import context


@click.command("mcp")
@click.option("-b", "--bot", "bot_name", help="Which bot (default: the group's --bot, else 'default').")
@click.pass_context
def mcp(ctx: click.Context, bot_name: str | None) -> None:
    """Serve a bot to MCP clients (desktop assistants, editors) over stdio.

    \b
    Tools: search (ranked passages with file, lines and scores) and ask (a cited answer, or an
    abstention with the nearest passages). `rag bot publish NAME` prints the client configuration.
    """
    from rag.server.mcp import make_mcp

    # quiet: stdout carries the protocol
    assistant, progress = context.assistant(ctx, True, bot=bot_name) if bot_name else context.assistant(ctx, True)
    with progress:
        assistant.ensure_index()
    assistant.warm_up()
    make_mcp(assistant).run("stdio")
