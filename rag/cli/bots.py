"""`rag bot ...`: make, list, show, edit, remove, export and import bots without writing code.

An export is one zip file: `bot.toml`, and with `--with-docs` the documents under `docs/`, so the
bot can be imported and rebuilt on a machine that has none of the original paths; importing one is
bounded, atomic and confined to its own documents (`rag.config.ragbot`). A broken profile is listed
as broken, and can be removed, and edited as text. Everything printed from a profile goes through
the terminal sanitiser.
"""

from __future__ import annotations

import sys
import tomllib
import zipfile
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import click

from index.errors import ConfigError
from rag.cli import context
from rag.engines import ENGINES
from rag.present.terminal import json_text, safe, safe_line


def _store(ctx: click.Context):  # type: ignore[no-untyped-def]
    from rag.config.bots import BotStore
    from rag.config.settings import bundled_seeds, default_home

    home = Path(ctx.obj.get("home") or default_home())
    return home, BotStore(home, bundled_seeds())


def _max_tokens(ctx: click.Context) -> int | None:
    """The tokens the configured embedding model reads (a chunk_size above it could never be built);
    None when the model cannot be found, which the build will report on its own."""
    from index.embed import make_embedder
    from index.errors import ModelError

    try:
        settings = context.settings(ctx)
        return make_embedder(settings.embedder, settings.model).max_tokens
    except (ModelError, ConfigError):
        return None


def _build(ctx: click.Context, name: str, quiet: bool) -> None:
    ctx.obj = {**ctx.obj, "bot": name}
    assistant, progress = context.assistant(ctx, quiet)
    with progress:
        report = assistant.build()
    click.echo(f"Indexed {report.files_indexed} file(s) into {report.chunks} chunks for bot {name!r}"
               + (f"; skipped {len(report.skipped)}" if report.skipped else "") + ".", err=True)


@click.group()
def bot() -> None:
    """Bots: a profile (TOML) and its own index. A chatbot without code."""


@bot.command("new")
@click.argument("name", required=False)
@click.option("-d", "--description", help="What the bot is for.")
@click.option("-s", "--source", "sources", multiple=True, help="A file, folder or glob it knows (repeatable).")
@click.option("-i", "--instructions", help="Persona and rules, for generative engines.")
@click.option("--engine", type=click.Choice(ENGINES), help="Who writes answers.")
@click.option("--welcome", help="The first thing the bot says.")
@click.option("--question", "questions", multiple=True, help="A suggested question (repeatable).")
@click.option("--no-build", is_flag=True, help="Save the profile without indexing now.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.pass_context
def new(ctx: click.Context, name: str | None, description: str | None, sources: tuple[str, ...],
        instructions: str | None, engine: str | None, welcome: str | None, questions: tuple[str, ...],
        no_build: bool, quiet: bool) -> None:
    """Make a bot. With no NAME on a terminal, a short wizard asks; with flags, nothing is asked.

    \b
    Example:
      rag bot new handbook -s ~/docs/handbook -d "Our employee handbook" --question "How many vacation days?"
    """
    from rag.config.bots import BotProfile, check_name

    _, store = _store(ctx)
    wizard = name is None
    if wizard and not sys.stdin.isatty():
        raise click.UsageError("give the bot a NAME (and --source PATH) when not on a terminal")
    if wizard:
        click.echo("A new bot. Enter accepts the suggestion in [brackets].")
        name = click.prompt("Name (lowercase, digits, - or _)", value_proc=check_name)
        description = click.prompt("What is it for", default=description or "", show_default=False)
        while not sources:
            answer = click.prompt("Documents it knows (paths or globs, separated by spaces)")
            sources = tuple(answer.split())
        instructions = click.prompt("Instructions (persona, rules)", default=instructions or
                                    "Answer briefly and only from the documents.")
        engine = click.prompt("Engine", type=click.Choice(ENGINES),
                              default=engine or "extractive")
    assert name is not None  # for the type checker: the wizard or the argument set it
    check_name(name)
    if store.path(name).exists():
        raise ConfigError(f"a bot named {name!r} exists; edit it with: rag bot edit {name}, or remove it first")
    if not sources:
        raise click.UsageError("a bot needs at least one --source PATH")
    resolved = [str(Path(s).expanduser().resolve()) if Path(s).expanduser().exists() else s for s in sources]
    profile = BotProfile(name=name, description=description or "", instructions=instructions or "",
                         sources=resolved, engine=engine or "extractive", welcome=welcome or "",
                         suggested_questions=list(questions))
    with store.locked():
        store.create(profile)
    click.echo(f"Saved bot {name!r} in {safe_line(str(store.path(name)))}.", err=True)
    if not no_build:
        _build(ctx, name, quiet)
    first = safe_line(questions[0]) if questions else "What do these documents say about ...?"
    click.echo(f"Ask it: rag --bot {name} ask \"{first}\"   or chat: rag --bot {name} chat")


@bot.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def list_bots(ctx: click.Context, as_json: bool) -> None:
    """The bots, with their descriptions and whether their index is built; a broken profile is listed
    as broken, with the reason."""
    home, store = _store(ctx)
    rows = []
    for name, entry in store.entries():
        built = _indexed(home, name)
        if isinstance(entry, ConfigError):
            rows.append({"name": name, "description": "", "engine": "", "indexed": built, "broken": str(entry)})
        else:
            rows.append({"name": name, "description": entry.description, "engine": entry.engine, "indexed": built})
    if as_json:
        click.echo(json_text(rows))
        return
    for row in rows:
        state = "indexed" if row["indexed"] else "not indexed yet"
        if "broken" in row:
            click.echo(f"{row['name']:<20} {'BROKEN':<10} {state:<16} {safe_line(row['broken'])}")
        else:
            click.echo(f"{row['name']:<20} {row['engine']:<10} {state:<16} {safe_line(row['description'])}")


def _indexed(home: Path, name: str) -> bool:
    """Whether the bot's index is built (a damaged one is listed as not indexed)."""
    from index.errors import IndexCorruptError
    from index.store import IndexStore

    try:
        return IndexStore(home / "indexes" / name).exists()
    except IndexCorruptError:
        return False


@bot.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def show(ctx: click.Context, name: str, as_json: bool) -> None:
    """A bot's profile."""
    from rag.config.bots import to_toml

    _, store = _store(ctx)
    profile = store.load(name)
    click.echo(json_text(asdict(profile)) + "\n" if as_json else safe(to_toml(profile)), nl=False)


@bot.command("edit")
@click.argument("name")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Set one field without an editor (TOML value, or plain text for strings); repeatable.")
@click.pass_context
def edit(ctx: click.Context, name: str, assignments: tuple[str, ...]) -> None:
    """Edit a bot's profile in $EDITOR (or with --set); it is checked before it is saved.

    A broken profile opens in the editor as it is, to be fixed.
    """
    from rag.config.bots import to_toml, validate

    _, store = _store(ctx)
    max_tokens = _max_tokens(ctx)
    if assignments:
        try:
            profile = store.load(name)
        except ConfigError as exc:
            raise ConfigError(f"{exc}; --set needs a readable profile: run rag bot edit {name} without --set, "
                              "to fix it in an editor") from None
        data: dict[str, Any] = asdict(profile)
        for item in assignments:
            key, sep, raw = item.partition("=")
            if not sep:
                raise click.UsageError(f"--set {item!r}: use KEY=VALUE")
            try:
                data[key.strip()] = tomllib.loads(f"v = {raw}")["v"]
            except tomllib.TOMLDecodeError:
                data[key.strip()] = raw
        new_profile = validate({k: v for k, v in data.items() if v is not None}, f"--set for {name}", max_tokens)
    else:
        try:
            text = to_toml(store.load(name))
        except ConfigError:
            text = store.text(name)  # broken: the file as it is, to be fixed
        edited = click.edit(text, extension=".toml")
        if edited is None:
            click.echo("No change.", err=True)
            return
        try:
            new_profile = validate(tomllib.loads(edited), f"your edit of {name}", max_tokens)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"your edit of {name} is not valid TOML ({exc}); nothing was saved") from None
    if new_profile.name != name:
        raise ConfigError("a bot's name cannot be edited; export and import it under a new name")
    store.save(new_profile)
    click.echo(f"Saved {safe_line(str(store.path(name)))}. Rebuild its index if you changed sources or chunking: "
               f"rag --bot {name} index build", err=True)


@bot.command("rm")
@click.argument("name")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def rm(ctx: click.Context, name: str, yes: bool) -> None:
    """Remove a bot: its profile (even a broken one), its index, and the documents folder that `rag bot
    import` made for it. Documents elsewhere (the paths a profile names) are never touched.

    A build of the bot still running makes this fail (exit 7) rather than remove the index under it.
    """
    import shutil

    from index.lock import WriterLock

    home, store = _store(ctx)
    store.text(name)  # the bot exists (its profile may be broken)
    if not yes and sys.stdin.isatty():
        click.confirm(f"Remove bot {name!r}, its index and its imported documents?", abort=True)
    root = home / "indexes" / name
    with store.locked():
        store.text(name)  # still there: another `rag bot rm` may have removed it while this one waited
        with WriterLock(root):
            store.remove(name)
            shutil.rmtree(root)
    click.echo(f"Removed bot {name!r}.", err=True)


@bot.command("export")
@click.argument("name")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="The file to write (default NAME.ragbot).")
@click.option("--with-docs", is_flag=True, help="Put the documents in the file too.")
@click.pass_context
def export(ctx: click.Context, name: str, output: str | None, with_docs: bool) -> None:
    """Write a bot to one portable file (a zip: bot.toml, and with --with-docs its documents).

    The documents are those the bot's index is built from (its profile's sources, else those its
    index recorded). The file appears complete or not at all.
    """
    import os

    from index.ingest.sources import discover
    from rag.assistant import Assistant
    from rag.config.bots import to_toml

    _, store = _store(ctx)
    profile = store.load(name)
    target = Path(output or f"{name}.ragbot")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            if with_docs:
                ctx.obj = {**ctx.obj, "bot": name}
                found, _ = discover(Assistant(context.settings(ctx)).sources())
                for number, item in enumerate(found):
                    archive.write(item.path, f"docs/{number:04}-{item.path.name}")
                profile = replace(profile, sources=["docs"])
            archive.writestr("bot.toml", to_toml(profile))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    click.echo(f"Wrote {safe_line(str(target))}" + (" with its documents" if with_docs else " (profile and paths only)")
               + ".")


@bot.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--name", "new_name", help="Import under another name.")
@click.option("--allow-paths", is_flag=True,
              help="Let the bot read the paths on this machine its profile names (refused without this flag).")
@click.option("--no-build", is_flag=True, help="Do not index now.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.pass_context
def import_(ctx: click.Context, file: str, new_name: str | None, allow_paths: bool, no_build: bool,
            quiet: bool) -> None:
    """Add a bot from an exported file and build its index.

    The file's documents go to the bot's own folder, within size limits, all or nothing; a profile
    naming other paths on this machine is refused unless --allow-paths confirms them.
    """
    from rag.config.ragbot import import_bot

    _, store = _store(ctx)
    settings = context.settings(ctx)
    profile = import_bot(store, file, new_name, allow_paths, int(settings.max_file_mb * 1024 * 1024),
                         _max_tokens(ctx))
    click.echo(f"Imported bot {profile.name!r}.", err=True)
    if not no_build:
        _build(ctx, profile.name, quiet)
