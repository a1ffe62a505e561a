"""When to abstain: the confidence of an extractive answer and its calibrated threshold.

Confidence is the best `extractive.Candidate.confidence`: the weighted share of the question's words
the sentence contains, plus half its cosine to the question (the coverage halved for a "when"/"how
many" question answered without a date or number), plus half its passage's retrieval score relative
to the best passage's, plus half the share of the question's words its whole passage holds (halved
too on a type mismatch). Which sentence is quoted also weighs the words rare in the corpus
(`Candidate.rank`); the confidence leaves that out, so its scale does not drift with the corpus.

How DEFAULT_THRESHOLD was calibrated (reproduce with `python bench/calibrate.py`): every question of
squad_it_dev was asked and its confidence computed; the 300 unanswerable ones are about articles
the corpus lacks. Their 90th percentile is 1.52 and their 94th 1.61; we keep 1.55, a round number
between them, so that a corpus unlike Wikipedia still sees about 90% of off-topic questions refused.
At 1.55, 91.3% of the unanswerable abstain and 61.0% of the 3,037 answerable are answered with the
fact and a right citation (median 316 characters). The articles were also split into two halves
(even and odd in name order, the unanswerable questions alternately) to see what the threshold does
on each: 89.3% / 62.9% on one, 93.3% / 58.2% on the other. The window used to come from one half's
150 unanswerable questions alone, but the 90th percentile of 150 is their 15th highest: its
bootstrap 95% interval is 1.46-1.64, and it moved from 1.54 to 1.59 when the sentence splitter
stopped cutting at initials. The seed set (`seed_dev.jsonl`) was then checked, not fitted: its
answerable questions score 1.90-2.24, its unanswerable ones 1.38 and 1.52. Because word weights come
from general word frequencies, not the corpus, the scale does not drift with the corpus's size.
"""

from __future__ import annotations

DEFAULT_THRESHOLD = 1.55  # 1.3 before the passage's coverage joined the confidence


def threshold(configured: float | None) -> float:
    return DEFAULT_THRESHOLD if configured is None else configured
