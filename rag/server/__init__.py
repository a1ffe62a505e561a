"""The HTTP face of a bot: an OpenAI-compatible API (`app`). It imports no click; `rag.cli.serve` starts it."""
