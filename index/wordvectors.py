"""Every word of the documents embedded once, at build time, by the multilingual encoder.

The extractive answerer matches a question's words in a sentence by their spelling and stem. A
question often says it otherwise than the passage that answers it: "lunare" for "luna",
"iniziato" for "cominciato", "medico" for "dottore"; the missing word then counts as evidence that
the documents do not answer. With each word's vector, a question word also matches the words of
the passages the encoder puts next to it (`rag.answerers.extractive.QuestionTerms.expand`). On
squad_it_dev_heldout that answers about 5 points more of the answerable questions with the fact and
a right citation at the same on-topic abstention (bench/abstain.py; see BENCHMARKS.md).

Loading the encoder costs about 2 s, more than a whole one-off `rag ask`; so the vectors are made by
the build (only for words the previous generation lacks) and a question reads them through a memory
map and a binary search, as `index.text.frequency` does for word frequencies. A word is stored as
fixed-width UTF-8 (`MAX_BYTES`; longer ones are left out), its vector as 512 signed bytes and a scale
(cosines within about 0.01 of the float ones). At most `MAX_WORDS` words, the most frequent, are kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from index.text.language import stopwords, words

FOLDER = "words"
MAX_BYTES = 32
MAX_WORDS = 200_000  # about 100 MB; a corpus's rarest words beyond that go without
BATCH = 512

Encode = Callable[[list[str]], np.ndarray]


def content_words(text: str, lang: str) -> list[str]:
    """The words of `text` that can be matched this way: not a stopword of `lang`, not a number, over 2 letters."""
    stops = stopwords(lang)
    return [w for w in words(text) if len(w) > 2 and not w.isdigit() and w not in stops]


def vocabulary(texts: Iterable[tuple[str, str]]) -> list[str]:
    """The content words of (text, lang) pairs, at most `MAX_WORDS` (the most frequent), that fit `MAX_BYTES`."""
    counts: Counter[str] = Counter()
    for text, lang in texts:
        counts.update(content_words(text, lang))
    fitting = [w for w, _ in counts.most_common() if len(w.encode("utf-8")) <= MAX_BYTES]
    return sorted(fitting[:MAX_WORDS])


def merged(kept: Sequence[str], added: Sequence[str]) -> list[str]:
    """`kept` and then as many of `added` as fit under `MAX_WORDS`, sorted."""
    have = set(kept)
    room = max(0, MAX_WORDS - len(have))
    return sorted(have | set([w for w in added if w not in have][:room]))


def write_table(folder: Path, vocab: Sequence[str], encode: Encode, reuse: Path | None = None,
                progress: Callable[[int], Callable[[int], None]] | None = None) -> int:
    """Write the vectors of `vocab` into `folder`, those of `reuse` (the previous generation's table)
    copied rather than made again; returns how many words were embedded. `progress`, given that
    number when there are any, returns what to call with each batch's size."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = np.array([w.encode("utf-8") for w in vocab], dtype=f"S{MAX_BYTES}")
    old = WordVectors(reuse) if reuse is not None else None
    have = old.rows(keys) if old is not None else np.full(len(vocab), -1)
    todo, kept = np.flatnonzero(have < 0), np.flatnonzero(have >= 0)
    advance = progress(len(todo)) if progress is not None and len(todo) else None
    made = []
    for start in range(0, len(todo), BATCH):
        rows = todo[start:start + BATCH]
        made.append(np.asarray(encode([vocab[i] for i in rows]), dtype=np.float32))
        if advance is not None:
            advance(len(rows))
    dim = made[0].shape[1] if made else old.dim if old is not None else 0
    codes = np.zeros((len(vocab), dim), dtype=np.int8)
    scales = np.zeros(len(vocab), dtype=np.float32)
    if made:
        codes[todo], scales[todo] = quantize(np.concatenate(made))
    if len(kept) and old is not None:
        codes[kept], scales[kept] = old.codes[have[kept]], old.scales[have[kept]]
    np.save(folder / "words.npy", keys, allow_pickle=False)
    np.save(folder / "codes.npy", codes, allow_pickle=False)
    np.save(folder / "scales.npy", scales, allow_pickle=False)
    return len(todo)


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors as signed bytes and one scale each."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms > 0, norms, 1.0)
    peak = np.abs(unit).max(axis=1)
    scales = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    return np.round(unit / scales[:, None]).astype(np.int8), scales


class WordVectors:
    """A generation's word table, read through memory maps; empty when the index has none (built before
    it, or without the multilingual encoder installed)."""

    def __init__(self, folder: Path) -> None:
        if (folder / "words.npy").is_file():
            self.keys = np.load(folder / "words.npy", mmap_mode="r", allow_pickle=False)
            self.codes = np.load(folder / "codes.npy", mmap_mode="r", allow_pickle=False)
            self.scales = np.load(folder / "scales.npy", mmap_mode="r", allow_pickle=False)
        else:
            self.keys = np.zeros(0, dtype=f"S{MAX_BYTES}")
            self.codes, self.scales = np.zeros((0, 0), dtype=np.int8), np.zeros(0, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.keys)

    def words(self) -> list[str]:
        return [bytes(k).decode("utf-8") for k in self.keys]

    @property
    def dim(self) -> int:
        return int(self.codes.shape[1])

    def rows(self, keys: np.ndarray) -> np.ndarray:
        """The row of each key (UTF-8 bytes), -1 where absent."""
        if not len(self.keys) or not len(keys):
            return np.full(len(keys), -1)
        at = np.searchsorted(self.keys, keys)
        clipped = np.minimum(at, len(self.keys) - 1)
        return np.where((at < len(self.keys)) & (self.keys[clipped] == keys), clipped, -1)

    def vectors(self, asked: Sequence[str]) -> np.ndarray | None:
        """Unit vectors of `asked` (a zero row for a word not in the table); None when there is no table."""
        if not len(self.keys):
            return None
        encoded = [w.encode("utf-8") for w in asked]
        keys = np.array([k if len(k) <= MAX_BYTES else b"" for k in encoded], dtype=f"S{MAX_BYTES}")
        rows = self.rows(keys)
        out = np.zeros((len(asked), self.dim), dtype=np.float32)
        found = np.flatnonzero(rows >= 0)
        if len(found):
            picked = rows[found]
            made = self.codes[picked].astype(np.float32) * self.scales[picked][:, None]
            out[found] = made / np.linalg.norm(made, axis=1, keepdims=True)
        return out
