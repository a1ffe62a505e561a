"""The index layer: find documents, split them into chunks, embed them and search them.

It knows nothing of answers, prompts or LLMs; `rag` builds on it and `tui` on `rag`.
"""
