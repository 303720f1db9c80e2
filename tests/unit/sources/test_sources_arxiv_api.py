"""Reading arXiv API Atom responses: both layouts, errors, empty feeds, broken entries."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from paperdigest.errors import SourceError
from paperdigest.models import ParsedInput
from paperdigest.sources import parse_document

Parse = Callable[[str], ParsedInput]
XIV_LEGACY = "atom/xiv/cs.RO_neural_2entries_2025-10-17.xml"
RECORDED = "atom/lukasschwab_arxiv.py/recorded_2026/"
RAG_2024 = (
    Path(__file__).resolve().parents[3]
    / ".."
    / "shared/data/arxiv/atom/rag-2024"
    / "all_retrieval_augmented_generation_1314entries_2024-12-26.xml"
)
RDD_TITLE = (
    b"<title>RDD: Retrieval-Based Demonstration Decomposer for Planner Alignment in\n"
    b"  Long-Horizon Tasks</title>"
)


def test_big_legacy_response_reads_every_entry_fast(rag_2024: ParsedInput) -> None:
    data = RAG_2024.read_bytes()

    started = time.perf_counter()
    parsed = parse_document(data)
    elapsed = time.perf_counter() - started

    assert elapsed < 5.0
    assert parsed.kind == "arxiv-api"
    assert parsed.total_results == 1314
    assert len(parsed.papers) == 1313
    assert [s.entry for s in parsed.skipped] == ["2409.14192v2"]
    assert len({p.arxiv_id for p in parsed.papers}) == 1313


def test_withdrawn_paper_is_skipped_with_its_reason(rag_2024: ParsedInput) -> None:
    (skipped,) = rag_2024.skipped

    assert skipped.source == "arxiv-api"
    assert skipped.reason.startswith("withdrawn: We are withdrawing this paper")
    assert "2409.14192" not in {p.arxiv_id for p in rag_2024.papers}


def test_latex_titles_are_kept_verbatim(rag_2024: ParsedInput) -> None:
    titles = {p.arxiv_id: p.title for p in rag_2024.papers}

    assert (
        titles["2410.20753"] == "Plan$\\times$RAG: Planning-guided Retrieval Augmented Generation"
    )
    assert titles["2407.01178"] == "$\\text{Memory}^3$: Language Modeling with Explicit Memory"
    assert titles["2410.23000"].startswith("Long$^2$RAG: Evaluating Long-Context")


def test_legacy_entry_fields(rag_2024: ParsedInput) -> None:
    first = rag_2024.papers[0]

    assert first.arxiv_id == "2406.03790"
    assert first.version == "v2"
    assert first.title == (
        "End-to-End Trainable Retrieval-Augmented Generation for Relation Extraction"
    )
    assert first.abstract.startswith("This paper addresses a crucial challenge in retrieval-")
    assert "\n" not in first.abstract
    assert first.authors == ["Kohei Makino", "Makoto Miwa", "Yutaka Sasaki"]
    assert first.categories == ["cs.CL"]
    assert first.primary_category == "cs.CL"
    assert first.published == "2024-06-06"
    assert first.comment == "preprint"
    assert first.sources == ["arxiv-api"]
    assert first.link == "https://arxiv.org/abs/2406.03790"


def test_primary_categories_of_the_big_response(rag_2024: ParsedInput) -> None:
    counts = Counter(p.primary_category for p in rag_2024.papers)

    # SOURCES.md counts cs.CL 705 including the withdrawn cs.CL paper.
    assert counts["cs.CL"] == 704
    assert counts["cs.IR"] == 141
    assert counts["cs.AI"] == 108


def test_current_layout_entry_fields(parse: Parse) -> None:
    parsed = parse("atom/sotawhat/arxiv_transformer.xml")

    assert parsed.total_results == 28946
    assert len(parsed.papers) == 5
    mana = parsed.papers[0]
    assert (mana.arxiv_id, mana.version) == ("2606.13677", "v1")
    assert mana.title == "Mana: Dexterous Manipulation of Articulated Tools"
    assert mana.categories == ["cs.RO", "cs.AI", "cs.CV", "cs.LG"]
    assert mana.primary_category == "cs.RO"
    assert mana.published == "2026-06-11"
    assert mana.comment == "Project Page: https://zhaohengyin.github.io/mana"
    assert mana.authors == ["Zhao-Heng Yin", "Guanya Shi", "Pieter Abbeel", "C. Karen Liu"]
    assert "(<1 minute per tool)" in mana.abstract


def test_legacy_layout_with_wrapped_comment(parse: Parse) -> None:
    parsed = parse(XIV_LEGACY)

    assert parsed.total_results == 5619
    rdd = parsed.papers[0]
    assert rdd.title == (
        "RDD: Retrieval-Based Demonstration Decomposer for Planner Alignment in Long-Horizon Tasks"
    )
    assert rdd.comment == (
        "39th Conference on Neural Information Processing Systems (NeurIPS 2025); "
        "Project Website: rdd-neurips.github.io"
    )
    assert rdd.categories == ["cs.RO", "cs.AI", "cs.CV", "cs.LG", "cs.SY", "eess.SY"]


def test_old_style_ids_and_non_ascii_authors(parse: Parse) -> None:
    nicotine = parse("atom/arxiv-digest/all_nicotine_10entries_2026-07-17.xml")
    hep = parse(RECORDED + "id_hep-ex_0406020v1_s0_m100_84b15d66c0ce.json")

    ids = [p.arxiv_id + p.version for p in nicotine.papers]
    assert "q-bio/0509018v2" in ids
    assert ["Karine Guimarães"] in [p.authors for p in nicotine.papers]
    (sparticle,) = hep.papers
    assert (sparticle.arxiv_id, sparticle.version) == ("hep-ex/0406020", "v1")
    assert sparticle.title == "Sparticle Reconstruction at LHC"


def test_recording_is_decoded_to_the_served_utf8(parse: Parse) -> None:
    parsed = parse(RECORDED + "id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.json")

    (paper,) = parsed.papers
    assert paper.arxiv_id == "1707.08567"
    assert "Dirk Wübben" in paper.authors


def test_title_zero_is_kept(parse: Parse) -> None:
    parsed = parse(RECORDED + "id_2104.12255v1_s0_m100_6ae69987ffe1.json")

    (paper,) = parsed.papers
    assert paper.title == "0"
    assert (paper.arxiv_id, paper.version) == ("2104.12255", "v1")
    assert parsed.skipped == []


def test_api_error_feed_raises_with_arxivs_message(read_bytes: Callable[[str], bytes]) -> None:
    data = read_bytes(RECORDED + "id_abc_s0_m100_b79c8dcf6bc3.json")

    with pytest.raises(SourceError, match=r"HTTP 400 .*incorrect id format for abc"):
        parse_document(data)


def test_error_feed_served_with_200_still_raises(read_bytes: Callable[[str], bytes]) -> None:
    recording = read_bytes(RECORDED + "id_abc_s0_m100_b79c8dcf6bc3.json")
    body = json.loads(recording)["body"].encode("latin-1")

    with pytest.raises(SourceError, match="arXiv API error: incorrect id format for abc"):
        parse_document(body)


@pytest.mark.parametrize(
    "name", ["id_0000.0000_s0_m100_8b51d9633a68.json", "id_0808.05394_s0_m100_7b0c7d0a7cdd.json"]
)
def test_empty_result_feed_is_not_an_error(parse: Parse, name: str) -> None:
    parsed = parse(RECORDED + name)

    assert parsed.kind == "arxiv-api"
    assert parsed.papers == []
    assert parsed.skipped == []
    assert parsed.total_results == 0


def test_truncated_api_response_raises(read_bytes: Callable[[str], bytes]) -> None:
    data = read_bytes(XIV_LEGACY)[:3000]

    with pytest.raises(SourceError, match=r"malformed XML, truncated .*: line \d+, column \d+"):
        parse_document(data, "xiv.xml")


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (b"<id>http://arxiv.org/abs/2510.14968v1</id>", b"", "missing id"),
        (b"<id>http://arxiv.org/abs/2510.14968v1</id>", b"<id>nonsense</id>", "unrecognised id"),
        (RDD_TITLE, b"<title>\n  </title>", "missing title"),
        (RDD_TITLE, b"", "missing title"),
        (
            b"<published>2025-10-16T17:59:37Z</published>",
            b"<published>16/10/2025</published>",
            "unparseable date '16/10/2025'",
        ),
    ],
)
def test_one_broken_entry_is_skipped_and_the_rest_kept(
    read_bytes: Callable[[str], bytes], old: bytes, new: bytes, reason: str
) -> None:
    # Given the real two-entry response with its first entry damaged in one field
    data = read_bytes(XIV_LEGACY)
    assert data.count(old) == 1
    damaged = data.replace(old, new)

    # When it is parsed
    parsed = parse_document(damaged)

    # Then the second entry survives and the first is reported
    assert [p.arxiv_id for p in parsed.papers] == ["2510.14827"]
    (skipped,) = parsed.skipped
    assert skipped.reason.startswith(reason)


@pytest.mark.parametrize(
    ("name", "day"),
    [
        # served "2025-10-17T00:00:00-04:00": 04:00 UTC, the same day
        (XIV_LEGACY, "2025-10-17"),
        ("atom/arxiv-digest/all_nicotine_10entries_2026-07-17.xml", "2026-07-17"),
    ],
)
def test_an_answer_is_dated_by_the_utc_day_it_was_served(parse: Parse, name: str, day: str) -> None:
    assert parse(name).announced == day


def test_an_answer_without_a_readable_updated_has_no_day() -> None:
    feed = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><updated>soon</updated>'
        b"<id>https://arxiv.org/api/x</id></feed>"
    )

    assert parse_document(feed).announced == ""
