"""`rag eval`: score the answers to a question set on the current index."""

from __future__ import annotations

import json

import click

from rag.cli import context
from rag.config.defaults import MAX_TOP_K


@click.command("eval")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write one JSON line per question (checked first).")
@click.option("-k", "--top-k", type=click.IntRange(1, MAX_TOP_K), help="Passages to retrieve (default 5).")
@click.option("--limit", type=click.IntRange(1), help="Only the first N questions.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def eval_cmd(ctx: click.Context, file: str, as_json: bool, out: str | None, top_k: int | None,
             limit: int | None, quiet: bool) -> None:
    """Score the answers to a question set (JSON Lines, the format of shared/eval) on the current index.

    An answer is right only if it is not an abstention; a generated answer none of whose sentences
    the sources support counts as an abstention. --out is opened before the first question.
    """
    from contextlib import nullcontext

    from rag.evaluate import RowsFile, evaluate, load_questions, summary_text

    questions = load_questions(file)[:limit]
    rows = RowsFile(out) if out else nullcontext(None)
    assistant, progress = context.assistant(ctx, quiet or as_json, top_k=top_k)
    with rows as fh, progress:
        assistant.ensure_index()
        result = evaluate(assistant, questions, fh, progress=assistant.progress)
    click.echo(json.dumps(result, indent=2) if as_json else summary_text(result))
