"""Digests for the render tests, built from the real Hugging Face daily papers of 2024-09-24."""

from __future__ import annotations

import json
from pathlib import Path

from paperdigest.models import CategorySynthesis, Digest, Finding, Paper, Section, Usage
from paperdigest.taxonomy import load_taxonomy

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "hf-2024-09-24.json"

# Which category each paper of the day goes to; two papers fail to be summarized and
# Natural Language Processing gets no synthesis.
CATEGORY_OF = {
    "2409.14674": "imitation",
    "2409.15277": "medicine",
    "2409.14713": "multimodal",
    "2409.15278": "cv",
    "2409.14988": "llm",
    "2409.14677": "cv",
    "2409.15268": "llm",
    "2409.15273": "cv",
    "2409.13910": "nlp",
    "2409.13191": "medicine",
    "2409.13773": "llm",
    "2409.14340": "multimodal",
}
FAILED_IDS = ("2409.14393", "2409.13926")
NO_SYNTHESIS = "nlp"


def load_papers() -> list[Paper]:
    """Return the fixture's papers, ids taken from their Hugging Face page URLs."""
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return [
        Paper(
            arxiv_id=item["url"].rsplit("/", 1)[1],
            title=item["title"],
            abstract=item["abstract"],
            authors=list(item["authors"]),
            upvotes=item["upvotes"],
            sources=["hf-daily"],
        )
        for item in data["papers"]
    ]


def first_sentence(text: str) -> str:
    """Return the first sentence of an abstract, newlines and all."""
    return text.split(". ", 1)[0] + "."


def build_digest(
    language: str = "ko", engine: str = "embedded", papers: list[Paper] | None = None
) -> Digest:
    """Return a digest of the fixture day, sections in taxonomy order."""
    papers = load_papers() if papers is None else papers
    taxonomy = load_taxonomy()
    sections = []
    for category in taxonomy.categories:
        members = [p for p in papers if CATEGORY_OF.get(p.arxiv_id) == category.id]
        if not members:
            continue
        synthesis = None
        if category.id != NO_SYNTHESIS:
            synthesis = CategorySynthesis(
                category=category.id,
                themes=f"{category.name}: {members[0].title}.",
                trends="모델, 데이터, 평가.",
                findings=[Finding(p.arxiv_id, first_sentence(p.abstract)) for p in members],
                impact="연구와 산업 전반.",
                outlook="후속 연구가 기대됩니다.",
                engine=engine,
            )
        sections.append(Section(category=category, papers=members, synthesis=synthesis))
    failed = [p for p in papers if p.arxiv_id in FAILED_IDS]
    usage = Usage(calls=12, prompt_tokens=10_000, completion_tokens=2_345, cost_usd=0.0042)
    return Digest(
        date="2024-09-24",
        language=language,
        sections=sections,
        failed=failed,
        engine=engine,
        usage=usage if engine.startswith("llm:") else Usage(),
    )
