"""The published faces of a bot: the ASGI app (`app.make_app`: the OpenAI-compatible API, the chat page,
the widget) and the MCP server (`mcp.make_mcp`). No click here: `rag.cli.serve` and `rag.cli.mcp`
start them; tests run the app in uvicorn in a thread (`run.in_thread`)."""
