"""paperdigest.text: whitespace, arXiv ids and TeX accents."""

from __future__ import annotations

import pytest

from paperdigest.errors import SourceError
from paperdigest.text import base_id, normalise, tex_to_unicode


def test_normalise_collapses_breaks_and_keeps_latex() -> None:
    raw = "Plan$\\times$RAG: Planning-guided\n  Retrieval   Augmented\tGeneration \n"

    assert normalise(raw) == "Plan$\\times$RAG: Planning-guided Retrieval Augmented Generation"


def test_normalise_keeps_a_zero_title() -> None:
    assert normalise(" 0\n") == "0"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2409.14674v2", ("2409.14674", "v2")),
        ("2409.14674", ("2409.14674", "")),
        ("http://arxiv.org/abs/2409.14674v2", ("2409.14674", "v2")),
        ("https://arxiv.org/abs/2409.14674", ("2409.14674", "")),
        ("https://arxiv.org/pdf/2409.14674.pdf", ("2409.14674", "")),
        ("http://arxiv.org/pdf/2406.03790v2", ("2406.03790", "v2")),
        ("oai:arXiv.org:2409.14674", ("2409.14674", "")),
        ("oai:arXiv.org:2403.15527v1", ("2403.15527", "v1")),
        ("arXiv:2409.14674v1", ("2409.14674", "v1")),
        ("hep-ex/0406020v1", ("hep-ex/0406020", "v1")),
        ("http://arxiv.org/abs/cond-mat/0412498v1", ("cond-mat/0412498", "v1")),
        ("math.GT/0309136", ("math.GT/0309136", "")),
        ("https://huggingface.co/papers/2409.14674", ("2409.14674", "")),
        ("0704.0001", ("0704.0001", "")),
    ],
)
def test_base_id_reads_every_form(raw: str, expected: tuple[str, str]) -> None:
    assert base_id(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["abc", "", "https://example.com/abs/2409.14674", "https://arxiv.org/api/errors#x", "24.1"],
)
def test_base_id_rejects_non_ids(raw: str) -> None:
    with pytest.raises(SourceError, match="not an arXiv id"):
        base_id(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jos\\'e M. F. Moura", "José M. F. Moura"),
        ("Nikola Pi\\v{z}urica", "Nikola Pižurica"),
        ("Jan Jakub\\r{u}v", "Jan Jakubův"),
        ("Hendrik Kra{\\ss}", "Hendrik Kraß"),
        ("Anders S{\\o}gaard", "Anders Søgaard"),
        ("In\\`es Blin", "Inès Blin"),
        ('J\\"org Hoffmann', "Jörg Hoffmann"),
        ("{\\'E}tienne", "Étienne"),
        ("\\'\\i", "í"),
        ("Plain Name", "Plain Name"),
        ("\\url{x}", "\\url{x}"),
    ],
)
def test_tex_to_unicode_turns_accents_into_letters(raw: str, expected: str) -> None:
    assert tex_to_unicode(raw) == expected
