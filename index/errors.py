"""Domain errors. Core code raises these; the CLI turns each into one line and an exit code.

Every message says what went wrong and, where there is one, what to do next.
"""

from __future__ import annotations


class RagError(Exception):
    """Base of every error the product reports to a user."""

    exit_code = 1


class SourceError(RagError):
    """A path, glob or file given by the user cannot be used."""

    exit_code = 2


class IndexMissingError(RagError):
    """No index has been built yet where one is needed."""

    exit_code = 3


class IndexMismatchError(RagError):
    """The index was built with other settings (model, chunking, schema) than the ones in use."""

    exit_code = 4


class IndexCorruptError(RagError):
    """Files of the index are missing, truncated or inconsistent."""

    exit_code = 5


class ConfigError(RagError):
    """A setting, config file or flag has a value that cannot be used."""

    exit_code = 2


class ModelError(RagError):
    """The embedding model cannot be found or loaded."""

    exit_code = 6
