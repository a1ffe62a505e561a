"""The index layer: find documents, split them into chunks, embed them and search them.

    ingest/    files in: discovery, loaders, PDF text        text/   language, sentences, chunking
    embed/     embedders behind one protocol                  store/  generations on disk
    compat     the one check of index vs settings             builder build and update (cache: resume)
    lexical    BM25 over chunks and files                     dense   FAISS
    search     hybrid retrieval                               lock    one writer at a time
    errors     domain errors, each with a `Fix`                records the frozen records passed up

It knows nothing of answers, prompts, LLMs or commands; `rag` builds on it and `tui` on `rag`.
"""
