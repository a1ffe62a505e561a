"""Which language a text is in, and how to stem it.

Detection counts stopwords: a text in Italian is full of "di", "che", "la". That is crude but
robust on documents of a paragraph or more, needs no model, and covers every language for which
we have both a stopword list (from bm25s) and a Snowball stemmer (PyStemmer). Short questions are
detected the same way but are never trusted alone: queries are stemmed for the corpus languages too.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from functools import cache
from types import ModuleType


def _bm25s_stopwords() -> ModuleType:
    """bm25s's `stopwords` module (word lists, no imports of its own), read without running the package's
    `__init__`, which imports SciPy: 0.3 s of every cold `rag ask` that a question never used."""
    if "bm25s" in sys.modules:  # already imported (a build): the usual way
        from bm25s import stopwords

        return stopwords
    package = importlib.util.find_spec("bm25s")  # finds it without importing it
    if package is None or not package.submodule_search_locations:
        raise ImportError("bm25s is not installed: pip install bm25s")
    path = f"{next(iter(package.submodule_search_locations))}/stopwords.py"
    spec = importlib.util.spec_from_file_location("rag_bm25s_stopwords", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sw = _bm25s_stopwords()

# ISO code -> (Snowball algorithm, stopwords)
LANGUAGES: dict[str, tuple[str, frozenset[str]]] = {
    "en": ("english", frozenset(sw.STOPWORDS_EN_PLUS)),
    "it": ("italian", frozenset(sw.STOPWORDS_ITALIAN)),
    "fr": ("french", frozenset(sw.STOPWORDS_FRENCH)),
    "de": ("german", frozenset(sw.STOPWORDS_GERMAN)),
    "es": ("spanish", frozenset(sw.STOPWORDS_SPANISH)),
    "pt": ("portuguese", frozenset(sw.STOPWORDS_PORTUGUESE)),
    "nl": ("dutch", frozenset(sw.STOPWORDS_DUTCH)),
    "sv": ("swedish", frozenset(sw.STOPWORDS_SWEDISH)),
    "no": ("norwegian", frozenset(sw.STOPWORDS_NORWEGIAN)),
    "da": ("danish", frozenset(sw.STOPWORDS_DANISH)),
    "ru": ("russian", frozenset(sw.STOPWORDS_RUSSIAN)),
    "tr": ("turkish", frozenset(sw.STOPWORDS_TURKISH)),
}
UNKNOWN = "und"
# Words that ask rather than say: left out of queries only (documents keep them). The stopword lists
# lack the elided "qual" ("Qual è"), "cosa"/"cos'" and the auxiliary "è stato": as query terms they
# match thousands of sentences and pulled wrong passages up (squad_it_dev recall@4, bench/).
QUESTION_WORDS: dict[str, frozenset[str]] = {
    "it": frozenset({"qual", "quali", "cosa", "cos", "quando", "perchè", "perche", "stato", "stata",
                     "essere", "viene", "vengono", "venne"}),
}
_WORD = re.compile(r"\w+", re.UNICODE)
# Below this share of stopwords among the words we do not claim to know the language.
_MIN_SHARE = 0.08


def words(text: str) -> list[str]:
    """Lower-cased word tokens; apostrophes split ("dell'anno" -> "dell", "anno")."""
    return _WORD.findall(text.lower())


def detect_language(text: str, sample: int = 20000) -> str:
    """ISO code of the language with the most stopwords in `text`, or "und"."""
    tokens = words(text[:sample])
    if not tokens:
        return UNKNOWN
    best, best_share = UNKNOWN, 0.0
    for code, (_, stops) in LANGUAGES.items():
        share = sum(1 for t in tokens if t in stops) / len(tokens)
        if share > best_share:
            best, best_share = code, share
    return best if best_share >= _MIN_SHARE else UNKNOWN


def asked_in_another_language(question: str, langs: set[str]) -> bool:
    """Whether `question` is, recognisably, in none of the documents' languages `langs`."""
    corpus = set(langs) - {UNKNOWN}
    asked_in = detect_language(question)
    return asked_in != UNKNOWN and bool(corpus) and asked_in not in corpus


@cache
def stemmer(code: str):  # type: ignore[no-untyped-def]
    """The Snowball stemmer of language `code` (shared, made once), or None for a language we lack."""
    import Stemmer

    return Stemmer.Stemmer(LANGUAGES[code][0]) if code in LANGUAGES else None


def held_terms(text: str, lang: str) -> set[str]:
    """Every word of `text` and its stem in `lang`: what a question's word or stem can match in it."""
    toks = words(text)
    stem = stemmer(lang)
    return set(toks) | (set(stem.stemWords(toks)) if stem else set())


def stopwords(code: str) -> frozenset[str]:
    return LANGUAGES[code][1] if code in LANGUAGES else frozenset()


def terms(text: str, lang: str) -> list[str]:
    """Index terms of a document text: words minus stopwords, stemmed in the document's language."""
    stops = stopwords(lang)
    kept = [t for t in words(text) if t not in stops]
    stem = stemmer(lang)
    return stem.stemWords(kept) if stem else kept


def query_terms(text: str, langs: set[str]) -> list[str]:
    """Terms of a question for a corpus in `langs`: stemmed once per language, stopwords and question
    words of any removed.

    A question in English over Italian documents still matches names, numbers and shared roots
    ("chips" -> "chip"); the extra stems of the other languages match nothing and cost nothing.
    """
    out: list[str] = []
    for stems in query_words(text, langs):
        out += [term for term in stems if term not in out]
    return out


def query_words(text: str, langs: set[str]) -> list[list[str]]:
    """`query_terms` grouped by question word: each word's stems, one per language, without repeats."""
    langs = set(langs) | {detect_language(text)}
    stops = frozenset().union(*(stopwords(code) | QUESTION_WORDS.get(code, frozenset()) for code in langs))
    kept = [t for t in words(text) if t not in stops]
    stemmed = [stem.stemWords(kept) if (stem := stemmer(code)) else kept for code in sorted(langs)]
    grouped: list[list[str]] = []
    for n in range(len(kept)):
        stems: list[str] = []
        for per_lang in stemmed:
            if per_lang[n] not in stems:
                stems.append(per_lang[n])
        grouped.append(stems)
    return grouped
