"""The archive index and page, the Atom feed and the trend chart, from archive entries."""

from __future__ import annotations

import io
import json

import feedparser
import pytest
from PIL import Image
from site_samples import make_digest

from paperdigest.render.archive import (
    ArchiveEntry,
    CategoryCount,
    archive_markdown,
    index_bytes,
    newest_first,
    parse_index,
)
from paperdigest.render.feed import FEED_LIMIT, entry_id, render_feed
from paperdigest.render.site import check_prefix, digest_document, rewrite_for_root, to_root
from paperdigest.render.trend import TREND_LIMIT, date_labels, render_trend, trend_series

PREFIX = "digests/"


def entry(date: str, **counts: int) -> ArchiveEntry:
    names = {"cv": ("🖼️", "Computer Vision"), "llm": ("🦙", "LLM"), "rl": ("🎮", "RL")}
    categories = tuple(
        CategoryCount(id=key, name=names[key][1], emoji=names[key][0], papers=value)
        for key, value in counts.items()
    )
    total = sum(counts.values())
    return ArchiveEntry(date, "ko", total, 0, "embedded", categories)


def test_entry_from_a_digest_document_counts_papers_and_categories() -> None:
    # Given the machine-readable digest of the recorded day
    document = digest_document(make_digest(), {})

    # When the archive reads it
    read = ArchiveEntry.from_digest_document(json.loads(json.dumps(document)))

    # Then every paper counts, failed ones too, and categories keep the display order
    assert (read.date, read.language, read.papers, read.failed) == ("2024-09-24", "ko", 14, 2)
    assert [c.id for c in read.categories] == [s["id"] for s in document["categories"]]
    assert sum(c.papers for c in read.categories) == 12


def test_index_round_trips_newest_first_one_entry_per_date() -> None:
    entries = [entry("2024-09-23", cv=1), entry("2024-09-25", llm=2), entry("2024-09-24", rl=3)]
    again = entry("2024-09-23", cv=4)

    data = index_bytes([*entries, again])

    assert [e.date for e in parse_index(data)] == ["2024-09-25", "2024-09-24", "2024-09-23"]
    assert parse_index(data)[-1] == again
    assert index_bytes(parse_index(data)) == data


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"\xff\xfe",
        b'{"version": 99, "digests": []}',
        b'{"version": 1, "digests": {}}',
        b'{"version": 1, "digests": [{"date": "2024-09-24"}]}',
        b'{"version": 1, "digests": [{"date": "../x", "language": "ko", "papers": 1, '
        b'"categories": []}]}',
    ],
)
def test_a_malformed_index_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError):
        parse_index(data)


def test_archive_page_links_each_date_in_its_own_format() -> None:
    entries = newest_first([entry("2024-09-23", cv=1), entry("2024-09-24", cv=2, llm=1)])

    markdown = archive_markdown(entries, "ko", PREFIX, "index.md", trend="trend.png")
    html_source = archive_markdown(entries, "en", PREFIX, "index.html")

    lines = [line for line in markdown.splitlines() if line.startswith(" - ")]
    assert lines == [
        " - [2024-09-24](digests/2024-09-24/index.md) — 논문 3편 — "
        "🖼️ Computer Vision (2) · 🦙 LLM (1)",
        " - [2024-09-23](digests/2024-09-23/index.md) — 논문 1편 — 🖼️ Computer Vision (1)",
    ]
    assert "![최근 다이제스트의 카테고리별 논문 수](trend.png)" in markdown
    assert "(digests/2024-09-24/index.html) — 3 papers" in html_source
    assert "(latest.html)" in html_source and "(latest.md)" in markdown


def test_archive_page_escapes_names_from_the_taxonomy() -> None:
    hostile = ArchiveEntry(
        "2024-09-24",
        "en",
        1,
        0,
        "embedded",
        (CategoryCount("x", "[x](javascript:alert(1)) <b>", "*", 1),),
    )
    markdown = archive_markdown([hostile], "en", PREFIX, "index.md")
    assert "\\[x\\](javascript:alert(1)) &lt;b&gt;" in markdown and "\\* " in markdown


def test_feed_parses_with_entries_newest_first_and_no_clock() -> None:
    # Given three digests
    entries = newest_first(
        [entry("2024-09-23", cv=1), entry("2024-09-25", llm=2), entry("2024-09-24", rl=3)]
    )

    # When the feed is rendered twice
    data = render_feed(entries, PREFIX)
    assert render_feed(entries, PREFIX) == data

    # Then a feed reader reads it without complaint, newest first
    feed = feedparser.parse(data)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.updated == "2024-09-25T00:00:00Z"
    assert [e.link for e in feed.entries] == [
        f"digests/{d}/index.html" for d in ("2024-09-25", "2024-09-24", "2024-09-23")
    ]
    assert [e.id for e in feed.entries] == [entry_id(e.date) for e in entries]
    assert "🦙 LLM (2)" in feed.entries[0].summary
    assert feed.entries[0].title.endswith("2024-09-25")


def test_feed_keeps_the_newest_digests_and_strips_what_xml_forbids() -> None:
    many = [entry(f"2024-{m:02d}-{d:02d}", cv=1) for m in (1, 2) for d in range(1, 29)]
    odd = ArchiveEntry("2025-01-01", "en", 1, 0, "", (CategoryCount("x", "a\x00\x1b<b>&", "", 1),))
    feed = feedparser.parse(render_feed(newest_first([*many, odd]), PREFIX))
    assert not feed.bozo
    assert len(feed.entries) == FEED_LIMIT
    assert "a<b>&" in feed.entries[0].summary


def test_trend_series_uses_the_last_digests_oldest_first() -> None:
    entries = newest_first([entry(f"2024-09-{d:02d}", cv=d % 3, llm=1) for d in range(1, 31)])
    entries = newest_first([*entries, entry("2024-10-01", rl=5), entry("2024-08-31", cv=9)])

    dates, series = trend_series(entries)

    assert len(dates) == TREND_LIMIT and dates[0] == "2024-09-02" and dates[-1] == "2024-10-01"
    assert list(series) == ["Computer Vision", "LLM", "RL"]
    assert series["RL"] == [0] * (TREND_LIMIT - 1) + [5]


def test_trend_labels_name_the_year_where_it_starts_or_changes() -> None:
    dates = ["2024-12-30", "2024-12-31", "2025-01-02", "2025-01-03"]
    assert date_labels(dates) == ["2024-12-30", "12-31", "2025-01-02", "01-03"]
    assert date_labels([]) == []


def test_trend_chart_is_a_deterministic_png() -> None:
    entries = newest_first([entry("2024-09-23", cv=1, llm=2), entry("2024-09-24", rl=3)])

    first = render_trend(entries, "ko")

    assert first == render_trend(entries, "ko")
    width, height = Image.open(io.BytesIO(first)).size
    assert width >= 800 and height >= 400
    with pytest.raises(ValueError):
        render_trend(entries, "fr")


@pytest.mark.parametrize(
    ("prefix", "root"), [("digests/", "../../"), ("", "../"), ("site/digests/", "../../../")]
)
def test_dated_pages_reach_the_root(prefix: str, root: str) -> None:
    assert to_root(prefix) == root


@pytest.mark.parametrize("prefix", ["digests", "/digests/", "../digests/", "a//", "a/./"])
def test_a_prefix_that_would_leave_the_site_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError):
        check_prefix(prefix)


def test_latest_markdown_points_at_the_dated_chart() -> None:
    markdown = "# T\n\n![Category Distribution Graph](paper_2024-09-24.png)\n\n - x\n"
    rewritten = rewrite_for_root(markdown, "2024-09-24", PREFIX)
    assert "![Category Distribution Graph](digests/2024-09-24/paper_2024-09-24.png)" in rewritten
