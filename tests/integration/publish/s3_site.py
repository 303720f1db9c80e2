"""Helpers of the publish tests: where the site lives, and settled runs seeded from a real day."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from paperdigest.models import CategorySynthesis, Finding, Paper, PaperSummary
from paperdigest.storage import DONE, FAILED, CategoryItem, PaperItem, Store
from paperdigest.taxonomy import load_taxonomy

REGION = "us-east-1"
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "hf-2024-09-24.json"
CATEGORIES = ("cv", "llm", "multimodal", "medicine", "nlp", "imitation")


@dataclass(frozen=True, slots=True)
class Site:
    bucket: str
    table: str


def load_papers() -> list[Paper]:
    """The recorded Hugging Face daily papers of 2024-09-24."""
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return [
        Paper(
            arxiv_id=item["url"].rsplit("/", 1)[1],
            title=item["title"],
            abstract=item["abstract"],
            authors=list(item["authors"]),
        )
        for item in data["papers"]
    ]


def _summary(paper: Paper, category: str) -> dict[str, object]:
    first = paper.abstract.split(". ")[0]
    return PaperSummary(
        arxiv_id=paper.arxiv_id,
        category=category,
        confidence=0.8,
        takeaway=first,
        problem=first,
        method="",
        result="",
        keywords=["k"],
        engine="embedded",
    ).to_dict()


def seed_run(date: str, count: int, failed: int = 0, language: str = "ko") -> list[Paper]:
    """Record a settled run of ``date``: ``count`` papers, the last ``failed`` not summarized.

    The table must be bound (``bind_table``) inside a moto mock.
    """
    papers = load_papers()[:count]
    taxonomy = load_taxonomy()
    groups: dict[str, list[Paper]] = {}
    items = []
    for rank, paper in enumerate(papers):
        item = PaperItem(
            "",
            f"PAPER#{paper.arxiv_id}",
            arxiv_id=paper.arxiv_id,
            rank=rank,
            score=round(10 - rank * 0.5, 2),
            paper=paper.to_dict(),
        )
        if rank >= count - failed:
            item.status = FAILED
        else:
            category = CATEGORIES[rank % len(CATEGORIES)]
            item.status = DONE
            item.category = category
            item.summary = _summary(paper, category)
            groups.setdefault(category, []).append(paper)
        items.append(item)
    store = Store(clock=lambda: 1_727_000_000)
    stats = {"candidates": count + 3, "selected": count, "sources": ["hf-daily"]}
    store.create_run(date, language, items, stats)

    for category, members in groups.items():
        name = taxonomy.get(category).name
        synthesis = CategorySynthesis(
            category=category,
            themes=f"{name}: {members[0].title}",
            trends="models, data",
            findings=[Finding(p.arxiv_id, p.abstract.split(". ")[0]) for p in members],
            impact="broad",
            outlook="more to come",
            engine="embedded",
        )
        CategoryItem(
            f"RUN#{date}",
            f"CAT#{category}",
            category=category,
            paper_ids=[p.arxiv_id for p in members],
            status=DONE,
            synthesis=synthesis.to_dict(),
        ).save()
    return papers
