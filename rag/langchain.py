"""Our index as a LangChain retriever, so it can sit inside any LangChain chain.

    from rag.langchain import RagRetriever
    retriever = RagRetriever.from_settings(Settings.load(), k=4)
    chain = retriever | format_docs | prompt | llm

Each `Document` carries the citation metadata our own answers use: path, lines, page, character
span, heading, a stable key and the retrieval scores.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.assistant import Assistant
from rag.settings import Settings


class RagRetriever(BaseRetriever):
    """Hybrid (dense + BM25) retrieval over a rag index."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    assistant: Any  # an Assistant; Any because pydantic cannot describe it
    k: int = 4

    @classmethod
    def from_settings(cls, settings: Settings, k: int = 4) -> RagRetriever:
        return cls(assistant=Assistant(settings), k=k)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        docs = []
        for rank, hit in enumerate(self.assistant.search(query, self.k), start=1):
            c = hit.chunk
            docs.append(Document(page_content=c.text, id=c.key, metadata={
                "source": c.path, "lines": [c.line_start, c.line_end], "page": c.page, "char_span": [c.start, c.end],
                "heading": c.heading, "key": c.key, "rank": rank, "citation": f"[{rank}] {c.location}",
                "score": hit.score, "dense_score": hit.dense_score, "lexical_score": hit.lexical_score,
            }))
        return docs
