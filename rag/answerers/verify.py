"""Checking a generated answer against the passages it cites, sentence by sentence.

Most RAG tools trust the model's `[n]`; we check it, locally and without an LLM:
1. a citation to a passage that was not retrieved is removed;
2. each sentence's names and numbers ("Coze", "910B", "100.000") must appear in a passage it
   cites; one that does not is unsupported, whatever else it says (the classic invented figure);
3. its other informative words must be found there too (stemmed in the passage's and the
   sentence's languages, or sharing a 5-letter stem across languages: "programming" /
   "programmazione"), and its embedding must be close to the passage's.
A sentence with no citation is unsupported. The marks are `supported`, `partial`, `unsupported`.

Sentences are cut by the one splitter (`index.text.sentences`), after moving each citation that
follows a sentence's end before it: the prompts ask for "One. [1] Two. [2]", where the splitter,
seeing "[" and not a capital after the full stop, would otherwise find one sentence, not two.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from index.records import Hit
from index.text.language import detect_language, stopwords, terms, words
from index.text.sentences import split_sentences
from rag.answer import AnswerSentence
from rag.prompts import REFUSAL

SUPPORTED, PARTIAL, UNSUPPORTED = "supported", "partial", "unsupported"
WORDS_SUPPORTED, WORDS_PARTIAL = 0.6, 0.3  # share of the sentence's informative words found in the passage
# Cosine alone is weak evidence across languages (an English sentence about an Italian passage
# scores 0.4-0.55 whether it is right or invented), so it only lifts a sentence whose words
# already partly match: to supported from 0.65, to partial from 0.6.
SIM_SUPPORTED, SIM_PARTIAL = 0.65, 0.6
_CITE = re.compile(r"\s*\[(\d+)\]")
_CITED_END = re.compile(r"([.!?…])((?:\s*\[\d+\])+)")  # "One. [1]": the citations after the full stop
_FACT = re.compile(r"\b\w*\d[\w.,]*\b|(?<![.!?]\s)(?<!^)\b[A-ZÀ-Ý][\w’'-]*[A-Za-z]")


def citations_first(text: str) -> str:
    """`text` with every citation that follows a sentence's end moved before it: "One [1]. Two [2]."."""
    return _CITED_END.sub(lambda m: m.group(2) + m.group(1), text)


def sentence_spans(answer: str) -> list[tuple[int, int]]:
    """Where each sentence of `citations_first(answer)` lies in it (start, end)."""
    return [(s.start, s.end) for s in split_sentences(citations_first(answer), min_chars=1)]


def check(answer: str, hits: Sequence[Hit], embed: Callable[[list[str]], np.ndarray]) -> list[AnswerSentence]:
    """Split `answer` into sentences, keep valid citations, and mark each sentence's support."""
    text_of = citations_first(answer)
    pieces = [text_of[a:b] for a, b in sentence_spans(answer)]
    parsed: list[tuple[str, tuple[int, ...]]] = []
    for piece in pieces:
        cited = tuple(dict.fromkeys(int(n) for n in _CITE.findall(piece) if 1 <= int(n) <= len(hits)))
        text = _CITE.sub("", piece).strip()
        if text:
            parsed.append((text, cited))
    cited_texts = sorted({n for _, cited in parsed for n in cited})
    vectors = embed([t for t, _ in parsed] + [hits[n - 1].chunk.text for n in cited_texts]) if parsed else None
    passage_vec = {n: vectors[len(parsed) + i] for i, n in enumerate(cited_texts)} if vectors is not None else {}
    out = []
    for i, (text, cited) in enumerate(parsed):
        if text == REFUSAL or REFUSAL.rstrip(".") in text:
            out.append(AnswerSentence(text, (), support=SUPPORTED))
            continue
        mark = UNSUPPORTED
        if cited and vectors is not None:
            passages = [hits[n - 1].chunk for n in cited]
            sim = max(float(vectors[i] @ passage_vec[n]) for n in cited)
            mark = _mark(text, " ".join(p.text for p in passages), {p.lang for p in passages}, sim)
        out.append(AnswerSentence(text, cited, support=mark))
    return out


def _mark(sentence: str, passage: str, langs: set[str], sim: float) -> str:
    folded = passage.lower()
    facts = {f.lower() for f in _FACT.findall(sentence)}
    if any(fact not in folded for fact in facts):
        return UNSUPPORTED
    langs = (langs | {detect_language(sentence)}) - {"und"}
    stops = frozenset().union(*(stopwords(code) for code in langs))
    content = [w for w in words(sentence) if w not in stops and len(w) > 2 and w not in facts]
    if not content:
        return SUPPORTED if facts else (PARTIAL if sim >= SIM_PARTIAL else UNSUPPORTED)
    passage_words = set(words(passage))
    passage_stems = {t for code in langs for t in terms(passage, code)} | passage_words
    prefixes = {w[:5] for w in passage_words if len(w) >= 5}
    found = sum(1 for w in content if w in passage_words or w[:5] in prefixes
                or any(t in passage_stems for code in langs for t in terms(w, code)))
    share = found / len(content)
    if share >= WORDS_SUPPORTED or (share and sim >= SIM_SUPPORTED):
        return SUPPORTED
    if share >= WORDS_PARTIAL or (share and sim >= SIM_PARTIAL):
        return PARTIAL
    return UNSUPPORTED


def is_refusal(sentence: AnswerSentence, refusal: str = REFUSAL) -> bool:
    """Whether the sentence says the documents do not answer (the bot's words, or the default ones)."""
    return any(r.rstrip(".") in sentence.text for r in (refusal, REFUSAL))


def summary(sentences: Sequence[AnswerSentence]) -> str:
    """"3 of 4 sentences supported (1 partly)"."""
    total = len(sentences)
    full = sum(s.support == SUPPORTED for s in sentences)
    part = sum(s.support == PARTIAL for s in sentences)
    return f"{full} of {total} sentence{'s' if total != 1 else ''} supported" + (f" ({part} partly)" if part else "")
