"""Our index as a LangChain retriever, so it can sit inside any LangChain chain.

    from rag.langchain_adapter import RagRetriever
    retriever = RagRetriever.from_settings(Settings.load(), k=4)
    chain = retriever | format_docs | prompt | llm

Each `Document` carries the citation metadata our own answers use (`rag.answer.passage_json`: path,
lines, page, character span, heading, a stable key and the retrieval scores), plus LangChain's
usual `source`, its rank and a printable `[n] path:lines`.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.answer import passage_json
from rag.assistant import Assistant
from rag.config.settings import Settings


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
            metadata = passage_json(hit)
            text = metadata.pop("quote")
            docs.append(Document(page_content=text, id=hit.chunk.key, metadata={
                "source": hit.chunk.path, "rank": rank, "citation": f"[{rank}] {hit.chunk.location}", **metadata}))
        return docs
