"""Ranking is explainable and selection keeps one field from crowding out the others."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from paperdigest.models import Paper
from paperdigest.ranking import rank, score_paper, select
from paperdigest.sources import parse_document
from paperdigest.taxonomy import load_taxonomy

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture(scope="module")
def hf_papers() -> list[Paper]:
    return parse_document((FIXTURES / "hf-2024-09-24.json").read_bytes()).papers


def test_the_parts_of_a_score_add_up_to_it(hf_papers: list[Paper]) -> None:
    for item in rank(hf_papers, load_taxonomy(), keywords=["robot"]):
        assert item.score == pytest.approx(sum(item.parts.values()))
        assert item.parts["upvotes"] > 0


def test_upvotes_order_a_hugging_face_day(hf_papers: list[Paper]) -> None:
    ranked = rank(hf_papers, load_taxonomy())
    votes = [r.paper.upvotes or 0 for r in ranked]
    assert votes == sorted(votes, reverse=True)


def test_papers_with_upvotes_come_before_the_others(hf_papers: list[Paper]) -> None:
    unvoted = Paper(
        arxiv_id="2409.99999",
        title="Quantum qubit Hamiltonian",
        abstract="A qubit.",
        announce_type="new",
        sources=["arxiv-rss", "arxiv-api", "arxiv-rss-cross"],
    )
    ranked = rank([*hf_papers[-2:], unvoted], load_taxonomy(), keywords=["qubit"])
    assert ranked[-1].paper is unvoted
    assert ranked[-1].score > ranked[1].score  # a higher score alone does not jump the queue


def test_keywords_found_add_points_up_to_three(hf_papers: list[Paper]) -> None:
    racer = next(p for p in hf_papers if p.arxiv_id == "2409.14674")
    taxonomy = load_taxonomy()
    plain = score_paper(racer, taxonomy)
    boosted = score_paper(racer, taxonomy, ["robot", "language", "failure", "policies"])
    assert "keywords" not in plain.parts
    assert boosted.parts["keywords"] == 1.5
    assert boosted.score == pytest.approx(plain.score + 1.5)


def test_a_category_cap_lets_other_fields_in(hf_papers: list[Paper]) -> None:
    ranked = rank(hf_papers, load_taxonomy())
    busiest, count = Counter(r.category for r in ranked).most_common(1)[0]
    assert count > 2

    chosen = select(ranked, max_papers=6, per_category_cap=2)

    per_category = Counter(r.category for r in chosen)
    assert per_category[busiest] == 2 and len(chosen) == 6
    assert [r for r in ranked if r in chosen] == chosen  # still in ranking order


def test_the_cap_gives_way_when_nothing_else_is_left(hf_papers: list[Paper]) -> None:
    ranked = rank(hf_papers, load_taxonomy())
    chosen = select(ranked, max_papers=len(ranked), per_category_cap=1)
    assert len(chosen) == len(ranked)
