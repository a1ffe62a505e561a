"""`rag ask` and `rag search`: a cited answer, or the ranked passages, for one question."""

from __future__ import annotations

import sys

import click

from index.search import MODES
from rag.cli import context
from rag.config.defaults import MAX_TOP_K
from rag.engines import ENGINES


@click.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: answer, sentences, citations, abstained.")
@click.option("-k", "--top-k", type=click.IntRange(1, MAX_TOP_K), help="Passages to retrieve (default 5).")
@click.option("--mode", type=click.Choice(MODES), help="Retrieval mode.")
@click.option("--min-confidence", type=float, help="Extractive: abstain below this confidence (default: calibrated).")
@click.option("--engine", type=click.Choice(ENGINES),
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
    from rag.conversation import ChatSession
    from rag.present import render
    from rag.present.terminal import SafeStream

    if not question.strip():
        raise click.UsageError("the question is empty")
    assistant, progress = context.assistant(
        ctx, quiet or as_json, top_k=top_k, mode=mode, min_confidence=min_confidence, engine=engine,
        llm_model=llm_model, base_url=base_url, connect_timeout=connect_timeout, read_timeout=read_timeout,
        strict=strict)
    with progress:
        built = assistant.ensure_index()
    if built and not as_json:
        seeds = not assistant.profile.sources  # a first index with no sources named: the default bot's seeds
        click.echo(f"Built the default index from the bundled seeds: {built.chunks} chunks." if seeds else
                   f"Built the index of bot {assistant.profile.name!r} from its sources: {built.chunks} chunks.",
                   err=True)
    session_file = assistant.settings.home / "session.json"
    session = ChatSession.load(session_file) if follow_up else ChatSession()
    # Streamed text goes through the sanitiser piece by piece (an escape cut between two pieces is
    # held back until whole); with --strict, the answerer streams only the sentences that survive.
    streaming = assistant.engine is not None and not (as_json or no_stream)
    stream = SafeStream()
    on_token = (lambda piece: click.echo(stream(piece), nl=False)) if streaming else None
    answer = assistant.ask(question, on_token=on_token, session=session)
    session.save(session_file)
    if as_json:
        context.echo_json(answer.to_json())
        return
    if streaming:
        click.echo(stream.flush() + "\n")
    click.echo(render.answer_text(answer, bold=sys.stdout.isatty(), streamed=streaming))


@click.command()
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
@click.option("-k", "--top-k", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option("--mode", type=click.Choice(MODES), help="Retrieval mode.")
@click.pass_context
def search(ctx: click.Context, query: str, as_json: bool, top_k: int, mode: str | None) -> None:
    """Show the passages ranked for QUERY, with their scores, files and lines."""
    from rag.answer import passage_json
    from rag.present import render

    assistant, _ = context.assistant(ctx, True, mode=mode)
    hits = assistant.search(query, top_k)
    if as_json:
        context.echo_json({"query": query, "hits": [{"rank": i, **passage_json(h)} for i, h in enumerate(hits, 1)]})
    else:
        click.echo(render.hits_text(hits))
