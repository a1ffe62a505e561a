"""When to abstain: the confidence of an extractive answer and its calibrated threshold.

Confidence is the score of the best candidate sentence (see `extractive.Candidate.score`):
IDF-weighted coverage of the question's words plus half the question-sentence cosine, halved when
a "when"/"how many" question meets a sentence with no date or number.

How DEFAULT_THRESHOLD was calibrated (reproduce with `python bench/calibrate.py`): on
`shared/eval/squad_it_dev` (3,037 answerable questions, 300 about articles the corpus lacks) we
computed the confidence of every question and took the threshold at which 90% of the unanswerable
questions abstain, then rounded it down to keep answers coming on other corpora; the seed set
(`seed_dev.jsonl`) was checked with it, not fitted to it.
"""

from __future__ import annotations

from rag.extractive import Candidate

DEFAULT_THRESHOLD = 0.60


def confidence(cands: list[Candidate]) -> float:
    return max((c.score for c in cands), default=0.0)


def threshold(configured: float | None) -> float:
    return DEFAULT_THRESHOLD if configured is None else configured
