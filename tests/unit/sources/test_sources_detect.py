"""Format detection by content, and the one-line reasons for what cannot be read."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from paperdigest.errors import SourceError, UnknownInputError
from paperdigest.sources import parse_document

RECORDED = "atom/lukasschwab_arxiv.py/recorded_2026/"


@pytest.mark.parametrize(
    ("relative", "kind"),
    [
        ("atom/sotawhat/arxiv_transformer.xml", "arxiv-api"),
        ("atom/xiv/cs.RO_neural_2entries_2025-10-17.xml", "arxiv-api"),
        ("atom/lukasschwab_arxiv.py/legacy_2016/id_list-1111.2011v2.xml", "arxiv-api"),
        (RECORDED + "q_testing_s0_m10_bc5a6c384fe9.json", "arxiv-api"),
        ("rss/emanuelealiverti_arxiv_rss/stat_rss2_2024-03-26_123items.xml", "arxiv-rss"),
        ("hf/sotawhat/hf_daily_papers_2026-06-12.json", "hf-daily"),
        ("hf/hf-daily-paper-scraper_DERIVED/2024-09-24.json", "hf-daily"),
    ],
)
def test_kind_comes_from_content_not_name(
    read_bytes: Callable[[str], bytes], relative: str, kind: str
) -> None:
    parsed = parse_document(read_bytes(relative), "misleading-name.json")

    assert parsed.kind == kind


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty body"),
        (b"  \r\n\t", "empty body"),
        (b"\xef\xbb\xbf\n", "empty body"),
        (
            b"<!DOCTYPE html>\n<html><head><title>arXiv is down</title></head></html>",
            "input looks like an HTML page",
        ),
        (
            b"<html lang='en'><body>Service Unavailable</body></html>",
            "input looks like an HTML page",
        ),
        (b'{"models": ["a", "b"]}', "JSON document is not a known paper format"),
        (b'[{"id": "2409.14674"}]', "JSON document is not a known paper format"),
        (b"{not json", "input is not valid JSON"),
        (b"Too Many Requests", "input is neither XML nor JSON"),
        (b"<?xml version='1.0'?><OAI-PMH/>", "unsupported XML document with root <OAI-PMH>"),
    ],
)
def test_unreadable_input_raises_a_clear_reason(data: bytes, reason: str) -> None:
    with pytest.raises(UnknownInputError) as err:
        parse_document(data, "response")

    assert str(err.value).startswith(f"response: {reason}")


def test_recording_with_http_error_status_raises(read_bytes: Callable[[str], bytes]) -> None:
    # Given a real empty result recording relabelled as a 503 answer
    recording = json.loads(read_bytes(RECORDED + "id_0000.0000_s0_m100_8b51d9633a68.json"))
    recording["status_code"] = 503

    with pytest.raises(SourceError, match=r"^HTTP 503 from https://export\.arxiv\.org/api/query"):
        parse_document(json.dumps(recording).encode())


def test_recording_of_an_html_error_page_raises() -> None:
    recording = {"url": "https://export.arxiv.org/api/query", "status_code": 200, "body": ""}

    with pytest.raises(UnknownInputError, match="empty body"):
        parse_document(json.dumps(recording).encode())
