"""Bots: a chatbot is a profile, not a program.

A bot is one human-readable TOML file in `$RAG_HOME/bots/NAME.toml`: who it is, what it knows
(paths and globs), how it cuts and searches them, which engine answers, and what it says. Each
bot has its own index in `$RAG_HOME/indexes/NAME/`. The bot `default` knows the bundled seed
article and is created on first use, so a fresh install has one bot ready.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from index.errors import ConfigError
from index.search import MODES
from index.text.chunking import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE, MIN_CHUNK_SIZE
from rag.config.defaults import CITATION_STYLES, DEFAULT_BOT, DEFAULT_TOP_K, MAX_TOP_K
from rag.engines import ENGINES
from rag.prompts import REFUSAL

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
LEGACY_NAMES = {"min_score": "min_confidence"}  # a profile written before the setting had one name


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


def validate(data: dict[str, Any], where: str) -> BotProfile:
    """A profile from parsed TOML, or a ConfigError naming the file and the field."""
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
        (0 <= profile.chunk_overlap < profile.chunk_size, "chunk_overlap must be below chunk_size"),
    ]
    checks.append((profile.engine in ENGINES, f"engine must be one of {', '.join(ENGINES)}"))
    for ok, message in checks:
        if not ok:
            raise ConfigError(f"{where}: {message}")
    return profile


def to_toml(profile: BotProfile) -> str:
    """TOML for a profile (strings are written as JSON strings, which TOML reads the same)."""
    lines = []
    for key, value in asdict(profile).items():
        if value is None:
            continue
        lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
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
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc}); fix it with: rag bot edit {name}") from None
        profile = validate(data, str(path))
        if profile.name != name:
            raise ConfigError(f"{path}: its name is {profile.name!r} but the file says {name!r}; make them match")
        return profile

    def save(self, profile: BotProfile) -> BotProfile:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(profile.name)
        tmp = path.with_suffix(".toml.tmp")
        tmp.write_text(to_toml(profile), encoding="utf-8")
        tmp.replace(path)
        return profile

    def remove(self, name: str) -> None:
        path = self.path(name)
        if not path.exists():
            raise ConfigError(f"no bot named {name!r}; see: rag bot list")
        path.unlink()


def default_profile(seeds: Path) -> BotProfile:
    return BotProfile(
        name=DEFAULT_BOT, description="The bundled seed article: ByteDance, Huawei's Ascend 910B chips and Coze.",
        sources=[], welcome="Ask me about ByteDance, Huawei's Ascend 910B chips or the Coze platform.",
        suggested_questions=["Quali chip ha ordinato ByteDance da Huawei?", "Che cos'è Coze?",
                             "Con quale azienda rivaleggia Coze?"])
