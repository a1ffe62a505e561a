"""The errors a user of `rag` can meet, in one place for the edges (CLI, chat, server) to catch.

They are defined where they are raised (`index.errors`, `rag.engines.base`); this module only
names them for code above `rag`, which reaches the index through `rag` alone.
"""

from index.errors import (
                          ConfigError,
                          Fix,
                          IndexBusyError,
                          IndexCorruptError,
                          IndexMismatchError,
                          IndexMissingError,
                          IndexWriteError,
                          ModelError,
                          RagError,
                          SourceError,
)
from rag.engines.base import EngineError, StreamCutError

__all__ = ["ConfigError", "EngineError", "Fix", "IndexBusyError", "IndexCorruptError", "IndexMismatchError",
           "IndexMissingError", "IndexWriteError", "ModelError", "RagError", "SourceError", "StreamCutError"]
