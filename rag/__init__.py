"""rag: answer questions from your own documents, offline, with citations you can check.

`rag.assistant.Assistant` is the one object the CLI and the TUI build; everything below it lives
in the `index` package.
"""

__version__ = "0.1.0"
