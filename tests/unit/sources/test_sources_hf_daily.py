"""Reading Hugging Face daily papers: the raw API list and the scraped day file."""

from __future__ import annotations

import json
from collections.abc import Callable

from paperdigest.models import ParsedInput
from paperdigest.sources import parse_document

Parse = Callable[[str], ParsedInput]
HF_API = "hf/sotawhat/hf_daily_papers_2026-06-12.json"
HF_DAY = "hf/hf-daily-paper-scraper_DERIVED/2024-09-24.json"


def test_api_list_fields(parse: Parse) -> None:
    parsed = parse(HF_API)

    assert parsed.kind == "hf-daily"
    assert parsed.announced == "2026-06-12"
    assert len(parsed.papers) == 30
    assert parsed.skipped == []
    first = parsed.papers[0]
    assert first.arxiv_id == "2606.00467"
    assert first.title.startswith("On the Limits of LLM Adaptability")
    assert first.authors == ["Etienne Casanova", "Rafal Kocielnik", "R. Michael Alvarez"]
    assert first.published == "2026-05-30"
    assert first.upvotes == 0
    assert first.sources == ["hf-daily"]
    assert first.signals["hf-daily"]["upvotes"] == 0
    assert "decision stickiness" in first.signals["hf-daily"]["ai_keywords"]


def test_api_list_upvotes(parse: Parse) -> None:
    upvotes = {p.arxiv_id: p.upvotes for p in parse(HF_API).papers}

    assert upvotes["2606.13681"] == 118
    assert upvotes["2606.13392"] == 103
    assert max(v or 0 for v in upvotes.values()) == 118


def test_hidden_author_is_still_an_author(parse: Parse) -> None:
    papers = {p.arxiv_id: p for p in parse(HF_API).papers}

    assert "Dengyang Jiang" in papers["2606.12575"].authors


def test_day_file_fields(parse: Parse) -> None:
    parsed = parse(HF_DAY)

    assert parsed.kind == "hf-daily"
    assert parsed.announced == "2024-09-24"
    assert len(parsed.papers) == 14
    racer = parsed.papers[0]
    assert racer.arxiv_id == "2409.14674"
    assert racer.title == (
        "RACER: Rich Language-Guided Failure Recovery Policies for Imitation Learning"
    )
    assert racer.upvotes == 41
    assert racer.signals == {"hf-daily": {"upvotes": 41}}
    assert racer.abstract.startswith("Developing robust and correctable visuomotor policies for")
    assert "\n" not in racer.abstract
    assert [(p.arxiv_id, p.upvotes) for p in parsed.papers[1:6]] == [
        ("2409.15277", 34),
        ("2409.14713", 27),
        ("2409.15278", 22),
        ("2409.14988", 21),
        ("2409.14677", 14),
    ]


def test_broken_items_are_skipped(read_bytes: Callable[[str], bytes]) -> None:
    # Given the real API list with one paper missing its id, one its title, one a bad date
    document = json.loads(read_bytes(HF_API))
    del document[0]["paper"]["id"]
    document[1]["paper"]["title"] = ""
    document[1]["title"] = ""
    document[2]["paper"]["publishedAt"] = "last Friday"

    # When it is parsed
    parsed = parse_document(json.dumps(document).encode())

    # Then the other 27 remain and the three are reported
    assert len(parsed.papers) == 27
    assert [(s.reason, s.entry, s.position) for s in parsed.skipped] == [
        ("missing id", "", 1),
        ("missing title", "2606.12730", 2),
        ("unparseable date 'last Friday'", "2606.13594", 3),
    ]
    # and each names its id, or its place when it has no id
    assert [s.describe() for s in parsed.skipped[:2]] == [
        "hf-daily: entry 1: missing id",
        "hf-daily: 2606.12730: missing title",
    ]


def test_empty_api_list_is_a_day_without_papers() -> None:
    parsed = parse_document(b"[]")

    assert parsed.kind == "hf-daily"
    assert parsed.papers == []
