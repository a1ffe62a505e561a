"""The default answerer: no LLM, it quotes the sentences of the retrieved passages that best answer.

Each candidate sentence is scored by two signals a reader would use:
- coverage: the share of the question's content words the sentence contains, each word weighted
  by how informative it is in general (a rare name counts more than a common verb); a question
  whose rare words the passages lack is the typical unanswerable one. A word is contained by its
  spelling, its stem, or a word the multilingual encoder puts next to it (`QuestionTerms.expand`);
  across languages, by its translation;
- similarity: cosine between the question and the sentence in the embedding model's space, which
  catches paraphrases the words miss.
To choose the sentence, the share of the question's words it holds is also counted with the words
weighted by their IDF in this corpus (`Candidate.rank`), which finds the sentence holding what sets
the question apart. The best sentence, and the runner-up when it is nearly as good, make the
answer; each carries the citation of its passage. Whether to answer at all is `confidence.py`'s decision.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from index.records import Hit
from index.text.language import (
    UNKNOWN,
    asked_in_another_language,
    detect_language,
    held_terms,
    stemmer,
    stopwords,
    words,
)
from index.text.sentences import Sentence, split_sentences
from index.wordvectors import content_words
from rag.answer import Answer, AnswerSentence, Citation
from rag.answerers.base import Corpus, Embed, OnToken, Retrieval
from rag.answerers.confidence import question_confidence, threshold
from rag.prompts import REFUSAL

WordTable = Callable[[Sequence[str]], np.ndarray | None]  # words -> their vectors, None without a table

SIMILARITY_WEIGHT = 0.5  # one unit of cosine is worth half the question's words
PASSAGE_WEIGHT = 0.5  # a sentence from the best retrieved passage gets this much on top
RUNNER_UP_RATIO = 0.8  # a second sentence is added only when it ranks this close to the best (was 0.75)
MAX_SENTENCE_CHARS = 400  # longer "sentences" are usually lists or tables; they are cut at a word


PASSAGE_COVERAGE_WEIGHT = 0.5  # in the confidence only: the share of the question its passage holds
CORPUS_WEIGHT = 0.5  # in choosing a sentence only: the share of corpus-IDF weight it holds
CROSS_SIMILARITY_WEIGHT = 1.5  # in choosing a sentence for a question in another language: see `rank`
TYPE_MISMATCH_PENALTY = 0.5  # a "when"/"how many" question answered by a sentence with no number or date
# A passage's word matches a question's word at this multilingual cosine, and this much above the mean
# cosine of the question word's nearest words in the passages (`QuestionTerms.expand`).
TRANSLATION_MIN = 0.65
TRANSLATION_MARGIN = 0.1
TRANSLATION_NEIGHBOURS = 10
STEM_MIN = 0.5  # two words of one stem at a lower multilingual cosine are different words

# Questions whose answer is a date or a quantity, by their opening words (English and Italian), and
# what such an answer must contain. "910B" or "A100" are names, not numbers: digits must stand alone.
_MONTHS = ("gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre|dicembre|"
           "january|february|march|april|may|june|july|august|september|october|november|december")
_DATE_QUESTION = re.compile(r"^\s*(when|what year|in what year|in which year|quando|in che anno|in quale anno|"
                            r"che anno|da quando)\b", re.I)
_COUNT_QUESTION = re.compile(r"^\s*(how many|how much|how old|quanti|quante|quanto|quanta)\b", re.I)
# A question that asks for a price or a share without opening like one ("What is the price of...", "Qual
# è la percentuale di...") wants a number all the same. ("costa" is also a coast, "popolazione" a people.)
_AMOUNT_WORD = re.compile(r"\b(price|prices|cost|costs|percentage|percent|prezzo|prezzi|costo|costi|costano|"
                          r"percentuale)\b", re.I)
_DATE = re.compile(rf"(?<![\w.])\d{{1,4}}(?![\w])|\b({_MONTHS}|secolo|century)\b", re.I)
# "un"/"uno"/"una" count only before a unit ("un giorno", "una volta"): they are Italian's articles far more
# often than numbers, and any sentence with "una piattaforma" answered "Quanti utenti ha Coze?".
_COUNT = re.compile(r"(?<![\w])\d[\d.,]*(?![\w])|\b(un|uno|una)\s+(giorno|settimana|mese|anno|secolo|decennio|ora|"
                    r"minuto|volta|paio|centinaio|migliaio)\b|"
                    r"\b(due|tre|quattro|cinque|sei|sette|otto|nove|dieci|venti|cento|"
                    r"mille|mila|milione|milioni|miliardo|miliardi|migliaia|centinaia|decine|dozzina|dozzine|metà|"
                    r"one|two|three|four|five|six|seven|eight|nine|ten|twenty|hundred|hundreds|thousand|thousands|"
                    r"million|millions|billion|billions|dozen|dozens|half)\b", re.I)
# "How long" is answered by a span of time as well as by a number ("diversi anni", "for decades").
_DURATION_QUESTION = re.compile(r"^\s*(how long|quanto tempo|per quanto tempo|da quanto|quanto dur)", re.I)
_DURATION = re.compile(_COUNT.pattern + r"|\b(anni|anno|mesi|mese|settimane|settimana|giorni|giorno|ore|minuti|"
                       r"secoli|secolo|decenni|decennio|years|year|months|month|weeks|week|days|day|hours|hour|"
                       r"minutes|centuries|century|decades|decade)\b", re.I)


# A question of two parts ("Quante unità ha ordinato ByteDance e con chi rivaleggia Coze?"): "e"/"and" and
# a question word within the next two words start the second part.
_SECOND_PART = re.compile(r"[\s,]+(?:e|ed|and)\s+(?=(?:\w+\s+){0,2}?(?:chi|cosa|come|dove|quando|quale|quali|"
                          r"perché|quanto|quanti|quante|quanta|who|what|which|where|when|why|how)\b)", re.I)


def answer_pattern(question: str) -> re.Pattern[str] | None:
    """What a sentence must contain to answer a "when" or "how many" question; None for other questions,
    and for a question of two parts that do not ask for the same ("how many... and with whom...?")."""
    parts = _SECOND_PART.split(question)
    if len(parts) > 1:
        patterns = {_part_pattern(part) for part in parts}
        return patterns.pop() if len(patterns) == 1 else None
    return _part_pattern(question)


def _part_pattern(question: str) -> re.Pattern[str] | None:
    if _DATE_QUESTION.match(question):
        return _DATE
    if _DURATION_QUESTION.match(question):
        return _DURATION
    if _COUNT_QUESTION.match(question) or _AMOUNT_WORD.search(question):
        return _COUNT
    return None


@dataclass(frozen=True)
class Candidate:
    hit_index: int  # which retrieved passage it comes from (0-based)
    sentence: Sentence
    coverage: float
    similarity: float
    type_ok: bool = True  # False when the question wants a date or quantity and the sentence has none
    passage: float = 1.0  # the passage's retrieval score relative to the best passage's
    corpus_coverage: float = 0.0  # `coverage` with the words weighted by their IDF in this corpus
    passage_coverage: float = 0.0  # `coverage` of its whole passage: the question may span sentences
    cross_lingual: bool = False  # the question is in another language than every document

    @property
    def score(self) -> float:
        """How sure we are that the sentence answers: the confidence, on a scale stable across corpora."""
        raw = self.coverage + SIMILARITY_WEIGHT * self.similarity
        return (raw if self.type_ok else raw * TYPE_MISMATCH_PENALTY) + PASSAGE_WEIGHT * self.passage

    @property
    def confidence(self) -> float:
        """`score` plus the coverage of the sentence's whole passage: an answerable question is
        usually about one passage, whose sentences between them hold all its words. Like the
        sentence's own coverage it is halved when the sentence lacks the date or number asked for."""
        held = PASSAGE_COVERAGE_WEIGHT * self.passage_coverage
        return self.score + (held if self.type_ok else held * TYPE_MISMATCH_PENALTY)

    @property
    def rank(self) -> float:
        """Which sentence to quote: the score, plus the share of the words that are rare in this corpus.

        A word rare in general can be everywhere in one corpus ("Saturno" in an article on Apollo);
        the corpus IDF finds the sentence that holds what sets it apart. It is left out of `score`
        because it drifts with the corpus, and the abstention threshold must not.

        Across languages the question's words match only where they are spelt alike (names,
        numbers), so a sentence holding the one name asked about covers "all" of the question, and
        the corpus-IDF share says even less: the cosine in the multilingual space counts three times
        as much (`CROSS_SIMILARITY_WEIGHT`) and the corpus share not at all. On the 153 answerable
        English questions about Italian articles (bench/data/squad_it_dev_en.jsonl), the quoted
        sentences hold the fact for about 48% -> 60% when always answering (see BENCHMARKS.md).
        """
        if self.cross_lingual:
            raw = self.coverage + CROSS_SIMILARITY_WEIGHT * self.similarity
            return (raw if self.type_ok else raw * TYPE_MISMATCH_PENALTY) + PASSAGE_WEIGHT * self.passage
        return self.score + CORPUS_WEIGHT * self.corpus_coverage


class QuestionTerms:
    """The content words of a question, each with its stems in the corpus languages and a weight.

    A word's weight is how informative it is in the question's language, from general word
    frequencies (wordfreq's Zipf scale, stored with the index: `index.text.frequency`): a name or a
    rare term weighs up to 7, "anno" or "year" about 1.5. General frequencies rather than the
    corpus's own IDF keep the weights, and so the abstention threshold, stable from a one-page
    corpus to a large one.
    """

    def __init__(self, question: str, corpus: Corpus) -> None:
        langs, idf = corpus.langs, corpus.idf
        corpus_langs = set(langs) - {UNKNOWN}
        asked_in = detect_language(question)
        # A question in another language than every document: most of its words are absent for that
        # reason alone, so an absent word is no evidence that the documents lack the answer.
        self.cross_lingual = asked_in_another_language(question, corpus_langs)
        self.pattern = answer_pattern(question)
        langs = corpus_langs | ({asked_in} - {UNKNOWN})
        weigh_in = asked_in if asked_in != UNKNOWN else next(iter(sorted(corpus_langs)), "en")
        stops = frozenset().union(*(stopwords(code) for code in langs))
        stemmers = [stem for c in sorted(langs) if (stem := stemmer(c)) is not None]
        self.words: list[tuple[set[str], float]] = []
        self.corpus_weights: list[float] = []
        self._asked: list[str] = []  # the question's content words, as asked
        self._weights: list[float] = []  # their weights, absent or not
        seen: set[str] = set()
        for word in words(question):
            if word in stops or word in seen or len(word) < 2:
                continue
            seen.add(word)
            stems = {word} | {s.stemWord(word) for s in stemmers}
            in_corpus = any(idf(stem) > 0 for stem in stems)
            weight = informativeness(corpus.zipf(word, weigh_in))
            self._asked.append(word)
            self._weights.append(weight)
            self.words.append((stems, 0.0 if self.cross_lingual and not in_corpus else weight))
            self.corpus_weights.append(max(idf(stem) for stem in stems))
        self._totals()

    def _totals(self) -> None:
        self.total = sum(weight for _, weight in self.words)
        self.corpus_total = sum(self.corpus_weights)

    def expand(self, passages: Sequence[tuple[str, str]], table: WordTable,
               translate: Embed | None = None) -> None:
        """Let each question word also match the words of `passages` ((text, language) pairs) that the
        multilingual encoder puts next to it: "lunare" -> "luna", "iniziato" -> "cominciato", and
        across languages "employees" -> "dipendenti", "price" -> "prezzo".

        The passages' words come from `table`, the index's word vectors made at build time
        (`index.wordvectors`; None when it has none, and then nothing is matched this way in the
        documents' language). A question in another language takes its own words' vectors from
        `translate`, the encoder itself (its words are not in the documents), and only with it do
        those words weigh as in a question in the documents' language, found or not: without it, a
        word spelt unlike any in the documents is left out (weight 0), and an English question
        matched on its names alone would cover "all" of itself ("How many employees does ByteDance
        have?" by any sentence naming ByteDance).
        """
        if not self._asked or (self.cross_lingual and translate is None):
            return
        found = sorted({w for text, lang in passages for w in content_words(text, lang)})
        theirs = table(found) if found else None
        asked: np.ndarray | None
        if self.cross_lingual and translate is not None:
            asked = translate(self._asked)
            if theirs is None and found:
                theirs = translate(found)
        else:
            asked = table(self._asked)
        if asked is not None and theirs is not None and len(found):
            sims = asked @ theirs.T
            # Some words sit near every other ("ceo" is 0.7 from "ecco" and "estere"): a match must also
            # stand out from the word's own neighbourhood, the mean of its nearest (local scaling).
            nearest = -np.sort(-sims, axis=1)[:, :TRANSLATION_NEIGHBOURS].mean(axis=1, keepdims=True)
            near = (sims >= TRANSLATION_MIN) & (sims >= nearest + TRANSLATION_MARGIN)
            # A shared stem is a match unless the encoder puts the two words far apart: Snowball gives
            # "dipendenti" (employees) and "dipendenza" (dependence) one stem, at a cosine of 0.48.
            stemmers = [st for lang in sorted({lang for _, lang in passages}) if (st := stemmer(lang)) is not None]
            stems_of = [{w} | {st.stemWord(w) for st in stemmers} for w in found]
            known = np.linalg.norm(asked, axis=1) > 0
            theirs_known = np.linalg.norm(theirs, axis=1) > 0
            for i, (stems, _) in enumerate(self.words):
                shared = [j for j, held in enumerate(stems_of) if held & stems]
                apart = {j for j in shared if known[i] and theirs_known[j] and sims[i, j] < STEM_MIN}
                if apart:  # match the words themselves, not the stem
                    stems.clear()
                    stems.update({self._asked[i]} | {found[j] for j in shared if j not in apart})
                stems.update(found[j] for j in np.flatnonzero(near[i]))
        if self.cross_lingual:
            self.words = [(stems, weight) for (stems, _), weight in zip(self.words, self._weights, strict=True)]
            self._totals()

    def coverage(self, sentence_terms: set[str]) -> float:
        if not self.total:
            return 0.0
        return sum(w for stems, w in self.words if stems & sentence_terms) / self.total

    def corpus_coverage(self, sentence_terms: set[str]) -> float:
        if not self.corpus_total:
            return 0.0
        return sum(w for (stems, _), w in zip(self.words, self.corpus_weights, strict=True)
                   if stems & sentence_terms) / self.corpus_total


def informativeness(zipf: float) -> float:
    """7 minus the word's Zipf frequency (0 for unknown words), floored at 0.5."""
    return max(0.5, 7.0 - zipf)


def candidates(question: str, hits: list[Hit], corpus: Corpus, question_vector: np.ndarray,
               embed: Embed, translate: Embed | None = None) -> list[Candidate]:
    """Every sentence of the retrieved passages, scored; a sentence shared by overlapping passages once.
    `translate`, the multilingual encoder, embeds the words of a question in another language."""
    qterms = QuestionTerms(question, corpus)
    qterms.expand([(hit.chunk.text, hit.chunk.lang) for hit in hits], corpus.word_vectors, translate)
    seen: set[tuple[str, int]] = set()
    pool: list[tuple[int, Sentence, float, float]] = []
    passage_coverage: list[float] = []
    for i, hit in enumerate(hits):
        chunk = hit.chunk
        passage_coverage.append(qterms.coverage(held_terms(chunk.text, chunk.lang)))
        for sentence in split_sentences(chunk.text, chunk.start):
            key = (chunk.path, sentence.start)
            if key in seen or sentence.text == chunk.heading or is_heading(chunk.text, sentence.start - chunk.start):
                continue
            seen.add(key)
            terms = held_terms(sentence.text, chunk.lang)
            pool.append((i, _trim(sentence, qterms, chunk.lang), qterms.coverage(terms), qterms.corpus_coverage(terms)))
    type_ok = [qterms.pattern is None or bool(qterms.pattern.search(s.text)) for _, s, _, _ in pool]
    if not pool:
        return []
    best = hits[0].score or 1.0
    # Sentences are embedded best bound first, and only while one left could still be chosen or
    # set the confidence: with the cosine at its ceiling, each sentence's score and rank have an
    # upper bound. The answer and the best sentence's confidence are exactly those of embedding every
    # sentence (the question's lead and best cosine are over the sentences embedded); a one-off
    # `rag ask` embeds about a third of them (the NumPy forward pass is most of its time).
    made = [Candidate(i, s, cov, _MAX_COSINE, ok, hits[i].score / best, corpus, passage_coverage[i],
                      qterms.cross_lingual) for (i, s, cov, corpus), ok in zip(pool, type_ok, strict=True)]
    order = sorted(range(len(made)), key=lambda n: -made[n].rank)
    done: list[Candidate] = []
    for start in range(0, len(order), EMBED_BATCH):
        if done and _settled(done, [made[n] for n in order[start:]]):
            break
        rows = order[start:start + EMBED_BATCH]
        sims = embed([made[n].sentence.text for n in rows]) @ question_vector
        done += [replace(made[n], similarity=float(sim)) for n, sim in zip(rows, sims, strict=True)]
    return sorted(done, key=lambda c: (c.hit_index, c.sentence.start))


EMBED_BATCH = 8
_MAX_COSINE = 1.0 + 1e-4  # unit vectors; the margin covers float rounding


def _settled(done: list[Candidate], bounds: list[Candidate]) -> bool:
    """Whether no sentence still to embed (scored at the cosine ceiling) could change the outcome:
    it can neither beat the confidence, nor be the best or a runner-up close enough to be quoted."""
    top_rank = max(c.rank for c in done)
    if top_rank <= 0:
        return False
    return (max(c.rank for c in bounds) < RUNNER_UP_RATIO * top_rank
            and max(c.confidence for c in bounds) < max(c.confidence for c in done))


def choose(cands: list[Candidate]) -> list[Candidate]:
    """The best sentence, plus the runner-up when it is almost as good; in reading order."""
    if not cands:
        return []
    ranked = sorted(cands, key=lambda c: -c.rank)
    chosen = [ranked[0]]
    if len(ranked) > 1 and ranked[1].rank >= RUNNER_UP_RATIO * ranked[0].rank:
        chosen.append(ranked[1])
    return sorted(chosen, key=lambda c: (c.hit_index, c.sentence.start))


_END_PUNCT = tuple(".!?;:,…)\"'»”")
HEADING_MAX_WORDS = 12


def is_heading(text: str, start: int) -> bool:
    """Whether the sentence at `start` of a passage is a heading, which names a subject but never
    answers: a line of its own (a blank line or the passage's edge above and below), of at most
    `HEADING_MAX_WORDS` words, not ending like a sentence; or a Markdown `#` line. A heading inside a
    passage is not its `heading` (that is the one above the passage), and was quoted as an answer."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line_end = len(text) if line_end < 0 else line_end
    line = text[line_start:line_end].strip()
    if line.startswith("#"):
        return True
    if not line or len(line.split()) > HEADING_MAX_WORDS or line.endswith(_END_PUNCT):
        return False
    above = text[:line_start].rstrip(" \t")
    below = text[line_end:].lstrip(" \t")
    return (not above.strip() or above.endswith("\n\n")) and (not below.strip() or below.startswith("\n\n"))


def _trim(sentence: Sentence, qterms: QuestionTerms, lang: str) -> Sentence:
    """A sentence over `MAX_SENTENCE_CHARS`, cut to a stretch of that length, from a word's start to a
    word's end: its beginning when that holds as much of the question's words as any stretch (the
    answer often opens the sentence), else the middle one of the stretches that hold most, so the words
    sit mid-quote. Cutting at the end alone lost the answer beside words further on (a question on the
    age of a fossil, quoted up to just before "515 milioni di anni")."""
    text = sentence.text
    if len(text) <= MAX_SENTENCE_CHARS:
        return sentence
    windows: list[tuple[float, int, int]] = []
    for match in re.finditer(r"\S+", text):
        start, end = match.start(), len(text)
        if end - start > MAX_SENTENCE_CHARS:
            cut = text.rfind(" ", start, start + MAX_SENTENCE_CHARS + 1)
            end = cut if cut > start else start + MAX_SENTENCE_CHARS
        windows.append((qterms.coverage(held_terms(text[start:end], lang)), start, end))
        if end == len(text):  # the windows after this one are parts of it
            break
    most = max(held for held, _, _ in windows)
    best = [(start, end) for held, start, end in windows if held == most]
    best_start, best_end = best[0] if best[0][0] == windows[0][1] else best[len(best) // 2]
    piece = text[best_start:best_end].rstrip()
    return Sentence(piece, sentence.start + best_start, sentence.start + best_start + len(piece))


class ExtractiveAnswerer:
    """Quotes the best sentences with their citations, or abstains below the confidence threshold."""

    name = "extractive"

    def __init__(self, min_confidence: float | None = None, no_answer: str = "") -> None:
        self.threshold, self.no_answer = threshold(min_confidence), no_answer or REFUSAL

    def answer(self, retrieval: Retrieval, on_token: OnToken | None = None) -> Answer:
        question, hits = retrieval.question, retrieval.hits
        cands = candidates(retrieval.focus or question, hits, retrieval.corpus, retrieval.vector, retrieval.embed,
                           retrieval.translate)
        chosen = choose(cands)
        conf = question_confidence(cands, hits, chosen)
        if not chosen or conf < self.threshold:
            nearest = tuple(Citation(n, hit) for n, hit in enumerate(hits[:3], start=1))
            return Answer(question, self.no_answer, (), nearest, True, conf, retrieved=tuple(hits))
        numbers: dict[int, int] = {}
        for cand in chosen:
            numbers.setdefault(cand.hit_index, len(numbers) + 1)
        citations = tuple(Citation(n, hits[i]) for i, n in numbers.items())
        sentences = tuple(AnswerSentence(c.sentence.text, (numbers[c.hit_index],),
                                         char_span=(c.sentence.start, c.sentence.end)) for c in chosen)
        text = " ".join(f"{s.text} [{s.citations[0]}]" for s in sentences)
        return Answer(question, text, sentences, citations, False, conf, retrieved=tuple(hits))
