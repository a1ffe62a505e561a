"""The terminal chat (Textual), `rag chat`. It builds on `rag` only; `rag` never imports it.

`tui.app.make_app` is the one factory (the command and the tests call it); `tui.command` is the
light click command; `tui.format` shapes text without Textual."""
