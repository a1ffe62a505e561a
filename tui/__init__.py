"""The terminal chat (Textual). It builds on `rag` only; nothing here yet beyond this package."""
