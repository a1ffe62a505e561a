"""Getting documents in: finding the files to index (`sources`), reading each into a `Document`
(`loaders`), and PDF text in a sandboxed child process (`pdf`). Add a format in `loaders.py`
(a reader returning text, headings and page starts) and its suffix in `sources.SUPPORTED`."""
