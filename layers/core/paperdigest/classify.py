"""Rule-based classification of a paper into one category of the taxonomy.

Each category scores points from the paper's arXiv categories (the primary one weighs
more) and from the keyword hints of the taxonomy found in the title (weighs more) and
the abstract. The best category wins; a weak or ambiguous best score files the paper
under ``other``. No network, no model: the same paper always gets the same answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from paperdigest.models import Category, Paper
from paperdigest.taxonomy import OTHER, Taxonomy

PRIMARY_WEIGHT = 4.0
SECONDARY_WEIGHT = 1.5
TITLE_WEIGHT = 3.0
ABSTRACT_WEIGHT = 1.0
# Repeats of a hint in the abstract add less and less: 1, 1.7, 2.1, ... capped.
ABSTRACT_CAP = 3.0
# Below this best score the evidence is too thin to name a category.
MIN_SCORE = 2.0
# Below this confidence the paper goes to "other".
MIN_CONFIDENCE = 0.3
# The score at which confidence stops growing with the best score alone.
SATURATION = 10.0


@dataclass(frozen=True, slots=True)
class LabelledPaper:
    """A paper with the category id a person filed it under."""

    paper: Paper
    category: str


@cache
def _hint_pattern(hint: str) -> re.Pattern[str]:
    # Whole words, an optional plural; a hyphen may follow ("o1-preview", "image-to-image")
    # but not precede, so "non-medical" is not "medical".
    return re.compile(rf"(?<![\w-]){re.escape(hint)}(?:s|es)?(?!\w)", re.IGNORECASE)


def _count(hint: str, text: str) -> int:
    return len(_hint_pattern(hint).findall(text))


def score_category(category: Category, paper: Paper) -> float:
    """Return the evidence that ``paper`` belongs to ``category`` (0 when none)."""
    score = 0.0
    if paper.primary_category and paper.primary_category in category.arxiv:
        score += PRIMARY_WEIGHT
    secondary = {c for c in paper.categories if c != paper.primary_category}
    score += SECONDARY_WEIGHT * len(secondary.intersection(category.arxiv))

    for hint in category.hints:
        if _count(hint, paper.title):
            score += TITLE_WEIGHT
        hits = _count(hint, paper.abstract)
        if hits:
            score += ABSTRACT_WEIGHT * min(ABSTRACT_CAP, 1.0 + math.log(hits))
    return score


def scores(paper: Paper, taxonomy: Taxonomy) -> dict[str, float]:
    """Return every category's score for ``paper``, ``other`` excluded."""
    return {c.id: score_category(c, paper) for c in taxonomy.categories if c.id != OTHER}


def classify(paper: Paper, taxonomy: Taxonomy) -> tuple[str, float]:
    """Return ``(category id, confidence)`` for ``paper``.

    Confidence (0..1) grows with the best score and with its margin over the runner-up.
    A best score under ``MIN_SCORE`` or a confidence under ``MIN_CONFIDENCE`` gives
    ``("other", confidence)``. Ties go to the category listed first in the taxonomy.
    """
    ranked = sorted(scores(paper, taxonomy).items(), key=lambda kv: -kv[1])
    if not ranked:
        return OTHER, 0.0
    best_id, best = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if best <= 0.0:
        return OTHER, 0.0

    strength = min(1.0, best / SATURATION)
    margin = (best - runner_up) / best
    confidence = round(0.5 * strength + 0.5 * margin, 3)
    if best < MIN_SCORE or confidence < MIN_CONFIDENCE:
        return OTHER, confidence
    return best_id, confidence


def accuracy(golden: Iterable[LabelledPaper], taxonomy: Taxonomy) -> float:
    """Return the share of ``golden`` papers that ``classify`` files correctly."""
    items = list(golden)
    if not items:
        return 0.0
    hits = sum(1 for item in items if classify(item.paper, taxonomy)[0] == item.category)
    return hits / len(items)
