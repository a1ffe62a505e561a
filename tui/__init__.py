"""The terminal chat (Textual), `rag chat`. It builds on `rag` only; `rag` never imports it.

`tui.app.make_app` is the one factory (the command and the tests call it); `tui.command` is the
light click command; `tui.controller` is what the chat does (answering, switching engines and bots,
indexing) with no Textual in it; `tui.format` shapes text without Textual; `tui.widgets` and
`tui.screens` show what they are given."""
