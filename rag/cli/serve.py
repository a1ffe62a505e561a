"""`rag serve`: publish bots over HTTP: the OpenAI-compatible API, the chat page and the widget (the
app itself is `rag.server`)."""

from __future__ import annotations

import click

from rag.cli import context


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (0.0.0.0 exposes it).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--api-key", envvar="RAG_SERVE_API_KEY", help="Require this bearer key (or $RAG_SERVE_API_KEY).")
@click.option("--max-concurrent", default=16, show_default=True, type=click.IntRange(1, 1024),
              help="Answers in progress (running or waiting) per process; more get 429 with Retry-After.")
@click.option("--threads", default=0, type=click.IntRange(0, 64),
              help="Answers computed at once per process [default: one per core].")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes sharing the port and the index.")
@click.option("--allow-origin", "origins", multiple=True, metavar="ORIGIN",
              help="A web origin (https://example.org) whose pages may call the API and embed the widget; repeat.")
@click.option("--all", "all_bots", is_flag=True, help="Serve every bot (the --bot one answers requests naming none).")
@click.option("--watch", is_flag=True,
              help="Keep each served bot's index in step with its sources (as `rag index watch`), one line per update.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, api_key: str | None, max_concurrent: int, threads: int,
          workers: int, origins: tuple[str, ...], all_bots: bool, watch: bool) -> None:
    """Serve a bot (--bot, default 'default'): chat page at /, API at /v1.

    \b
    Then open http://127.0.0.1:8000/ in a browser, or from any OpenAI client:
      OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="...").chat.completions.create(
          model="default", messages=[{"role": "user", "content": "Che cos'è Coze?"}])
    `rag bot publish NAME` prints the widget snippet and more.
    """
    import os
    import signal

    from rag.config.bots import BotStore
    from rag.config.settings import bundled_seeds
    from rag.server.app import SPEC_ENV, Spec, build_service, make_app
    from rag.server.run import LOOPBACK, bind
    from rag.server.run import serve as run_server
    from rag.server.service import ServerConfig

    first, progress = context.assistant(ctx, False)
    default = first.settings.bot
    names = BotStore(first.settings.home, bundled_seeds()).names() if all_bots else [default]
    with progress:
        for name in names:  # build what has no index yet, once, before any worker starts
            bot, _ = context.assistant(ctx, True, bot=name) if name != default else (first, None)
            bot.ensure_index()
    sock = bind(host, port)  # before any warning: a port in use is exactly one line
    if host not in LOOPBACK and not api_key:
        click.echo(f"rag: warning: serving on {host} without an API key: anyone who can reach this address can "
                   "ask the bots; pass --api-key or set RAG_SERVE_API_KEY", err=True)
    config = ServerConfig(api_key=api_key or "", max_concurrent=max_concurrent, threads=threads,
                          allow_origins=tuple(origins))
    spec = Spec({k: ctx.obj[k] for k in ("home", "model", "embedder")}, names, default, config, workers)
    app: object
    if workers == 1:
        app = make_app(build_service(spec))
    else:
        os.environ[SPEC_ENV] = spec.dumps()  # each worker builds its own app from it
        app = "rag.server.app:from_environment"
    where = f"http://{host if ':' not in host else f'[{host}]'}:{sock.getsockname()[1]}"
    click.echo(f"Serving {', '.join(names)} on {where}/ (chat page) and {where}/v1 (API)"
               + (" with an API key" if api_key else "") + (f", {workers} workers" if workers > 1 else "")
               + "; Ctrl+C stops.", err=True)
    stop_watching = None
    if watch:  # in this process only: every worker opens a new generation at its next question
        from rag.watch import serve_watch

        served = [first if name == default else context.assistant(ctx, True, bot=name)[0] for name in names]
        stop_watching = serve_watch(served, lambda line: click.echo(f"rag: {line}", err=True))
    # uvicorn re-raises the SIGTERM it handled once it has shut down gracefully: ignore that second one
    signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        run_server(app, sock, config.grace_s, workers)
    except KeyboardInterrupt:
        pass
    finally:
        if stop_watching is not None:
            stop_watching()
        sock.close()
    click.echo("Stopped.", err=True)

