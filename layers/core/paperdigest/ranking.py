"""Explainable ranking and selection of candidate papers.

Each paper's score is a sum of named parts, stored with the selection so that a
reader (or ``paperdigest status``) can see why a paper made the digest:

- ``upvotes``    Hugging Face community upvotes, log-scaled;
- ``sources``    a bonus for each further source that carried the paper;
- ``announce``   new submissions rank above cross-lists;
- ``relevance``  how clearly the paper belongs to one of the taxonomy's fields;
- ``keywords``   configured keywords found in the title or abstract.

Papers with Hugging Face upvotes rank by them; the score orders the rest and breaks
ties. Selection walks the ranking and keeps at most ``per_category_cap`` papers of one
category, so that one busy field cannot crowd out the others; when the cap
leaves places free, the best of the remaining papers fill them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from paperdigest.classify import classify
from paperdigest.models import Paper
from paperdigest.taxonomy import OTHER, Taxonomy

UPVOTE_WEIGHT = 2.0
SOURCE_BONUS = 0.5
ANNOUNCE_POINTS = {"new": 1.0, "cross": 0.5}
RELEVANCE_WEIGHT = 1.0
KEYWORD_POINTS = 0.5
KEYWORDS_COUNTED = 3


@dataclass(slots=True)
class Ranked:
    """A paper with its score, the parts of the score and its provisional category."""

    paper: Paper
    score: float
    parts: dict[str, float] = field(default_factory=dict)
    category: str = OTHER


def score_paper(paper: Paper, taxonomy: Taxonomy, keywords: Sequence[str] = ()) -> Ranked:
    """Score one paper; the parts add up to the score."""
    category, confidence = classify(paper, taxonomy)
    parts: dict[str, float] = {}
    if paper.upvotes is not None:
        parts["upvotes"] = round(UPVOTE_WEIGHT * math.log1p(max(paper.upvotes, 0)), 4)
    if len(paper.sources) > 1:
        parts["sources"] = SOURCE_BONUS * (len(paper.sources) - 1)
    if paper.announce_type in ANNOUNCE_POINTS:
        parts["announce"] = ANNOUNCE_POINTS[paper.announce_type]
    parts["relevance"] = round(RELEVANCE_WEIGHT * (confidence if category != OTHER else 0.0), 4)
    text = f"{paper.title} {paper.abstract}".casefold()
    found = [k for k in keywords if re.search(rf"\b{re.escape(k.casefold())}", text)]
    if found:
        parts["keywords"] = KEYWORD_POINTS * min(len(found), KEYWORDS_COUNTED)
    return Ranked(paper=paper, score=round(sum(parts.values()), 4), parts=parts, category=category)


def rank(papers: list[Paper], taxonomy: Taxonomy, keywords: Sequence[str] = ()) -> list[Ranked]:
    """Return the papers scored and sorted best first.

    Community upvotes are the strongest judgement we have: papers that carry them come
    first, by upvotes; the score orders the rest and breaks ties.
    """
    ranked = [score_paper(p, taxonomy, keywords) for p in papers]
    ranked.sort(
        key=lambda r: (r.paper.upvotes is None, -(r.paper.upvotes or 0), -r.score, r.paper.arxiv_id)
    )
    return ranked


def select(ranked: list[Ranked], max_papers: int, per_category_cap: int) -> list[Ranked]:
    """Pick up to ``max_papers`` from a ranking, at most ``per_category_cap`` per category.

    Returns the selection in ranking order. When the cap leaves places free, the
    best papers it held back fill them.
    """
    chosen: list[Ranked] = []
    held_back: list[Ranked] = []
    per_category: dict[str, int] = {}
    for item in ranked:
        if len(chosen) == max_papers:
            break
        if per_category.get(item.category, 0) < per_category_cap:
            chosen.append(item)
            per_category[item.category] = per_category.get(item.category, 0) + 1
        else:
            held_back.append(item)

    free = max_papers - len(chosen)
    if free > 0 and held_back:
        chosen.extend(held_back[:free])
    order = {id(item): position for position, item in enumerate(ranked)}
    chosen.sort(key=lambda item: order[id(item)])
    return chosen
