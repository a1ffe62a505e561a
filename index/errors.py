"""Domain errors. Core code raises these; each edge (CLI, TUI, server) turns one into its own words.

Every message says what went wrong; what to do next is a machine-readable `Fix`, because the
next step is worded differently in each place ("rag index build PATH..." in a shell, "Ctrl+B" in
the chat). `index/` names no command: `rag.present.fixes` words each fix for the CLI.
"""

from __future__ import annotations

from enum import StrEnum


class Fix(StrEnum):
    """The next step that resolves an error, for the edge to put in words."""

    REBUILD = "rebuild"  # build the index again (settings changed, files damaged)
    BUILD = "build"  # there is no index yet: build one
    WAIT = "wait"  # another process is writing the index: wait for it
    FREE_SPACE = "free_space"  # the disk refused: free space and retry
    SMALLER_CHUNKS = "smaller_chunks"  # a chunk size the model cannot read
    INSTALL_MODEL = "install_model"  # the default model package is missing
    INSTALL_RAY = "install_ray"  # a build on Ray was asked for, and Ray is not installed
    CLUSTER = "cluster"  # the Ray cluster cannot be reached: start it or name another
    WORKER_ENV = "worker_env"  # Ray's workers lack rag (or its model): install it there, or a runtime env
    RESUME = "resume"  # run the same build again: what was embedded is kept, the rest is embedded
    SMALLER_BATCHES = "smaller_batches"  # a worker ran out of memory: smaller batches, fewer workers a machine


class RagError(Exception):
    """Base of every error the product reports to a user."""

    exit_code = 1
    fix: Fix | None = None  # the usual next step for this kind of error; an instance may name another

    def __init__(self, message: str, fix: Fix | None = None) -> None:
        super().__init__(message)
        if fix is not None:
            self.fix = fix


class SourceError(RagError):
    """A path, glob or file given by the user cannot be used."""

    exit_code = 2


class IndexMissingError(RagError):
    """No index has been built yet where one is needed."""

    exit_code = 3
    fix = Fix.BUILD


class IndexMismatchError(RagError):
    """The index was built with other settings (model, chunking, schema) than the ones in use."""

    exit_code = 4
    fix = Fix.REBUILD


class IndexCorruptError(RagError):
    """Files of the index are missing, truncated or inconsistent."""

    exit_code = 5
    fix = Fix.REBUILD


class ConfigError(RagError):
    """A setting, config file or flag has a value that cannot be used."""

    exit_code = 2


class ModelError(RagError):
    """The embedding model cannot be found or loaded."""

    exit_code = 6


class IndexBusyError(RagError):
    """Another process is building or updating this index."""

    exit_code = 7
    fix = Fix.WAIT


class IndexWriteError(RagError):
    """The disk refused the new index (full, quota, file too large); the previous one is still current."""

    exit_code = 8
    fix = Fix.FREE_SPACE


class ClusterError(RagError):
    """A build on a Ray cluster failed: unreachable, a worker lost for good, out of memory. The vectors
    made so far are in the embedding cache, and the current index is unchanged."""

    exit_code = 9
    fix = Fix.RESUME
