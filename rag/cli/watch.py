"""`rag index watch`: keep a bot's index in step with its sources until Ctrl+C (the watching is `rag.watch`)."""

from __future__ import annotations

import click

from rag.cli import context


@click.command("watch")
@click.option("-b", "--bot", help="Which bot's index to keep current (default: the one `rag --bot` names).")
@click.pass_context
def watch(ctx: click.Context, bot: str | None) -> None:
    """Watch the index's sources and update it after each burst of changes, until Ctrl+C.

    Created, modified, deleted and renamed files become incremental updates (only chunks whose text
    is new are embedded), each atomic: questions meanwhile are answered from the previous index. One
    line per update: files changed, chunks embedded, seconds. A bot with no index yet is built first.
    `rag chat` and `rag serve --watch` use each new index from their next question.
    """
    import signal
    import threading

    from rag.watch import Watcher, WatchEvent

    assistant, progress = context.assistant(ctx, True, True, **({"bot": bot} if bot else {}))
    with progress:
        built = assistant.ensure_index()
    if built is not None:
        click.echo(f"Built the index: {built.files_indexed} file(s), {built.chunks} chunks, {built.seconds:.1f} s.")
    stop = threading.Event()

    def show(event: WatchEvent) -> None:
        click.echo(event.line())

    def ready(folders: list[str]) -> None:
        click.echo(f"Watching {len(folders)} folder(s) for bot {assistant.settings.bot!r}: {' '.join(folders)}; "
                   "Ctrl+C stops.", err=True)

    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    Watcher(assistant, show, stop).run(on_ready=ready)
    click.echo("Stopped watching.", err=True)
