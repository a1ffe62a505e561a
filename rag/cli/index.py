"""`rag index build | update | info`: make, refresh and inspect a bot's index."""

from __future__ import annotations

import json
from typing import Any

import click

from rag.cli import context


@click.group()
def index() -> None:
    """Build, update and inspect the index."""


@index.command("build")
@click.argument("paths", nargs=-1)
@click.option("--chunk-size", type=int, help="Chunk size in model tokens (default 254: all the default model reads).")
@click.option("--chunk-overlap", type=int, help="Overlap between chunks in tokens (default 50).")
@click.option("--max-file-mb", type=click.FloatRange(0, min_open=True),
              help="Skip files larger than this (default 50).")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.option("--wait", is_flag=True, help="If another build or update is running, wait for it instead of failing.")
@click.option("--ray", "ray_address", is_flag=False, flag_value="auto", metavar="[ADDRESS]",
              help="Embed on Ray (pip install 'rag[ray]'): alone or 'auto', a Ray runtime started here ($RAY_ADDRESS "
                   "if set); HOST:PORT, the head of a running cluster. Put it after PATHS, or --ray=ADDRESS.")
@click.option("--ray-workers", "workers", type=click.IntRange(0), default=0,
              help="With --ray: actors embedding at once (default: as many as the cluster's CPUs or GPUs hold).")
@click.option("--ray-cpus", "cpus", type=click.FloatRange(0, min_open=True), default=1.0,
              help="With --ray: CPUs per actor (default 1).")
@click.option("--ray-gpus", "gpus", type=click.FloatRange(0), default=0.0,
              help="With --ray: GPUs per actor; above 0, the model runs on CUDA (default 0).")
@click.option("--ray-batch-size", "batch_size", type=click.IntRange(1), default=None,
              help="With --ray: texts per batch, each saved for a resume as it arrives (default 128).")
@click.option("--ray-runtime-env", "runtime_env", metavar="JSON",
              help="With --ray: Ray's runtime environment for the workers, e.g. '{\"pip\": [\"rag[ray]\"]}'.")
@click.pass_context
def index_build(ctx: click.Context, paths: tuple[str, ...], chunk_size: int | None, chunk_overlap: int | None,
                max_file_mb: float | None, as_json: bool, quiet: bool, wait: bool, ray_address: str | None,
                **ray: Any) -> None:
    """Index PATHS (files, folders, globs) from scratch, replacing the current index.

    With no PATHS, the bot's own sources: those of its profile, else those its index (or an
    interrupted build, which this resumes) recorded; the bundled seeds only for the default bot
    before it has ever had an index.

    Supported: .txt .md .html .pdf .docx .pptx .xlsx .odt .epub. Hidden folders are skipped;
    unreadable, binary, empty or oversized files are skipped with a reason listed at the end. The
    old index stays in use until the new one is complete.

    Passages are embedded by the index's model; then each distinct word once by the multilingual
    encoder (the "words" bar), so that answers match a question's words by meaning too
    ("iniziato" / "cominciato"). `multilingual = false` in config.toml (or RAG_MULTILINGUAL=false)
    skips that step.
    """
    from rag.present import render

    assistant, progress = context.assistant(ctx, quiet or as_json, wait, chunk_size=chunk_size,
                                            chunk_overlap=chunk_overlap, max_file_mb=max_file_mb)
    cluster = _ray_options(ray_address, **ray) if ray_address is not None else None
    with progress:
        report = assistant.build(list(paths) or None, cluster)
    click.echo(json.dumps(render.report_json(report), indent=2) if as_json else render.report_text(report))


def _ray_options(address: str, workers: int, cpus: float, gpus: float, batch_size: int | None,
                 runtime_env: str | None):  # type: ignore[no-untyped-def]
    """--ray's options as `RayOptions`; a path taken for the address is told apart from a bad address."""
    from pathlib import Path

    from index.embed.distributed import ADDRESS, RayOptions

    if address not in ("auto", "local") and not ADDRESS.match(address) and Path(address).exists():
        raise click.UsageError(f"--ray took {address!r} for its address: put PATHS before --ray, or write "
                               "--ray=ADDRESS")
    try:
        env = json.loads(runtime_env) if runtime_env else {}
    except ValueError as exc:
        raise click.BadParameter(f"not JSON ({exc})", param_hint="--ray-runtime-env") from exc
    if not isinstance(env, dict):
        raise click.BadParameter("give a JSON object, e.g. '{\"pip\": [\"rag[ray]\"]}'",
                                 param_hint="--ray-runtime-env")
    return RayOptions(address=address, workers=workers, cpus=cpus, gpus=gpus, batch_size=batch_size or 0,
                      runtime_env=env)


@index.command("update")
@click.option("--json", "as_json", is_flag=True, help="Print the update report as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.option("--wait", is_flag=True, help="If another build or update is running, wait for it instead of failing.")
@click.pass_context
def index_update(ctx: click.Context, as_json: bool, quiet: bool, wait: bool) -> None:
    """Rescan the paths of the last build; re-embed only new or changed files, drop deleted ones."""
    from rag.present import render

    assistant, progress = context.assistant(ctx, quiet or as_json, wait)
    with progress:
        report = assistant.update()
    click.echo(json.dumps(render.report_json(report), indent=2) if as_json else
               render.report_text(report, verb="Updated"))


@index.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def index_info(ctx: click.Context, as_json: bool) -> None:
    """Show sources, chunk count, model, size on disk and last build of the index.

    A damaged index still shows where it is and the sources it was built from (exit code 5), so
    that it can be rebuilt from them.
    """
    from index.builder import missing, recorded_sources
    from index.errors import IndexCorruptError
    from rag.assistant import Assistant
    from rag.present import render

    assistant = Assistant(context.settings(ctx))
    root = assistant.store.root
    try:
        summary = assistant.summary()
    except IndexCorruptError as exc:
        sources = recorded_sources(assistant.store) or []
        if as_json:
            context.echo_json({"location": str(root), "damaged": str(exc), "sources": sources})
        else:
            click.echo(render.damaged_text(str(root), sources))
        raise
    if summary is None:
        raise missing(assistant.store)
    if as_json:
        context.echo_json(summary.to_json())
    else:
        click.echo(render.summary_text(summary))
