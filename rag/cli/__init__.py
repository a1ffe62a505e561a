"""The `rag` command. It parses flags, builds `Settings` and an `Assistant`, and prints.

Heavy imports (torch, sentence-transformers, FAISS) happen inside commands, so `rag --help` is
instant. Every domain error becomes one line on stderr and an exit code; no traceback reaches
the user.
"""

from __future__ import annotations

import os
import sys

import click

from index.errors import RagError

EPILOG = """\b
Quick start:
  rag ask "Quali chip usa ByteDance?"     answer from the bundled seed article
  rag index build ~/notes "docs/**/*.md"  index your own files instead
  rag search "910B"                       show the ranked passages
  rag eval questions.jsonl                score answers against a question set

All state lives in $RAG_HOME (default ~/.local/share/rag); settings come from
$RAG_HOME/config.toml, then RAG_* environment variables, then flags.
"""


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--home", type=click.Path(file_okay=False), help="Data directory (overrides $RAG_HOME).")
@click.option("--embedding-model", "model",
              help="Embedding model: 'all-MiniLM-L6-v2' (bundled, default) or a sentence-transformers folder.")
@click.option("--embedder", help="Embedding backend name (default sentence-transformers).")
@click.option("-b", "--bot", help="Which bot to use (default: 'default', the seed article); see: rag bot list.")
@click.version_option(package_name="rag")
@click.pass_context
def cli(ctx: click.Context, home: str | None, model: str | None, embedder: str | None, bot: str | None) -> None:
    """Answer questions from your own documents, offline, with citations.

    Documents are split into passages, embedded and stored in a FAISS index plus a BM25 index;
    a question retrieves passages from both and is answered with quotes, each followed by its
    source [n], or with "The documents do not answer this." when the evidence is weak.
    """
    ctx.obj = {"home": home, "model": model, "embedder": embedder, "bot": bot}


def _add_commands() -> None:
    """The commands, one module per group (imported here, so that none imports another)."""
    from rag.cli.ask import ask, search
    from rag.cli.bots import bot
    from rag.cli.eval import eval_cmd
    from rag.cli.index import index
    from rag.cli.mcp import mcp
    from rag.cli.publish import publish
    from rag.cli.serve import serve
    from rag.cli.watch import watch

    for command in (ask, search, index, eval_cmd, bot, serve):
        cli.add_command(command)
    cli.add_command(mcp)  # `rag mcp`
    bot.add_command(publish)  # `rag bot publish` lives in its own module (rag/cli/bots.py is the bot group's)
    index.add_command(watch)  # `rag index watch` lives in its own module


def _add_plugin_commands() -> None:
    """Commands from other packages (`rag chat` from `tui`), found through the `rag.commands`
    entry-point group, so that `rag` itself never imports them: the dependency points tui -> rag.
    A plugin module must be light to import; it imports its heavy parts inside the command."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="rag.commands"):
        if ep.name not in cli.commands:
            try:
                cli.add_command(ep.load(), ep.name)
            except ImportError:  # a plugin whose package is not installed; rag works without it
                continue


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every expected failure into one line and an exit code (made safe
    for the terminal: a message can quote a hostile file name)."""
    from rag.present.terminal import safe_line

    try:
        _add_commands()
        _add_plugin_commands()
        cli.main(args=argv, prog_name="rag", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        hint = f" (see: {ctx.command_path} --help)" if ctx is not None else ""
        click.echo(f"rag: error: {safe_line(exc.format_message())}{hint}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("rag: interrupted", err=True)
        sys.exit(130)
    except RagError as exc:
        from rag.present.fixes import describe

        click.echo(f"rag: error: {safe_line(describe(exc))}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("rag: interrupted", err=True)
        sys.exit(130)
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        click.echo(safe_line(f"rag: error:{where} {exc.strerror or exc}; check the path and its permissions"), err=True)
        sys.exit(1)
    except Exception as exc:  # the last guard at the edge: a bug still gets one line, not a traceback
        if os.environ.get("RAG_DEBUG"):
            raise
        click.echo(safe_line(f"rag: internal error: {type(exc).__name__}: {exc} (rerun with RAG_DEBUG=1 for "
                             "details and report it)"), err=True)
        sys.exit(70)
