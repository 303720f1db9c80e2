"""Merging papers from several inputs into one paper per arXiv id."""

from __future__ import annotations

import copy
from collections.abc import Callable

from paperdigest.models import Paper, ParsedInput
from paperdigest.sources import merge_papers

Parse = Callable[[str], ParsedInput]
RECORDED = "atom/lukasschwab_arxiv.py/recorded_2026/"
STAT_RSS = "rss/emanuelealiverti_arxiv_rss/stat_rss2_2024-03-26_123items.xml"


def test_rss_and_api_copies_of_one_paper_merge(parse: Parse) -> None:
    # Given the stat RSS feed and an API page that both hold 2403.16981
    rss = parse(STAT_RSS)
    api = parse(RECORDED + "q_testing_s10_m10_34e56e15aaac.json")

    # When they are merged
    merged = merge_papers([rss, api])

    # Then the paper appears once, at its RSS position, with both sources' data
    assert len(merged) == 123 + 10 - 1
    ids = [p.arxiv_id for p in merged]
    assert ids[:123] == [p.arxiv_id for p in rss.papers]
    paper = next(p for p in merged if p.arxiv_id == "2403.16981")
    api_copy = next(p for p in api.papers if p.arxiv_id == "2403.16981")
    assert paper.sources == ["arxiv-rss", "arxiv-api"]
    assert paper.announce_type == "new"
    assert paper.published == api_copy.published == "2024-03-25"
    assert (api_copy.version, paper.version) == ("v2", "v2")
    assert set(paper.categories) == {"math.ST", "cs.IT", "math.IT", "stat.ML", "stat.TH"}
    assert paper.signals["arxiv-rss"] == {"announce_type": "new"}


def test_hf_and_api_copies_merge_keeping_the_best_of_each(parse: Parse) -> None:
    # Given RACER from the real HF day file and an arXiv API record of its v2
    hf = parse("hf/hf-daily-paper-scraper_DERIVED/2024-09-24.json")
    racer = hf.papers[0]
    api_record = Paper(
        arxiv_id="2409.14674",
        title=racer.title,
        abstract=racer.abstract[:200],
        version="v2",
        authors=["Yinpei Dai", "Jayjun Lee", "Nima Fazeli", "Joyce Chai"],
        categories=["cs.RO", "cs.AI"],
        primary_category="cs.RO",
        published="2024-09-23",
        sources=["arxiv-api"],
    )
    api = ParsedInput(kind="arxiv-api", papers=[api_record])

    # When the HF list and the API answer are merged
    merged = merge_papers([hf, api])

    # Then RACER is listed once with the union of what both said
    assert len(merged) == 14
    paper = merged[0]
    assert paper.arxiv_id == "2409.14674"
    assert paper.version == "v2"
    assert paper.abstract == racer.abstract
    assert paper.authors == api_record.authors
    assert paper.categories == ["cs.RO", "cs.AI"]
    assert paper.primary_category == "cs.RO"
    assert paper.published == "2024-09-23"
    assert paper.upvotes == 41
    assert paper.sources == ["hf-daily", "arxiv-api"]
    assert paper.signals == {"hf-daily": {"upvotes": 41}}


def test_duplicates_within_one_input_keep_highest_version_and_max_upvotes() -> None:
    older = Paper(arxiv_id="2409.14674", title="Old title", abstract="short", version="v1")
    newer = Paper(
        arxiv_id="2409.14674", title="New title", abstract="a bit longer", version="v3", upvotes=4
    )
    liked = Paper(arxiv_id="2409.14674", title="Old title", abstract="", upvotes=41)
    other = Paper(arxiv_id="hep-ex/0406020", title="Sparticle", abstract="", version="v1")

    merged = merge_papers([ParsedInput(kind="x", papers=[older, other, newer, liked])])

    assert [p.arxiv_id for p in merged] == ["2409.14674", "hep-ex/0406020"]
    assert (merged[0].version, merged[0].title) == ("v3", "New title")
    assert merged[0].abstract == "a bit longer"
    assert merged[0].upvotes == 41


def test_merge_does_not_modify_its_inputs(parse: Parse) -> None:
    hf = parse("hf/hf-daily-paper-scraper_DERIVED/2024-09-24.json")
    before = copy.deepcopy(hf.papers)

    merge_papers([hf, hf])

    assert hf.papers == before
