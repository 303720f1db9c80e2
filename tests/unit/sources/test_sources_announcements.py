"""Reading arXiv announcement feeds: RSS 2.0 and the Atom flavour, truncated captures."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from paperdigest.errors import SourceError
from paperdigest.models import Paper, ParsedInput
from paperdigest.sources import is_new_announcement, parse_document

Parse = Callable[[str], ParsedInput]
STAT_RSS = "rss/emanuelealiverti_arxiv_rss/stat_rss2_2024-03-26_123items.xml"
CS_AI_ATOM = "rss/zotero-arxiv-daily/cs.AI_atomfeed_2025-08-20_TRUNCATED.xml"


def _by_id(parsed: ParsedInput) -> dict[str, Paper]:
    return {p.arxiv_id: p for p in parsed.papers}


def test_rss_keeps_every_announce_type(parse: Parse) -> None:
    parsed = parse(STAT_RSS)

    assert parsed.kind == "arxiv-rss"
    assert parsed.announced == "2024-03-26"
    assert len(parsed.papers) == 123
    assert parsed.skipped == []
    assert Counter(p.announce_type for p in parsed.papers) == {
        "new": 35,
        "cross": 27,
        "replace": 41,
        "replace-cross": 20,
    }


def test_is_new_announcement_keeps_new_and_cross(parse: Parse) -> None:
    parsed = parse(STAT_RSS)

    fresh = [p for p in parsed.papers if is_new_announcement(p)]

    assert len(fresh) == 35 + 27
    assert {p.announce_type for p in fresh} == {"new", "cross"}
    assert is_new_announcement(Paper(arxiv_id="2409.14674", title="t", abstract=""))


def test_rss_item_fields(parse: Parse) -> None:
    papers = _by_id(parse(STAT_RSS))

    first = papers["2403.15527"]
    assert first.version == "v1"
    assert first.title == "Conformal online model aggregation"
    assert first.abstract.startswith("Conformal prediction equips machine learning models")
    assert "Announce Type" not in first.abstract
    assert first.authors == ["Matteo Gasparin", "Aaditya Ramdas"]
    assert first.categories == ["stat.ML", "cs.LG"]
    assert first.primary_category == "stat.ML"
    assert first.published == ""
    assert first.sources == ["arxiv-rss"]
    assert first.signals == {"arxiv-rss": {"announce_type": "new"}}
    replaced = papers["2008.12927"]
    assert (replaced.version, replaced.announce_type) == ("v3", "replace")


def test_rss_tex_accent_authors_become_unicode(parse: Parse) -> None:
    papers = _by_id(parse(STAT_RSS))

    assert papers["2403.16163"].authors == ["Oren Wright", "Yorie Nakahira", "José M. F. Moura"]
    assert papers["2108.09874"].authors[0] == "Eduardo García-Portugués"


def test_rss_keeps_latex_in_abstracts(parse: Parse) -> None:
    papers = _by_id(parse(STAT_RSS))

    assert "complexity of $\\mathcal{O}(n^3)$, which" in papers["2403.15670"].abstract


def test_truncated_atom_feed_raises_and_says_where(read_bytes: Callable[[str], bytes]) -> None:
    data = read_bytes(CS_AI_ATOM)

    with pytest.raises(
        SourceError, match=r"malformed XML, truncated .*line 1233, column 84"
    ) as err:
        parse_document(data, "cs.AI.xml")

    assert str(err.value).startswith("cs.AI.xml: ")


def test_atom_flavour_fields_from_the_complete_entries(read_bytes: Callable[[str], bytes]) -> None:
    # Given the real cs.AI capture cut after its last complete entry and closed
    data = read_bytes(CS_AI_ATOM)
    complete = data[: data.rindex(b"</entry>") + len(b"</entry>")] + b"\n</feed>\n"

    # When it is parsed
    parsed = parse_document(complete)

    # Then all 86 complete entries are read with the feed's date and types
    assert parsed.kind == "arxiv-rss"
    assert parsed.announced == "2025-08-20"
    assert len(parsed.papers) == 86
    assert Counter(p.announce_type for p in parsed.papers) == {"new": 41, "cross": 45}
    chain = parsed.papers[0]
    assert (chain.arxiv_id, chain.version) == ("2508.13167", "v1")
    assert chain.categories == ["cs.AI", "cs.CL"]
    assert len(chain.authors) == 30
    papers = _by_id(parsed)
    assert papers["2508.13429"].authors == ["Paulo André Lima de Castro"]
    assert "$1.13\\times$ faster training" in papers["2508.13434"].abstract
