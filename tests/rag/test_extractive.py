"""The extractive answerer's parts, checked by hand, and the real answerer on the real seeds."""

from __future__ import annotations

from dataclasses import replace

from index.text.frequency import general_zipf
from index.text.sentences import Sentence, split_sentences
from rag.answerers.extractive import answer_pattern, informativeness
from rag.prompts import REFUSAL


def test_sentences_keep_spans_and_numbers() -> None:
    text = "ByteDance ha ordinato 100.000 unità. Ne ha ricevute 30.000! Perché?\nTitolo breve della sezione"
    sentences = split_sentences(text, offset=10)
    assert [s.text for s in sentences] == ["ByteDance ha ordinato 100.000 unità.", "Ne ha ricevute 30.000!",
                                           "Titolo breve della sezione"]
    for s in sentences:
        assert text[s.start - 10:s.end - 10] == s.text


def test_initials_and_titles_do_not_end_a_sentence() -> None:
    text = ("Nel 1960 John F. Kennedy fu eletto. Lo disse il Dr. Rossi, nel caso FCC v. Pacifica. "
            "Il singolo raggiunse il No. 1 nel Regno Unito. Elencò mele, pere, ecc. Poi tacque a lungo.")
    assert [s.text for s in split_sentences(text)] == [
        "Nel 1960 John F. Kennedy fu eletto.", "Lo disse il Dr. Rossi, nel caso FCC v. Pacifica.",
        "Il singolo raggiunse il No. 1 nel Regno Unito.", "Elencò mele, pere, ecc.", "Poi tacque a lungo."]


def test_answer_types() -> None:
    assert answer_pattern("Quando è stata fondata Huawei?").search("nel 1987")  # type: ignore[union-attr]
    assert not answer_pattern("When was Huawei founded?").search("i chip Ascend 910B e A100")  # type: ignore[union-attr]
    assert answer_pattern("Quanti chip?").search("circa 30.000 unità")  # type: ignore[union-attr]
    assert answer_pattern("Che cos'è Coze?") is None
    assert not answer_pattern("What is the price of the Ascend 910B?").search("i chip Ascend 910B")  # type: ignore[union-attr]
    assert answer_pattern("Qual è il prezzo del chip?").search("costa 12.000 dollari")  # type: ignore[union-attr]
    assert answer_pattern("Su quale costa si trova la città?") is None  # a coast, not a price
    assert not answer_pattern("Quanti utenti ha Coze?").search("Coze, una piattaforma per tutti")  # type: ignore[union-attr]
    assert answer_pattern("Quanti anni fa?").search("circa un miliardo di anni fa")  # type: ignore[union-attr]
    assert answer_pattern("Quanti giorni dopo?").search("Un giorno dopo il volo")  # type: ignore[union-attr]
    assert answer_pattern("Quanto tempo ci vuole?").search("ci vogliono diversi anni")  # type: ignore[union-attr]
    assert not answer_pattern("Quanti chip?").search("ci vogliono diversi anni")  # type: ignore[union-attr]
    # two parts asking for different things: neither part's type is required of every sentence
    assert answer_pattern("Quante unità ha ordinato ByteDance e con chi rivaleggia Coze?") is None
    assert answer_pattern("Quanti chip e quanti server ha ordinato?") is not None


def test_rare_words_weigh_more() -> None:
    def weight(word: str, lang: str) -> float:
        return informativeness(general_zipf(word, lang))

    assert weight("bytedance", "it") > weight("fatturato", "it") > weight("anno", "it")
    assert weight("zzqxw", "xx") == 7.0


def test_real_answers_on_seeds(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = seed_assistant.ask("Quali chip usava ByteDance prima delle restrizioni?")
    assert not answer.abstained and "NVIDIA" in answer.text
    for sentence in answer.sentences:  # every answer sentence is a verbatim quote of its cited passage
        cited = next(c for c in answer.citations if c.n == sentence.citations[0]).hit.chunk
        assert sentence.text in cited.text
        assert cited.start <= sentence.char_span[0] < sentence.char_span[1] <= cited.end
    assert seed_assistant.ask("When was Huawei founded?").text == REFUSAL
    assert seed_assistant.ask("Quanto costa un chip Ascend 910B?").abstained  # no price: the chip's name is no answer
    for token in ("910B", "Reuters"):
        assert token in seed_assistant.search(token, k=1)[0].chunk.text


def test_real_english_questions_on_seeds(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    """English questions on the Italian seed, with the real multilingual encoder (USE v3): "skills" is
    found as "competenze"; "employees" and "users" are found nowhere, so naming ByteDance or Coze is
    not an answer."""
    assert seed_assistant.searcher.word_vectors(["chip"]) is not None  # the build stored the word table
    answer = seed_assistant.ask("Does Coze require programming skills?")
    assert not answer.abstained and "senza richiedere competenze di programmazione" in answer.text
    assert "TikTok" in seed_assistant.ask("Which company is ByteDance the parent of?").text
    for question in ("How many employees does ByteDance have?", "How many users does Coze have?"):
        assert seed_assistant.ask(question).abstained, question


def test_corpus_rare_words_choose_the_sentence_but_not_the_confidence() -> None:
    from index.lexical import LexicalIndex
    from index.text.language import terms
    from rag.answerers.extractive import Candidate, QuestionTerms, choose

    # "Saturno" is in every passage of this corpus, "Huntsville" in one: the sentence with Huntsville
    # holds what sets the question apart, although both hold one of its two rare words.
    docs = ["Il razzo Saturno fu provato.", "Saturno volò nel 1967.", "Saturno fu costruito a Huntsville."]
    lexical = LexicalIndex.build([terms(d, "it") for d in docs])

    class Corpus:  # what the answerer asks of an index (a Searcher in the product)
        langs = {"it"}
        idf = staticmethod(lexical.idf)
        zipf = staticmethod(general_zipf)

    qterms = QuestionTerms("Saturno e Huntsville?", Corpus())
    with_city, with_rocket = set(terms("Huntsville", "it")), set(terms("Saturno", "it"))
    assert qterms.corpus_coverage(with_city) > 0.5 > qterms.corpus_coverage(with_rocket) > 0
    city = Candidate(0, Sentence("Fu costruito a Huntsville.", 0, 26), 0.5, 0.5, corpus_coverage=0.9)
    rocket = Candidate(0, Sentence("Il razzo Saturno fu provato.", 30, 58), 0.5, 0.6, corpus_coverage=0.1)
    assert rocket.score > city.score and city.rank > rocket.rank
    assert choose([rocket, city])[0] is city
    assert max(rocket.confidence, city.confidence) == rocket.confidence  # the corpus-independent scale
    covered = replace(city, passage_coverage=1.0)  # its passage holds the whole question
    assert covered.confidence == covered.score + 0.5 > city.confidence == city.score


def test_the_confidence_is_the_quoted_sentences_and_a_missing_number_refuses() -> None:
    """The question's confidence is that of the sentence quoted, not of a likelier one left unshown; and
    a "how many" question whose quoted sentences hold no number is refused however well they match."""
    from types import SimpleNamespace

    from rag.answerers.confidence import question_confidence
    from rag.answerers.extractive import Candidate

    hits = [SimpleNamespace(score=1.0), SimpleNamespace(score=0.5)]
    named = Candidate(0, Sentence("Il chip Ascend 910B di Huawei.", 0, 30), 0.9, 0.6)
    number = Candidate(1, Sentence("Ne ha ordinati 100.000.", 40, 63), 0.3, 0.6, passage=0.5)
    assert number.confidence != named.confidence
    both = [named, number]
    assert question_confidence(both, hits, [named]) != question_confidence(both, hits, [number])
    assert question_confidence(both, hits) == max(question_confidence(both, hits, [c]) for c in both)
    unnumbered = replace(named, type_ok=False)
    assert question_confidence([unnumbered, number], hits, [unnumbered]) == 0.0
    assert question_confidence([unnumbered, number], hits, [unnumbered, number]) > 0.0


def test_a_long_sentence_is_cut_around_the_question_words() -> None:
    from index.lexical import LexicalIndex
    from index.text.language import terms
    from rag.answerers.extractive import MAX_SENTENCE_CHARS, QuestionTerms, _trim

    filler = "e poi ancora una lunga digressione sul clima delle coste " * 10
    text = filler + "i fossili di ctenofori risalgono a 515 milioni di anni fa."
    lexical = LexicalIndex.build([terms(text, "it")])

    class Corpus:
        langs = {"it"}
        idf = staticmethod(lexical.idf)
        zipf = staticmethod(general_zipf)

    sentence = Sentence(text, 1000, 1000 + len(text))
    cut = _trim(sentence, QuestionTerms("Quanto sono vecchi i fossili di ctenofori?", Corpus()), "it")
    assert len(cut.text) <= MAX_SENTENCE_CHARS and "515 milioni" in cut.text
    assert text[cut.start - 1000:cut.end - 1000] == cut.text  # still a verbatim span of the sentence
    opening = "La società Scripps è il maggiore operatore di fossili di ctenofori, " + filler
    asked = QuestionTerms("Chi è il maggiore operatore di fossili di ctenofori?", Corpus())
    first = _trim(Sentence(opening, 0, len(opening)), asked, "it")
    assert first.start == 0 and first.text.startswith("La società Scripps")  # its beginning holds them all
    short = Sentence("I fossili sono antichi.", 0, 23)
    assert _trim(short, QuestionTerms("fossili?", Corpus()), "it") is short


def test_embedding_only_sentences_that_can_win_changes_nothing(seed_assistant, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Sentences are embedded best bound first and only while one could still be chosen: the same
    sentences and confidence as embedding all of them, for fewer embeddings."""
    import json

    from rag.answerers import extractive
    from tests.conftest import DATA

    searcher = seed_assistant.searcher
    embedded: list[int] = []

    def counting(texts):  # type: ignore[no-untyped-def]
        embedded.append(len(texts))
        return seed_assistant.embedder.embed(texts)

    questions = [json.loads(line)["question"] for line in (DATA / "seed_dev.jsonl").read_text().splitlines()
                 if line.strip()] + ["Chi è il fondatore di ByteDance?", "What is Coze?", "chip"]
    saved = {"all": 0, "pruned": 0}
    for question in questions:
        vector = searcher.embed_query(question)
        hits = searcher.search(question, 5, query_vector=vector)
        outcome = {}
        for name, batch in (("all", 10_000), ("pruned", 2)):
            monkeypatch.setattr(extractive, "EMBED_BATCH", batch)
            embedded.clear()
            cands = extractive.candidates(question, hits, searcher, vector, counting)
            saved[name] += sum(embedded)
            chosen = extractive.choose(cands)
            outcome[name] = ([c.sentence.text for c in chosen], round(max(c.score for c in cands), 5))
        assert outcome["pruned"] == outcome["all"], question
    assert saved["pruned"] < saved["all"]


def test_a_heading_inside_a_passage_is_never_an_answer() -> None:
    from rag.answerers.extractive import is_heading

    text = ("Intro line.\n\nL’innovazione di ByteDance: la piattaforma Coze\n\nIn parallelo allo sviluppo, "
            "ByteDance ha lanciato Coze.\nFondazione: 1987\n\n## Storia\nAltro testo.")
    assert is_heading(text, text.index("L’innovazione"))  # a short line alone between blank lines
    assert is_heading(text, text.index("## Storia"))  # a Markdown heading
    assert not is_heading(text, text.index("In parallelo"))  # a sentence
    assert not is_heading(text, text.index("Fondazione"))  # a line inside a paragraph: a fact, not a title
    assert not is_heading(text, text.index("Intro"))  # it ends like a sentence


def test_a_question_in_another_language_matches_its_words_translated() -> None:
    """Across languages a question word matches the passages' words the multilingual encoder puts next to
    it, unless they are only as near as everything else is to it (a word that sits near every word)."""
    import numpy as np

    from index.text.language import held_terms
    from rag.answerers.extractive import QuestionTerms

    class Corpus:  # Italian documents in which "bytedance" is a term
        langs = {"it"}
        idf = staticmethod(lambda term: 1.0 if term.startswith("byted") else 0.0)
        zipf = staticmethod(general_zipf)

    fillers = [f"parola{n}" for n in range(12)]
    axes = {w: n for n, w in enumerate(["employees", "dipendenti", "bytedance", "ceo", *fillers])}
    vectors = {w: np.eye(len(axes))[n] for w, n in axes.items()}
    vectors["dipendenti"] = 0.9 * vectors["employees"] + np.sqrt(1 - 0.81) * vectors["dipendenti"]
    for w in fillers:  # "ceo" is 0.7 from every filler, as a word that sits near all others
        vectors[w] = 0.7 * vectors["ceo"] + np.sqrt(1 - 0.49) * vectors[w]

    def embed(texts: list[str]) -> np.ndarray:  # any other word is orthogonal to all
        return np.stack([vectors.get(t, np.zeros(len(axes))) for t in texts])

    passage = ("ByteDance ha 150.000 dipendenti. " + " ".join(fillers), "it")
    staff = held_terms("ByteDance ha 150.000 dipendenti.", "it")
    for question, matched in (("How many employees does ByteDance have?", staff),
                              ("Who is the CEO of ByteDance?", held_terms(" ".join(fillers), "it"))):
        qterms = QuestionTerms(question, Corpus())
        name_only = held_terms("ByteDance", "it")
        assert qterms.coverage(name_only) == 1.0  # untranslated, its other words weigh nothing
        qterms.expand([passage], lambda found: None)
        assert qterms.coverage(name_only) == 1.0  # nor with no encoder for the question's words
        qterms.expand([passage], lambda found: None, embed)
        assert 0.0 < qterms.coverage(name_only) < 1.0  # now they count, found or not
        if "employees" in question:  # "dipendenti" is its translation
            assert qterms.coverage(matched) > qterms.coverage(name_only)
        else:  # a filler is as near "ceo" as every other filler: none is its translation
            assert qterms.coverage(matched) == 0.0


def test_a_question_word_matches_its_near_synonyms_through_the_word_table() -> None:
    """In the documents' language, "iniziato" matches "cominciato" when the index's word vectors put
    them together; with no table (an older index) only spelling and stems match."""
    import numpy as np

    from index.text.language import held_terms
    from rag.answerers.extractive import QuestionTerms

    class Corpus:
        langs = {"it"}
        idf = staticmethod(lambda term: 1.0)
        zipf = staticmethod(general_zipf)

    axes = ["iniziato", "cominciato", "restauro", "torre"]
    vectors = {w: np.eye(len(axes))[n] for n, w in enumerate(axes)}
    vectors["cominciato"] = 0.8 * vectors["iniziato"] + 0.6 * vectors["cominciato"]

    def table(found):  # type: ignore[no-untyped-def]
        return np.stack([vectors.get(w, np.zeros(len(axes))) for w in found])

    passage = ("Il restauro della torre è cominciato nel 1990.", "it")
    sentence = held_terms(passage[0], "it")
    plain = QuestionTerms("Quando è iniziato il restauro?", Corpus())
    plain.expand([passage], lambda found: None)
    softened = QuestionTerms("Quando è iniziato il restauro?", Corpus())
    softened.expand([passage], table)
    assert plain.coverage(sentence) < softened.coverage(sentence)
