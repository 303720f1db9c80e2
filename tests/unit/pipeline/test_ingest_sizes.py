"""Papers are sized in UTF-8 bytes before they are written."""

from __future__ import annotations

import json

from paperdigest.models import Paper
from paperdigest.pipeline.ingest import CUT_MARK, MAX_PAPER_BYTES, fit_item


def _size(paper: Paper) -> int:
    return len(json.dumps(paper.to_dict(), ensure_ascii=False).encode("utf-8"))


def test_a_real_sized_paper_is_untouched() -> None:
    paper = Paper(arxiv_id="2409.14674", title="RACER", abstract="A robot recovers. " * 60)
    assert fit_item(paper) is paper


def test_an_oversized_abstract_is_cut_by_bytes_not_characters() -> None:
    # Hangul takes three bytes in UTF-8: a character count would let this through.
    paper = Paper(arxiv_id="2409.14674", title="RACER", abstract="논문" * 20_000)
    assert len(paper.abstract) < MAX_PAPER_BYTES < _size(paper)

    fitted = fit_item(paper)

    assert _size(fitted) <= MAX_PAPER_BYTES
    assert fitted.abstract.endswith(CUT_MARK)
    assert paper.abstract.startswith(fitted.abstract.removesuffix(CUT_MARK))
    assert fitted.signals["cut"] == {"bytes": _size(paper)}
