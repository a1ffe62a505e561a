"""Lexical search: BM25 (bm25s) over stemmed terms, so exact tokens like `910B` are never missed.

Each chunk is stemmed in its own document's language at build time (see `language.terms`); the
terms are stored with the chunk so an update rebuilds BM25 without re-reading unchanged files.
bm25s builds and saves it as plain .npy arrays and JSON; a question reads them with NumPy alone
(`allow_pickle=False`), without importing bm25s.

Two cheaper signals than a cross-encoder help the hybrid ranking (`Searcher.search`): `FileIndex`,
BM25 over whole files (which document is the question about), and `sentence_match`, how much of
the question one sentence of a passage holds (a question is usually answered by one sentence).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.errors import IndexCorruptError
from index.text.language import UNKNOWN, detect_language, query_words, terms
from index.text.sentences import split_sentences

# Lower k1 and b than Lucene's 1.2/0.75: a repeated word counts less and long passages are penalised
# less. On squad_it_dev recall@4 rose on both halves of the articles (bench/); applies to new builds.
K1, B = 0.9, 0.5
METHOD = "lucene"  # bm25s's default, named: a question sums the stored scores of its terms
SUMMED_METHODS = ("lucene", "robertson", "atire")  # bm25s's methods whose scores are that sum alone
FUZZY_MIN_CHARS = 5  # shorter unknown terms are left unmatched: too many words lie one edit away


class LexicalIndex:
    """BM25 over pre-computed term lists, one list per chunk, in chunk-id order.

    bm25s builds it and writes it (`lexical/`: its CSC matrix of per-term scores as .npy, the vocabulary
    and parameters as JSON); a question reads those files with NumPy alone and sums the columns of its
    terms, as bm25s's `get_scores` does for the "lucene" method, so that a question never imports bm25s
    and the SciPy it pulls in (0.3 s of a cold `rag ask`).
    """

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, vocab: dict[str, int],
                 n_docs: int) -> None:
        self.data, self.indices, self.indptr = data, indices, indptr
        self.n_docs = n_docs
        self._vocab = vocab
        self._sorted_vocab: list[str] | None = None  # for `neighbour`, sorted on first use
        self._retriever = None  # the bm25s object of a fresh build, which writes the files

    @classmethod
    def empty(cls) -> LexicalIndex:
        return cls(np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(1, np.int32), {}, 0)

    @classmethod
    def build(cls, term_lists: Sequence[Sequence[str]]) -> LexicalIndex:
        import bm25s

        if not term_lists:
            return cls.empty()
        retriever = bm25s.BM25(k1=K1, b=B, method=METHOD)
        # An empty term list (a chunk of only stopwords or punctuation) still needs a row.
        retriever.index([list(terms) or [""] for terms in term_lists], show_progress=False)
        scores = retriever.scores
        built = cls(np.asarray(scores["data"]), np.asarray(scores["indices"]), np.asarray(scores["indptr"]),
                    dict(retriever.vocab_dict), len(term_lists))
        built._retriever = retriever
        return built

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._retriever is not None:
            self._retriever.save(str(folder), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, n_docs: int) -> LexicalIndex:
        if n_docs == 0:
            return cls.empty()
        try:
            params = json.loads((folder / "params.index.json").read_text())
            data, indices, indptr = (np.load(folder / f"{name}.csc.index.npy", allow_pickle=False)
                                     for name in ("data", "indices", "indptr"))
            vocab = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"the BM25 index in {folder} is unreadable ({exc}); rebuild the index") from exc
        if params.get("method", METHOD) not in SUMMED_METHODS:  # these need a non-occurrence term: not ours
            raise IndexCorruptError(f"{folder} holds BM25 of method {params.get('method')!r}, which rag does not "
                                    "write; rebuild the index")
        return cls(data, indices, indptr, vocab, int(params.get("num_docs", n_docs)))

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term (0 for an unknown one), as BM25 weighs it."""
        if not self.n_docs or term not in self._vocab:
            return 0.0
        df = self._doc_freq()[self._vocab[term]]
        return float(np.log(1 + (self.n_docs - df + 0.5) / (df + 0.5)))

    def _doc_freq(self) -> np.ndarray:
        if not hasattr(self, "_df"):
            self._df = np.diff(self.indptr)  # scores are stored column-wise: one column per term
        return self._df

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for a question's terms (`query`); all zeros when none is known."""
        if not self.n_docs:
            return np.zeros(0)
        total = np.zeros(self.n_docs, dtype=self.data.dtype if len(self.data) else np.float32)
        for term in terms:  # a term asked twice counts twice, as in bm25s
            column = self._vocab.get(term)
            if column is not None:
                begin, end = self.indptr[column], self.indptr[column + 1]
                total[self.indices[begin:end]] += self.data[begin:end]  # a column holds each document once
        return total

    def query(self, text: str, langs: set[str]) -> list[str]:
        """The indexed terms a question searches for: its words' stems that the index holds, and for
        a word none of whose stems it holds, the indexed term nearest in spelling (`neighbour`) when
        the question is in the documents' language."""
        asked_in = detect_language(text)
        # A word of another language than the documents' is expected to be missing, and its
        # nearest spelling is a false friend ("start" is not "stat", from "stato").
        fuzzy = asked_in == UNKNOWN or asked_in in langs
        out: list[str] = []
        for stems in query_words(text, langs):
            known = [t for t in stems if t in self._vocab]
            if not known and fuzzy:
                near = min(filter(None, (self.neighbour(t) for t in stems)), default=None)
                known = [near[1]] if near else []
            out += [t for t in known if t not in out]
        return out

    def neighbour(self, term: str) -> tuple[tuple[int, int], str] | None:
        """The indexed term nearest in spelling to a term the index lacks, with its distance, or None.

        A typo ("ctenohore"), a variant spelling or a translation's near miss ("Plasmodio" for
        "Plasmodium") otherwise matches nothing. Candidates share the term's first three letters and
        are at most one edit away (two from 8 letters on), or one is a prefix of the other (stems are
        cut words); the nearest wins, then the most frequent. Numbers never match: 1940 is not 1941.
        On squad_it_dev, recall@4 rose from 0.899 to 0.902, on both halves of the articles (bench/).
        """
        if len(term) < FUZZY_MIN_CHARS or any(ch.isdigit() for ch in term) or not self.n_docs:
            return None
        from rapidfuzz.distance import Levenshtein

        if self._sorted_vocab is None:
            self._sorted_vocab = sorted(self._vocab)
        vocab = self._sorted_vocab
        lo = bisect.bisect_left(vocab, term[:3])
        hi = bisect.bisect_left(vocab, term[:3] + "\U0010ffff", lo)
        cap = 1 if len(term) < 8 else 2
        df = self._doc_freq()
        best: tuple[tuple[int, int], str] | None = None
        for candidate in vocab[lo:hi]:
            if len(candidate) < 4 or any(ch.isdigit() for ch in candidate):
                continue
            distance = Levenshtein.distance(term, candidate, score_cutoff=cap)
            if distance > cap:
                prefix = min(len(term), len(candidate)) >= 6 and (
                    candidate.startswith(term) or term.startswith(candidate))
                if not prefix:
                    continue
                distance = cap + 1
            key = (distance, -int(df[self._vocab[candidate]]))
            if best is None or key < best[0]:
                best = (key, candidate)
        return best

    def search(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """Top `k` (chunk id, BM25 score) for a question's terms; chunks with no shared term are left out."""
        scores = self.scores(terms)
        k = min(k, int(np.count_nonzero(scores))) if len(scores) else 0
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top]

    def sentence_match(self, question_terms: Sequence[str], text: str, lang: str) -> float:
        """The largest share of the question's terms, weighted by IDF, that one sentence of `text` holds."""
        weights = {t: self.idf(t) for t in question_terms}
        total = sum(weights.values())
        if not total:
            return 0.0
        best = 0.0
        for sentence in split_sentences(text, min_chars=1):
            held = set(terms(sentence.text, lang))
            best = max(best, sum(w for t, w in weights.items() if t in held))
        return best / total


class FileIndex:
    """BM25 over whole files, each the concatenation of its chunks' terms; scores come back per chunk.

    Built with the generation (`IndexStore.write` has every chunk's terms in memory then) and saved
    beside `lexical/`: built at query time from the stored terms it cost 8 s and 1.3 GiB of peak
    memory on the first query at 200k chunks (bench/scale.py).
    """

    def __init__(self, files: LexicalIndex, file_of_chunk: Sequence[int] | np.ndarray) -> None:
        self._files = files
        self.file_of_chunk = np.asarray(file_of_chunk, dtype=np.int64)

    @classmethod
    def build(cls, term_lists: Sequence[Sequence[str]], file_of_chunk: Sequence[int] | np.ndarray) -> FileIndex:
        file_of_chunk = np.asarray(file_of_chunk, dtype=np.int64)
        n_files = int(file_of_chunk.max()) + 1 if len(file_of_chunk) else 0
        files: list[list[str]] = [[] for _ in range(n_files)]
        for f, chunk_terms in zip(file_of_chunk, term_lists, strict=True):
            files[f].extend(chunk_terms)
        return cls(LexicalIndex.build(files), file_of_chunk)

    def save(self, folder: Path) -> None:
        self._files.save(folder)
        np.save(folder / "file_of_chunk.npy", self.file_of_chunk, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> FileIndex:
        file_of_chunk = np.load(folder / "file_of_chunk.npy", allow_pickle=False)
        n_files = int(file_of_chunk.max()) + 1 if len(file_of_chunk) else 0
        return cls(LexicalIndex.load(folder, n_files), file_of_chunk)

    def chunk_scores(self, terms: Sequence[str]) -> np.ndarray:
        """Each chunk's file score relative to the best file's (0 to 1), in chunk-id order."""
        scores = self._files.scores(terms)
        if not len(scores) or scores.max() <= 0:
            return np.zeros(len(self.file_of_chunk))
        return (scores / scores.max())[self.file_of_chunk]
