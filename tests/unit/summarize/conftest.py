"""Recorded papers of 2024-09-24 and their golden categories, for the summarizer tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperdigest.classify import LabelledPaper
from paperdigest.models import Paper
from paperdigest.taxonomy import Taxonomy, load_taxonomy

# Title, abstract and url as the Hugging Face daily papers page gave them on 2024-09-24;
# "category" is the name the reference digest of 2024-10-16 filed the paper under, for
# the six papers it shares with that day, else null.
DATA = Path(__file__).resolve().parents[3] / "infra" / "golden" / "papers-2024-09-24.json"


def _records() -> list[dict[str, str | None]]:
    return list(json.loads(DATA.read_text(encoding="utf-8"))["papers"])


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="session")
def hf_papers() -> list[Paper]:
    """All 14 recorded papers, in the page's order."""
    return [
        Paper(arxiv_id=str(r["arxiv_id"]), title=str(r["title"]), abstract=str(r["abstract"]))
        for r in _records()
    ]


@pytest.fixture(scope="session")
def golden(taxonomy: Taxonomy, hf_papers: list[Paper]) -> list[LabelledPaper]:
    """The six labelled papers, with the taxonomy id of their golden category name."""
    names = {str(r["arxiv_id"]): r["category"] for r in _records()}
    return [
        LabelledPaper(paper=p, category=taxonomy.by_name(str(names[p.arxiv_id])).id)
        for p in hf_papers
        if names[p.arxiv_id]
    ]
