"""The `rag` command. It parses flags, builds `Settings` and an `Assistant`, and prints.

Heavy imports (torch, sentence-transformers, FAISS) happen inside commands, so `rag --help` is
instant. Every domain error becomes one line on stderr and an exit code; no traceback reaches
the user.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

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


def _settings(ctx: click.Context, **overrides: Any):  # type: ignore[no-untyped-def]
    from rag.settings import Settings

    return Settings.load(**{**ctx.obj, **overrides})


def _progress_factory(quiet: bool):  # type: ignore[no-untyped-def]
    """A rich progress display on stderr; one bar per stage, with items per second."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task):  # type: ignore[no-untyped-def]
            return Text(f"{task.speed:7.1f}/s" if task.speed else "      -/s")

    progress = Progress(TextColumn("{task.description:>10}"), BarColumn(), MofNCompleteColumn(), Rate(),
                        TimeRemainingColumn(), console=Console(stderr=True), disable=quiet, transient=False)

    def factory(label: str, total: int) -> Callable[[int], None]:
        if not progress.live.is_started:
            progress.start()
        task = progress.add_task(label, total=total)
        return lambda n: progress.advance(task, n)

    class Display:
        """Stops the display on exit, if a stage ever started it (so a quiet run prints nothing)."""

        def __enter__(self) -> None:
            return None

        def __exit__(self, *exc: object) -> None:
            if progress.live.is_started:
                progress.stop()

    return Display(), factory


def _assistant(ctx: click.Context, quiet: bool = False, wait: bool = False,  # type: ignore[no-untyped-def]
               **overrides: Any):
    from rag.assistant import Assistant

    progress, factory = _progress_factory(quiet)
    return Assistant(_settings(ctx, **overrides), progress=factory, wait=wait), progress


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


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


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: answer, sentences, citations, abstained.")
@click.option("-k", "--top-k", type=click.IntRange(1, 50), help="Passages to retrieve (default 5).")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "lexical"]), help="Retrieval mode.")
@click.option("--min-confidence", type=float, help="Extractive: abstain below this confidence (default: calibrated).")
@click.option("--engine", type=click.Choice(["extractive", "openai", "local", "fake"]),
              help="Who writes the answer: extractive (default, no LLM), openai (any OpenAI-compatible server), "
                   "local (a GGUF model via llama-cpp-python), fake (tests).")
@click.option("--model", "llm_model", help="openai: the model name; local: a .gguf path (default SmolLM2-135M).")
@click.option("--base-url", help="OpenAI-compatible endpoint (default $OPENAI_BASE_URL or OpenAI's).")
@click.option("--connect-timeout", type=float, help="Seconds to wait for the endpoint to accept (default 5).")
@click.option("--read-timeout", type=float, help="Seconds to wait for the endpoint's answer (default 60).")
@click.option("--strict", is_flag=True, default=None, help="Drop generated sentences their sources do not support.")
@click.option("--no-stream", is_flag=True, help="Print the answer when it is complete instead of token by token.")
@click.option("-c", "--continue", "follow_up", is_flag=True,
              help="Treat QUESTION as a follow-up of the previous `rag ask --continue` conversation.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.pass_context
def ask(ctx: click.Context, question: str, as_json: bool, top_k: int | None, mode: str | None,
        min_confidence: float | None, engine: str | None, llm_model: str | None, base_url: str | None,
        connect_timeout: float | None, read_timeout: float | None, strict: bool | None, no_stream: bool,
        follow_up: bool, quiet: bool) -> None:
    """Answer QUESTION from the indexed documents, with citations.

    With no index yet, the bundled seed article is indexed first. Generated answers (--engine
    openai|local) stream as they are written, then every sentence is checked against the
    passages it cites and marked supported, partial or unsupported. Exit code 0 for an answer
    and for an abstention ("abstained": true in --json); non-zero with a one-line message on errors.
    """
    from rag import render
    from rag.chat import ChatSession

    if not question.strip():
        raise click.UsageError("the question is empty")
    assistant, progress = _assistant(
        ctx, quiet or as_json, top_k=top_k, mode=mode, min_confidence=min_confidence, engine=engine,
        llm_model=llm_model, base_url=base_url, connect_timeout=connect_timeout, read_timeout=read_timeout,
        strict=strict)
    with progress:
        built = assistant.ensure_index()
    if built and not as_json:
        click.echo(f"Built the default index from the bundled seeds: {built.chunks} chunks.", err=True)
    session_file = assistant.settings.home / "session.json"
    session = ChatSession.load(session_file) if follow_up else ChatSession()
    streaming = assistant.engine is not None and not (as_json or no_stream)
    on_token = (lambda piece: click.echo(render.safe(piece), nl=False)) if streaming else None
    answer = assistant.ask(question, on_token=on_token, session=session)
    session.save(session_file)
    if as_json:
        _echo_json(answer.to_json())
        return
    if streaming:
        click.echo("\n")
    click.echo(render.answer_text(answer, bold=sys.stdout.isatty(), streamed=streaming))


@cli.command()
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
@click.option("-k", "--top-k", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option("--mode", type=click.Choice(["hybrid", "dense", "lexical"]), help="Retrieval mode.")
@click.pass_context
def search(ctx: click.Context, query: str, as_json: bool, top_k: int, mode: str | None) -> None:
    """Show the passages ranked for QUERY, with their scores, files and lines."""
    from rag import render

    assistant, _ = _assistant(ctx, True, mode=mode)
    hits = assistant.search(query, top_k)
    if as_json:
        _echo_json({"query": query, "hits": [render.hit_json(h, i) for i, h in enumerate(hits, 1)]})
    else:
        click.echo(render.hits_text(hits))


@cli.group()
def index() -> None:
    """Build, update and inspect the index."""


@index.command("build")
@click.argument("paths", nargs=-1)
@click.option("--chunk-size", type=int, help="Chunk size in model tokens (default 254: all the default model reads).")
@click.option("--chunk-overlap", type=int, help="Overlap between chunks in tokens (default 50).")
@click.option("--max-file-mb", type=float, help="Skip files larger than this (default 50).")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.option("--wait", is_flag=True, help="If another build or update is running, wait for it instead of failing.")
@click.pass_context
def index_build(ctx: click.Context, paths: tuple[str, ...], chunk_size: int | None, chunk_overlap: int | None,
                max_file_mb: float | None, as_json: bool, quiet: bool, wait: bool) -> None:
    """Index PATHS (files, folders, globs) from scratch, replacing the current index.

    With no PATHS, the bot's own sources (its profile) are indexed.

    Supported: .txt .md .html .pdf. Hidden folders are skipped; unreadable, binary, empty or
    oversized files are skipped with a reason listed at the end. The old index stays in use
    until the new one is complete.
    """
    from rag import render

    assistant, progress = _assistant(ctx, quiet or as_json, wait, chunk_size=chunk_size,
                                     chunk_overlap=chunk_overlap, max_file_mb=max_file_mb)
    with progress:
        report = assistant.build(list(paths) or assistant.sources())
    click.echo(json.dumps(render.report_json(report), indent=2) if as_json else render.report_text(report))


@index.command("update")
@click.option("--json", "as_json", is_flag=True, help="Print the update report as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.option("--wait", is_flag=True, help="If another build or update is running, wait for it instead of failing.")
@click.pass_context
def index_update(ctx: click.Context, as_json: bool, quiet: bool, wait: bool) -> None:
    """Rescan the paths of the last build; re-embed only new or changed files, drop deleted ones."""
    from rag import render

    assistant, progress = _assistant(ctx, quiet or as_json, wait)
    with progress:
        report = assistant.update()
    click.echo(json.dumps(render.report_json(report), indent=2) if as_json else
               render.report_text(report, verb="Updated"))


@index.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def index_info(ctx: click.Context, as_json: bool) -> None:
    """Show sources, chunk count, model, size on disk and last build of the index."""
    from rag.inspect import index_info as info
    from rag.inspect import info_text

    data = info(_settings(ctx))
    click.echo(json.dumps(data, indent=2, ensure_ascii=False) if as_json else info_text(data))


@cli.command("eval")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write one JSON line per question.")
@click.option("-k", "--top-k", type=click.IntRange(1, 50), help="Passages to retrieve (default 5).")
@click.option("--limit", type=click.IntRange(1), help="Only the first N questions.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def eval_cmd(ctx: click.Context, file: str, as_json: bool, out: str | None, top_k: int | None,
             limit: int | None, quiet: bool) -> None:
    """Score the answers to a question set (JSON Lines, the format of shared/eval) on the current index."""
    from rag.evaluate import evaluate, load_questions, summary_text

    questions = load_questions(file)[:limit]
    assistant, progress = _assistant(ctx, quiet or as_json, top_k=top_k)
    with progress:
        assistant.ensure_index()
        result = evaluate(assistant, questions, out, progress=assistant.progress)
    click.echo(json.dumps(result, indent=2) if as_json else summary_text(result))


def _add_builtin_groups() -> None:
    """Command groups kept in their own modules, so this one stays about the core commands."""
    from rag.cli_bots import bot
    from rag.serve import serve

    cli.add_command(bot)
    cli.add_command(serve)


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
    """Entry point: run the CLI, turning every expected failure into one line and an exit code."""
    try:
        _add_builtin_groups()
        _add_plugin_commands()
        cli.main(args=argv, prog_name="rag", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        hint = f" (see: {ctx.command_path} --help)" if ctx is not None else ""
        click.echo(f"rag: error: {exc.format_message()}{hint}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("rag: interrupted", err=True)
        sys.exit(130)
    except RagError as exc:
        click.echo(f"rag: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("rag: interrupted", err=True)
        sys.exit(130)
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        click.echo(f"rag: error:{where} {exc.strerror or exc}; check the path and its permissions", err=True)
        sys.exit(1)
    except Exception as exc:  # the last guard at the edge: a bug still gets one line, not a traceback
        if os.environ.get("RAG_DEBUG"):
            raise
        click.echo(f"rag: internal error: {type(exc).__name__}: {exc} (rerun with RAG_DEBUG=1 for details "
                   "and report it)", err=True)
        sys.exit(70)
