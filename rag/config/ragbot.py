"""Importing a `.ragbot` file: one bot in a zip, `bot.toml` and its documents under `docs/`.

The file comes from someone else, so it is untrusted:
- reading it is bounded before anything is written, and again while the bytes come out (a header
  can lie): at most `MAX_MEMBERS` members, `max_member_bytes` each (the largest file a build reads
  anyway), `MAX_TOTAL_BYTES` in all, and a compression ratio of at most `MAX_RATIO` for a member
  over `RATIO_FROM` bytes (real text compresses 3-20 times; the 611 KB file that once wrote
  600 MB, 1,000 times);
- importing is atomic: the documents go into a temporary folder, which becomes `bots/NAME-docs`
  by one rename, and the profile is then linked into place, both under the bots' lock (which
  `rag bot rm` takes too), so two imports of one name cannot mix; any failure (or Ctrl-C) removes
  what was written, and registers nothing;
- an imported bot reads only its own documents: `sources` naming paths on this machine (`~/.ssh`)
  are refused unless the user confirms them (`allow_paths`).
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
import uuid
import zipfile
from dataclasses import replace
from pathlib import Path

from index.errors import ConfigError, SourceError
from rag.config.bots import IMPORTED, BotProfile, BotStore, validate

MAX_MEMBERS = 10_000
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_RATIO = 100
RATIO_FROM = 1024 * 1024
MAX_PROFILE_BYTES = 1024 * 1024
DOCS = "docs"  # what an export's profile names as its sources: the documents beside it
_UNSAFE = re.compile(r"[^\w.\- ]")


def import_bot(store: BotStore, file: str, new_name: str | None = None, allow_paths: bool = False,
               max_member_bytes: int = 50 * 1024 * 1024, max_tokens: int | None = None) -> BotProfile:
    """Add the bot in `file` to `store`, with its documents; returns its profile."""
    try:
        archive = zipfile.ZipFile(file)
    except (OSError, zipfile.BadZipFile) as exc:
        raise SourceError(f"{file}: not a bot export ({exc})") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise SourceError(f"{file}: {len(members):,} files inside, over the {MAX_MEMBERS:,} an import takes")
        docs = [m for m in members if m.filename.startswith(f"{DOCS}/") and not m.is_dir()]
        _check_sizes(file, docs, max_member_bytes)
        profile = _profile(archive, file, new_name, max_tokens)
        others = [s for s in profile.sources if s != DOCS]
        if others and not allow_paths:
            raise SourceError(f"{file}: the bot would read paths on this machine ({', '.join(others)}); import it "
                              "with --allow-paths if you want that, or ask for an export made with --with-docs")
        if store.path(profile.name).exists():
            raise ConfigError(f"a bot named {profile.name!r} exists; import with --name OTHER")
        tmp = _extract(archive, docs, store.folder, max_member_bytes) if docs else None
    try:
        with store.locked():
            if store.path(profile.name).exists():
                raise ConfigError(f"a bot named {profile.name!r} exists; import with --name OTHER")
            if tmp is None:
                return store.create(replace(profile, sources=others))
            target = store.docs(profile.name)
            if target.exists():
                if not (target / IMPORTED).is_file():
                    raise ConfigError(f"{target} exists and was not made by an import; move it away first")
                shutil.rmtree(target)  # left by an import or a removal that was killed: it has no bot
            os.rename(tmp, target)
            try:
                return store.create(replace(profile, sources=[str(target), *others]))
            except BaseException:
                shutil.rmtree(target, ignore_errors=True)
                raise
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _check_sizes(file: str, docs: list[zipfile.ZipInfo], max_member_bytes: int) -> None:
    """Refuse an archive whose headers already say it is too big."""
    total = 0
    for m in docs:
        if m.file_size > max_member_bytes:
            raise SourceError(f"{file}: {m.filename} is {m.file_size:,} bytes, over the {max_member_bytes:,} "
                              "a document may have")
        if m.file_size > RATIO_FROM and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise SourceError(f"{file}: {m.filename} expands {m.file_size // max(m.compress_size, 1):,} times, "
                              f"over the {MAX_RATIO} a document does; not imported")
        total += m.file_size
    if total > MAX_TOTAL_BYTES:
        raise SourceError(f"{file}: its documents hold {total:,} bytes, over the {MAX_TOTAL_BYTES:,} an import takes")


def _profile(archive: zipfile.ZipFile, file: str, new_name: str | None, max_tokens: int | None) -> BotProfile:
    try:
        info = archive.getinfo("bot.toml")
        if info.file_size > MAX_PROFILE_BYTES:
            raise SourceError(f"{file}: its bot.toml is {info.file_size:,} bytes; a profile is a few hundred")
        with archive.open(info) as fh:
            raw = fh.read(MAX_PROFILE_BYTES + 1)
        data = tomllib.loads(raw[:MAX_PROFILE_BYTES].decode("utf-8"))
    except (KeyError, UnicodeDecodeError, tomllib.TOMLDecodeError, zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"{file}: no readable bot.toml inside ({exc})") from None
    if new_name:
        data["name"] = new_name
    return validate(data, f"{file}:bot.toml", max_tokens)


def _extract(archive: zipfile.ZipFile, docs: list[zipfile.ZipInfo], folder: Path, max_member_bytes: int) -> Path:
    """Write `docs` into a new temporary folder in `folder`, counting every byte as it comes out;
    returns the folder (removed again on any failure)."""
    folder.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(folder)
    tmp = folder / f".import-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        total, names = 0, set[str]()
        for member in docs:
            name = _safe_name(Path(member.filename).name, names)
            written = 0
            try:
                with archive.open(member) as src, open(tmp / name, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        total += len(chunk)
                        if written > min(member.file_size, max_member_bytes) or total > MAX_TOTAL_BYTES:
                            raise SourceError(f"{archive.filename}: {member.filename} holds more than its header "
                                              "says; not imported")
                        dst.write(chunk)
            except (zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError) as exc:
                raise SourceError(f"{archive.filename}: {member.filename} cannot be read ({exc}); not imported") \
                    from None
        (tmp / IMPORTED).write_text("Made by rag bot import; removed with the bot.\n", encoding="utf-8")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def _safe_name(name: str, taken: set[str]) -> str:
    """A plain file name for a member: no path, no control characters, no leading dot, not taken."""
    clean = _UNSAFE.sub("_", name).lstrip(".")[:200] or "document"
    unique, n = clean, 1
    while unique in taken or unique == IMPORTED:
        n += 1
        unique = f"{n}-{clean}"
    taken.add(unique)
    return unique


def _remove_abandoned(folder: Path) -> None:
    """Temporary folders of imports whose process is gone (killed before it could clean up)."""
    for tmp in folder.glob(".import-*"):
        pid = tmp.name.split("-")[1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
