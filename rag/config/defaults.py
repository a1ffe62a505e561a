"""The defaults of `rag`'s own settings, each defined once, for the settings, bot profiles and flags.

The index's own defaults live beside the code they govern and are imported from there: chunking
(`index.text.chunking`), retrieval modes (`index.search.MODES`), engines (`rag.engines.ENGINES`),
the abstention threshold (`rag.answerers.confidence`).
"""

from __future__ import annotations

from index.ingest.sources import DEFAULT_MAX_BYTES
from index.search import MODES

DEFAULT_BOT = "default"  # the bot of the bundled seed article, ready on a fresh install
DEFAULT_TOP_K = 5  # passages retrieved per question
MAX_TOP_K = 50
MAX_FILE_MB = DEFAULT_MAX_BYTES / (1024 * 1024)  # files larger than this are skipped
CITATION_STYLES = ("inline", "list")  # [n] after each sentence, or the sources listed below only

__all__ = ["CITATION_STYLES", "DEFAULT_BOT", "DEFAULT_TOP_K", "MAX_FILE_MB", "MAX_TOP_K", "MODES"]
