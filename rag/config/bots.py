"""Bots: a chatbot is a profile, not a program.

A bot is one human-readable TOML file in `$RAG_HOME/bots/NAME.toml`: who it is, what it knows
(paths and globs), how it cuts and searches them, which engine answers, and what it says. Each
bot has its own index in `$RAG_HOME/indexes/NAME/`, and an imported bot its documents in
`$RAG_HOME/bots/NAME-docs/` (marked as made by the import, so that removing the bot removes them and
nothing else). The bot `default` knows the bundled seed article and is created on first use, so a
fresh install has one bot ready.

A profile file that cannot be read (bad TOML, a bad value) is a broken bot: `entries()` lists it
with the reason, and it can still be removed, and edited as text.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tomllib
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from index.errors import ConfigError
from index.search import MODES
from index.text.chunking import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE, MIN_CHUNK_SIZE
from rag.config.defaults import CITATION_STYLES, DEFAULT_BOT, DEFAULT_TOP_K, MAX_TOP_K
from rag.engines import ENGINES
from rag.present.terminal import json_text
from rag.prompts import REFUSAL

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
LEGACY_NAMES = {"min_score": "min_confidence"}  # a profile written before the setting had one name
IMPORTED = ".imported-by-rag"  # the mark, in a bot's documents folder, that `rag bot import` made it


@dataclass(frozen=True)
class BotProfile:
    name: str
    description: str = ""
    instructions: str = ""  # persona and rules, given to generative engines before the passages
    sources: list[str] = field(default_factory=list)  # files, folders and globs ([] for `default`: the seeds)
    chunk_size: int = DEFAULT_CHUNK_SIZE
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP
    top_k: int = DEFAULT_TOP_K
    min_confidence: float | None = None  # abstain below this confidence (None: the calibrated default)
    mode: str = MODES[0]
    engine: str = ENGINES[0]
    llm_model: str = ""
    welcome: str = ""
    suggested_questions: list[str] = field(default_factory=list)
    no_answer: str = REFUSAL  # what it says when the documents have no answer
    citation_style: str = "inline"  # inline [n] after each sentence, or a list of sources only

    def settings_overrides(self) -> dict[str, Any]:
        """The profile's part of the settings (between the config file and the environment)."""
        values = {"chunk_size": self.chunk_size, "chunk_overlap": self.chunk_overlap, "top_k": self.top_k,
                  "mode": self.mode, "engine": self.engine, "llm_model": self.llm_model}
        if self.min_confidence is not None:
            values["min_confidence"] = self.min_confidence
        return values


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(f"bot name {name!r} must be 1-40 lowercase letters, digits, '-' or '_', "
                          "starting with a letter or digit")
    return name


def validate(data: dict[str, Any], where: str, max_tokens: int | None = None) -> BotProfile:
    """A profile from parsed TOML, or a ConfigError naming the file and the field. `max_tokens`: the
    embedding model's limit on a chunk, when known (a larger chunk_size could never be built)."""
    data = {LEGACY_NAMES.get(key, key): value for key, value in data.items()}
    known = {f.name: f for f in fields(BotProfile)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(known)}")
    if not isinstance(data.get("name"), str):
        raise ConfigError(f"{where}: 'name' is required and must be a string")
    check_name(data["name"])
    kinds: dict[str, tuple[type, ...]] = {"chunk_size": (int,), "chunk_overlap": (int,), "top_k": (int,),
                                         "min_confidence": (int, float), "sources": (list,),
                                         "suggested_questions": (list,)}
    for key, value in data.items():
        expected = kinds.get(key, (str,))
        if isinstance(value, bool) or not isinstance(value, expected):
            raise ConfigError(f"{where}: {key} must be {' or '.join(t.__name__ for t in expected)}, "
                              f"not {type(value).__name__}")
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {key} must be a list of strings")
    profile = BotProfile(**data)
    checks = [
        (profile.mode in MODES, f"mode must be one of {', '.join(MODES)}"),
        (profile.citation_style in CITATION_STYLES, f"citation_style must be one of {', '.join(CITATION_STYLES)}"),
        (1 <= profile.top_k <= MAX_TOP_K, f"top_k must be between 1 and {MAX_TOP_K}"),
        (MIN_CHUNK_SIZE <= profile.chunk_size, f"chunk_size must be at least {MIN_CHUNK_SIZE}"),
        (max_tokens is None or profile.chunk_size <= max_tokens,
         f"chunk_size must be at most {max_tokens}, the tokens the embedding model reads"),
        (profile.min_confidence is None or math.isfinite(profile.min_confidence), "min_confidence must be finite"),
        (0 <= profile.chunk_overlap < profile.chunk_size, "chunk_overlap must be below chunk_size"),
    ]
    checks.append((profile.engine in ENGINES, f"engine must be one of {', '.join(ENGINES)}"))
    for ok, message in checks:
        if not ok:
            raise ConfigError(f"{where}: {message}")
    return profile


def to_toml(profile: BotProfile) -> str:
    """TOML for a profile (strings are written as JSON strings, which TOML reads the same; control
    characters escaped, so that the file is safe to print)."""
    lines = []
    for key, value in asdict(profile).items():
        if value is None:
            continue
        lines.append(f"{key} = {json_text(value, indent=None)}")
    return "\n".join(lines) + "\n"


class BotStore:
    """The bots of one data directory."""

    def __init__(self, home: Path, seeds: Path) -> None:
        self.folder = home / "bots"
        self.seeds = seeds

    def path(self, name: str) -> Path:
        return self.folder / f"{check_name(name)}.toml"

    def names(self) -> list[str]:
        found = {p.stem for p in self.folder.glob("*.toml")} if self.folder.is_dir() else set()
        return sorted(found | {DEFAULT_BOT})

    def load(self, name: str) -> BotProfile:
        path = self.path(name)
        if not path.exists():
            if name == DEFAULT_BOT:
                return self.save(default_profile(self.seeds))
            raise ConfigError(f"no bot named {name!r}; see: rag bot list, or make one with: rag bot new")
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); fix it with: "
                              f"rag bot edit {name}") from None
        return self.parse(name, text)

    def parse(self, name: str, text: str, max_tokens: int | None = None) -> BotProfile:
        """The profile of bot `name` from the text of its file, or a ConfigError saying how to fix it."""
        path = self.path(name)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc}); fix it with: rag bot edit {name}") from None
        try:
            profile = validate(data, str(path), max_tokens)
        except ConfigError as exc:
            raise ConfigError(f"{exc}; fix it with: rag bot edit {name}") from None
        if profile.name != name:
            raise ConfigError(f"{path}: the name inside is {profile.name!r}, not {name!r}; fix it with: "
                              f"rag bot edit {name}")
        return profile

    def text(self, name: str) -> str:
        """The profile file's text as it is, for editing a broken one."""
        try:
            return self.path(name).read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            raise ConfigError(f"no bot named {name!r}; see: rag bot list") from None

    def entries(self) -> list[tuple[str, BotProfile | ConfigError]]:
        """Every bot, each with its profile or, for a broken one, the error that says why."""
        out: list[tuple[str, BotProfile | ConfigError]] = []
        for name in self.names():
            try:
                out.append((name, self.load(name)))
            except ConfigError as exc:
                out.append((name, exc))
        return out

    def save(self, profile: BotProfile) -> BotProfile:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(profile.name)
        tmp = path.with_suffix(f".toml.{uuid.uuid4().hex[:8]}.tmp")
        tmp.write_text(to_toml(profile), encoding="utf-8")
        tmp.replace(path)
        return profile

    def create(self, profile: BotProfile) -> BotProfile:
        """Save a new bot's profile; ConfigError if a bot of that name exists, even one made a moment ago
        by another process (the file is linked into place, which fails rather than replaces)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(profile.name)
        tmp = path.with_suffix(f".toml.{uuid.uuid4().hex[:8]}.tmp")
        tmp.write_text(to_toml(profile), encoding="utf-8")
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise ConfigError(f"a bot named {profile.name!r} exists; choose another name") from None
        finally:
            tmp.unlink()
        return profile

    def locked(self) -> Any:
        """The bots' lock: adding and removing bots happen one at a time (a kernel lock, freed if the
        holder dies)."""
        from filelock import FileLock

        self.folder.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.folder / ".bots.lock"))

    def docs(self, name: str) -> Path:
        """Where `rag bot import` puts the documents of bot `name`."""
        return self.folder / f"{check_name(name)}-docs"

    def remove(self, name: str) -> None:
        """Remove the profile, broken or not, and the documents folder its import made (only that one)."""
        path = self.path(name)
        if not path.exists():
            raise ConfigError(f"no bot named {name!r}; see: rag bot list")
        path.unlink()
        docs = self.docs(name)
        if (docs / IMPORTED).is_file():
            shutil.rmtree(docs)


def default_profile(seeds: Path) -> BotProfile:
    return BotProfile(
        name=DEFAULT_BOT, description="The bundled seed article: ByteDance, Huawei's Ascend 910B chips and Coze.",
        sources=[], welcome="Ask me about ByteDance, Huawei's Ascend 910B chips or the Coze platform.",
        suggested_questions=["Quali chip ha ordinato ByteDance da Huawei?", "Che cos'è Coze?",
                             "Con quale azienda rivaleggia Coze?"])
