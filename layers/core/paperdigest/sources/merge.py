"""Merge the papers of several parsed inputs into one list, one paper per arXiv id."""

from __future__ import annotations

import copy

from paperdigest.models import Paper, ParsedInput


def merge_papers(inputs: list[ParsedInput]) -> list[Paper]:
    """Return one paper per base arXiv id across ``inputs``, in first-seen order.

    A merged paper keeps the highest version (with that version's title and
    comment), the longest abstract and author list, the union of sources and
    categories, the highest upvote count and every source's ``signals``. Fields one
    source leaves empty are filled from another. The inputs are not modified.
    """
    merged: dict[str, Paper] = {}
    for parsed in inputs:
        for paper in parsed.papers:
            seen = merged.get(paper.arxiv_id)
            if seen is None:
                merged[paper.arxiv_id] = copy.deepcopy(paper)
            else:
                _absorb(seen, paper)
    return list(merged.values())


def version_number(version: str) -> int:
    """Return the number in a ``vN`` version, 0 for "" or anything else."""
    digits = version[1:] if version[:1] in ("v", "V") else ""
    return int(digits) if digits.isdigit() else 0


def _absorb(kept: Paper, other: Paper) -> None:
    if version_number(other.version) > version_number(kept.version):
        kept.version = other.version
        kept.title = other.title
        kept.comment = other.comment or kept.comment

    if len(other.abstract) > len(kept.abstract):
        kept.abstract = other.abstract
    if len(other.authors) > len(kept.authors):
        kept.authors = list(other.authors)
    kept.categories += [c for c in other.categories if c not in kept.categories]
    kept.sources += [s for s in other.sources if s not in kept.sources]
    if other.upvotes is not None:
        kept.upvotes = max(kept.upvotes or 0, other.upvotes)

    kept.primary_category = kept.primary_category or other.primary_category
    kept.published = kept.published or other.published
    kept.announce_type = kept.announce_type or other.announce_type
    kept.comment = kept.comment or other.comment

    for source, said in other.signals.items():
        if isinstance(said, dict) and isinstance(kept.signals.get(source), dict):
            kept.signals[source] = {**kept.signals[source], **copy.deepcopy(said)}
        else:
            kept.signals[source] = copy.deepcopy(said)
