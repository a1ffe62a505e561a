"""What every command shares: settings from the group's flags, an `Assistant` with a progress display,
JSON output. A leaf: it imports no command, so command modules import it and never each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def settings(ctx: click.Context, **overrides: Any):  # type: ignore[no-untyped-def]
    from rag.config.settings import Settings

    return Settings.load(**{**ctx.obj, **overrides})


def progress_factory(quiet: bool):  # type: ignore[no-untyped-def]
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


def assistant(ctx: click.Context, quiet: bool = False, wait: bool = False,  # type: ignore[no-untyped-def]
               **overrides: Any):
    from rag.assistant import Assistant
    from rag.present.terminal import safe_line

    progress, factory = progress_factory(quiet)

    def waiting(holder: str) -> None:
        click.echo(f"rag: waiting for the index: it is being written by {safe_line(holder)}", err=True)

    def stopping(message: str) -> None:  # a Ctrl-C during a build: it stops once the batch is saved
        click.echo(f"rag: {message}", err=True)

    return Assistant(settings(ctx, **overrides), progress=factory, wait=wait, on_wait=waiting,
                     on_interrupt=stopping), progress


def echo_json(data: Any) -> None:
    from rag.present.terminal import json_text

    click.echo(json_text(data))
