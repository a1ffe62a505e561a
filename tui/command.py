"""`rag chat`: opens the terminal chat. Light to import: Textual and the models load inside the command,
so `rag --help` stays instant."""

from __future__ import annotations

import click

from rag.config.defaults import MAX_TOP_K, MODES
from rag.engines import ENGINES  # a tuple of names; the engines themselves load only when made


@click.command()
@click.option("-k", "--top-k", type=click.IntRange(1, MAX_TOP_K), help="Passages to retrieve per question (default 5).")
@click.option("--mode", type=click.Choice(MODES), help="Retrieval mode.")
@click.option("--engine", type=click.Choice(ENGINES),
              help="Answer engine (default: the configured one, else extractive); Ctrl+P switches it.")
@click.pass_context
def chat(ctx: click.Context, top_k: int | None, mode: str | None, engine: str | None) -> None:
    """Chat with your documents in the terminal (Textual): answers stream in with citations [n];
    pick one to see the passage. Ctrl+P opens the command palette, Ctrl+Q quits."""
    from rag.config.settings import Settings
    from tui.app import make_app

    # The group's --home, --model, --embedder and --bot, then this command's flags; the app keeps
    # them so that a bot switched to from the palette still honours them.
    overrides = {**(ctx.obj or {}), "top_k": top_k, "mode": mode, "engine": engine}
    make_app(Settings.load(**overrides), overrides=overrides).run()
