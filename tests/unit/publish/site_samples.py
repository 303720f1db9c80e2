"""Digests for the site tests: the recorded Hugging Face day of 2024-09-24, plain or hostile."""

from __future__ import annotations

from paperdigest.models import (
    CategorySynthesis,
    Digest,
    Finding,
    Paper,
    PaperSummary,
    Section,
    Usage,
)
from paperdigest.taxonomy import load_taxonomy

# The same day and categories as the render tests use.
from tests.unit.render.render_samples import CATEGORY_OF, FAILED_IDS, load_papers

DATE = "2024-09-24"

# What an attacker could put in a title or abstract, or a model could write.
HOSTILE = (
    '<script>document.title="pwned";window.__pwned=1</script>',
    "<img src=x onerror=alert(1)>",
    "[click me](javascript:alert(1))",
    "![pixel](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<a href="javascript:alert(1)">link</a>',
    '"><svg onload=alert(1)>',
    "[x](https://evil.example/steal) <https://evil.example/> www.evil.example",
    "| a | b | *stars* _under_ `code` # hash ~~strike~~",
    '<p style="background:url(https://evil.example/x.png)">styled</p>',
    "JaVaScRiPt:alert(1) data:text/html,<b>x</b> &lt;script&gt; &#106;avascript:",
)


def hostile_papers() -> list[Paper]:
    """Return the fixture's papers with a hostile string leading each title."""
    papers = load_papers()
    for index, paper in enumerate(papers):
        paper.title = f"{HOSTILE[index % len(HOSTILE)]} {paper.title}"
    return papers


def make_digest(
    date: str = DATE,
    language: str = "ko",
    papers: list[Paper] | None = None,
    prose: str = "",
) -> Digest:
    """Return a digest of the fixture day; ``prose`` replaces every piece of model text."""
    papers = load_papers() if papers is None else papers
    taxonomy = load_taxonomy()
    sections = []
    for category in taxonomy.categories:
        members = [p for p in papers if CATEGORY_OF.get(p.arxiv_id) == category.id]
        if not members:
            continue
        text = prose or f"{category.name}: {members[0].title}."
        synthesis = CategorySynthesis(
            category=category.id,
            themes=text,
            trends=prose or "모델, 데이터, 평가.",
            findings=[Finding(p.arxiv_id, prose or p.abstract.split(". ")[0]) for p in members],
            impact=prose or "연구와 산업 전반.",
            outlook=prose or "후속 연구가 기대됩니다.",
            engine="embedded",
        )
        summaries = {
            p.arxiv_id: PaperSummary(
                arxiv_id=p.arxiv_id,
                category=category.id,
                confidence=0.9,
                takeaway=prose or p.abstract[:80],
                problem="",
                method="",
                result="",
                keywords=["x"],
                engine="embedded",
            )
            for p in members
        }
        sections.append(
            Section(category=category, papers=members, synthesis=synthesis, summaries=summaries)
        )
    failed = [p for p in papers if p.arxiv_id in FAILED_IDS]
    done = sum(len(s.papers) for s in sections)
    return Digest(
        date=date,
        language=language,
        sections=sections,
        failed=failed,
        engine="embedded",
        usage=Usage(),
        stats={"candidates": 20, "selected": 14, "done": done, "failed": len(failed)},
    )


def hostile_prose() -> str:
    """Return model text that carries every hostile string at once."""
    return " ".join(HOSTILE)
