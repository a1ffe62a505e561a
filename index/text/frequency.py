"""How common a word is in general (wordfreq's Zipf scale), stored with the index at build time.

The extractive answerer weighs a question's words by how informative they are in general (a rare
name counts more than "anno"). Asking wordfreq at question time cost about 0.7 s of a one-off
`rag ask` (its import and the whole language's table), more than the search itself. So a build
writes, into the generation, the table of each document language and English (the language most
questions come in): the words at or above `FLOOR_ZIPF` (117k for Italian), as a sorted fixed-width
byte array and their Zipf values, which a question reads through a memory map and a binary search
(no parsing). A word below the floor, or too long to store, is as rare as the floor or rarer: it
gets `RARE_ZIPF`, what wordfreq says of a word it does not know. A language without
a stored table (an index built before this, a question in a third language) asks wordfreq itself.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import numpy as np

FLOOR_ZIPF = 2.0  # words at least this common are stored; Zipf 2 is once per 10 million words
RARE_ZIPF = 0.0  # what a word below the floor, or unknown, counts as (wordfreq says 0 for unknown words)
MAX_BYTES = 24  # longer words (UTF-8) are not stored; they count as rare
FOLDER = "frequencies"


def write_tables(folder: Path, langs: Iterable[str], reuse: Path | None = None) -> None:
    """Write the Zipf table of each of `langs` that wordfreq covers into `folder`; a table that
    `reuse` (the previous generation's folder) holds is copied, not made again (about 1 s a language:
    an update of one edited file should not pay it)."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    todo = []
    for lang in sorted(set(langs)):
        names = (f"{lang}.words.npy", f"{lang}.zipf.npy")
        if reuse is not None and all((reuse / name).is_file() for name in names):
            for name in names:
                shutil.copyfile(reuse / name, folder / name)
        else:
            todo.append(lang)
    if not todo:
        return
    from wordfreq import available_languages, get_frequency_dict

    known = available_languages()
    for lang in todo:
        if lang not in known:
            continue
        rows = sorted((w.encode("utf-8"), round(10 * math.log10(f * 1e9)))
                      for w, f in get_frequency_dict(lang).items()
                      if f > 0 and math.log10(f * 1e9) >= FLOOR_ZIPF and len(w.encode("utf-8")) <= MAX_BYTES)
        np.save(folder / f"{lang}.words.npy", np.array([w for w, _ in rows], dtype=f"S{MAX_BYTES}"),
                allow_pickle=False)
        np.save(folder / f"{lang}.zipf.npy", np.array([z for _, z in rows], dtype=np.uint8), allow_pickle=False)


class Frequencies:
    """The Zipf tables stored in one generation's `frequencies/` folder, opened lazily per language."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._tables: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}

    def _table(self, lang: str) -> tuple[np.ndarray, np.ndarray] | None:
        if lang not in self._tables:
            words, zipf = self.folder / f"{lang}.words.npy", self.folder / f"{lang}.zipf.npy"
            self._tables[lang] = (np.load(words, mmap_mode="r", allow_pickle=False),
                                  np.load(zipf, mmap_mode="r", allow_pickle=False)) if words.exists() else None
        return self._tables[lang]

    def zipf(self, word: str, lang: str) -> float:
        """The word's Zipf frequency in `lang` (from the stored table, else wordfreq's own)."""
        table = self._table(lang)
        if table is None:
            return general_zipf(word, lang)
        words, zipf = table
        key = word.encode("utf-8")
        if len(key) > MAX_BYTES:
            return RARE_ZIPF
        at = int(np.searchsorted(words, key))
        return zipf[at] / 10 if at < len(words) and words[at] == key else RARE_ZIPF


@cache
def general_zipf(word: str, lang: str) -> float:
    """wordfreq's Zipf frequency (0 for a word or a language it does not know)."""
    from wordfreq import zipf_frequency

    try:
        return float(zipf_frequency(word, lang))
    except LookupError:  # a language wordfreq does not cover
        return 0.0
