"""`rag mcp`: the bot as an MCP server, driven by the official SDK's own client: in process (fast tier)
and as `rag mcp` over stdio, as a desktop assistant starts it (slow tier)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from rag.assistant import Assistant
from rag.config.settings import Settings
from rag.server.mcp import make_mcp
from tests.conftest import ROOT, SEEDS

QUESTION = "Quante unità di chip Huawei ha ordinato ByteDance?"


async def exercise(server: Any) -> tuple[list[str], Any, Any, Any]:
    async with Client(server) as client:
        tools = sorted(t.name for t in (await client.list_tools()).tools)
        found = await client.call_tool("search", {"query": "chip Ascend 910B", "k": 3})
        answer = await client.call_tool("ask", {"question": QUESTION})
        refused = await client.call_tool("ask", {"question": "Qual è la ricetta della carbonara?"})
        return tools, found, answer, refused


def check(tools: list[str], found: Any, answer: Any, refused: Any) -> None:
    assert tools == ["ask", "search"]
    passages = found.structured_content["passages"]
    assert [p["rank"] for p in passages] == [1, 2, 3]
    assert passages[0]["path"] == "bytedance_huawei_coze.txt" and passages[0]["lines"][0] >= 1
    assert "910B" in passages[0]["quote"] and passages[0]["scores"]["fused"] > 0
    assert not answer.is_error and "100.000" in answer.structured_content["answer"]
    assert answer.structured_content["citations"][0]["path"] == "bytedance_huawei_coze.txt"
    assert "100.000" in answer.content[0].text, "the same result as text, for clients that read only text"
    assert refused.structured_content["abstained"] is True and refused.structured_content["citations"]
    for result in (found, answer, refused):
        assert str(SEEDS) not in json.dumps(result.structured_content), "no server folder in a result"


def test_mcp_tools_in_process(tmp_path: Path) -> None:
    assistant = Assistant(Settings.load(home=tmp_path, embedder="hash"))
    assistant.build([str(SEEDS)])
    check(*anyio.run(exercise, make_mcp(assistant)))


@pytest.mark.slow  # starts `rag mcp`
def test_rag_mcp_over_stdio(tmp_path: Path) -> None:
    params = StdioServerParameters(command=sys.executable, cwd=str(ROOT),
                                   args=["-m", "rag", "--embedder", "hash", "mcp", "--bot", "default"],
                                   env={"RAG_HOME": str(tmp_path)})
    check(*anyio.run(exercise, params))
