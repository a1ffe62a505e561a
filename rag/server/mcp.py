"""A bot as an MCP server (the official `mcp` SDK, 2.x), so desktop assistants and editors can use it.

Two tools: `search` (the ranked passages, each with its file relative to the bot's sources, lines,
heading, text and scores) and `ask` (a cited answer, or an abstention with the nearest passages).
Both return structured content (JSON) and the same as text. `rag mcp` runs it over stdio; nothing
may be printed on stdout but the protocol, so the model loads quietly.
"""

from __future__ import annotations

from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer

from index.errors import RagError
from rag.answer import passage_json
from rag.server.citations import answer_json, relative, source_roots


def make_mcp(assistant: Any) -> MCPServer:
    name = assistant.settings.bot
    profile = assistant.profile
    roots = source_roots(assistant.sources())
    server = MCPServer(f"rag-{name}", instructions=(
        f"Answers from the documents of the bot {name!r}" + (f" ({profile.description})" if profile.description
                                                           else "") + ", with citations. Use `ask` for an answer, "
        "`search` for the passages themselves."))

    @server.tool(description=f"Search the documents of {name!r}: the best passages for a query, ranked, each with "
                             "its file, lines, heading, text and scores.")
    async def search(query: str, k: int = 5) -> dict[str, Any]:
        k = max(1, min(k, 20))
        try:
            hits = await anyio.to_thread.run_sync(assistant.search, query, k)
        except RagError as exc:
            raise ValueError(str(exc)) from None
        passages = [{"rank": rank, **passage_json(hit), "path": relative(hit.chunk.path, roots)}
                    for rank, hit in enumerate(hits, start=1)]
        return {"query": query, "passages": passages}

    @server.tool(description=f"Ask {name!r} a question: an answer quoted from its documents with [n] citations, or "
                             "`abstained: true` and the nearest passages when the documents do not answer it.")
    async def ask(question: str) -> dict[str, Any]:
        try:
            answer = await anyio.to_thread.run_sync(assistant.ask, question)
        except RagError as exc:
            raise ValueError(str(exc)) from None
        return {"answer": answer.text, **answer_json(answer, roots)}

    return server
