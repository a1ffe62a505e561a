"""What a citation says about its source when the answer is given: the page of the quote, and whether
the cited file has changed or gone since it was indexed.

`settle` runs once per answer, on its few citations. A path is stored absolute; it is shown relative
to the folder above the source it came from (`docs/guide.md` for a source `~/proj/docs`), so a
citation reads the same from any directory. The freshness check is cheap: one `stat` per
cited file against the size and modification time the index recorded; only when those differ is the
file hashed (a `touch`, a checkout that rewrote the same bytes, a copy: all still "current"). A file
stored under a relative path by an older index, and not found from here, is left unmarked: from
another directory we cannot tell "deleted" from "elsewhere".

The page of a quote (a PDF page, a slide, a chapter) is the chunk's first page plus the page breaks
before the quoted sentence (`index.records.Chunk.page_at`); the citation carries it as its chunk's
page, so every place that shows a location (CLI, JSON, TUI, server) gives the quote's page.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Protocol

from index.ingest.sources import shown
from index.store.manifest import sha256_file
from index.store.meta import FileRecord, IndexMeta
from rag.answer import Answer, Citation

CURRENT, CHANGED, DELETED = "", "changed since indexed", "deleted"


class FileLookup(Protocol):
    """What `settle` needs of a generation: the record of one indexed file, and the sources it recorded."""

    meta: IndexMeta

    def file(self, path: str) -> FileRecord | None: ...


def settle(answer: Answer, generation: FileLookup | None) -> Answer:
    """`answer` with each citation at its quote's page, its path as shown (relative to the folder above
    its source, wherever the question is asked from), and marked when its source moved on."""
    states: dict[str, str] = {}
    sources = generation.meta.sources if generation is not None else []
    citations = []
    for cit in answer.citations:
        path = cit.hit.chunk.path
        if path not in states:
            record = generation.file(path) if generation is not None else None
            states[path] = state_of(path, record) if record is not None else CURRENT
        citations.append(replace(_at_quote(answer, cit), source_state=states[path], shown=shown(path, sources)))
    return replace(answer, citations=tuple(citations))


def state_of(path: str, record: FileRecord) -> str:
    """CURRENT, CHANGED or DELETED: the file at `path` against what the index recorded of it."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return DELETED if os.path.isabs(path) else CURRENT
    except OSError:
        return CURRENT  # unreadable now (permissions): not evidence that it changed
    if st.st_size == record.size and st.st_mtime == record.mtime:
        return CURRENT
    if st.st_size != record.size:
        return CHANGED
    try:
        return CURRENT if sha256_file(path) == record.sha256 else CHANGED
    except OSError:
        return CURRENT


def _at_quote(answer: Answer, cit: Citation) -> Citation:
    """The citation with its chunk's page moved to the page of the first sentence quoted from it."""
    chunk = cit.hit.chunk
    span = next((s.char_span for s in answer.sentences if cit.n in s.citations and s.char_span), None)
    if chunk.page is None or span is None:
        return cit
    page = chunk.page_at(span[0])
    return cit if page == chunk.page else replace(cit, hit=replace(cit.hit, chunk=replace(chunk, page=page)))
