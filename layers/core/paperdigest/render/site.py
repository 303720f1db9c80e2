"""Every object of the published site, rendered from a digest and the archive.

A date's objects live under ``<prefix><date>/``: the Markdown page, the HTML page
rendered from that same Markdown, ``digest.json`` for machines and the chart. The
root holds the pointers: the archive page (HTML and Markdown), the latest digest
(HTML and Markdown, links rewritten to work from the root), the Atom feed, the trend
chart and ``archive.json``. Everything here is pure and deterministic: the same
digest and archive give the same bytes. Charts load matplotlib on first use.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from paperdigest.models import Digest, Paper, Section
from paperdigest.render.archive import ArchiveEntry, archive_markdown, index_bytes
from paperdigest.render.feed import render_feed
from paperdigest.render.html import Page, markdown_to_html, render_page
from paperdigest.render.markdown import CHART_ALT, TITLE, render_markdown

HTML = "text/html; charset=utf-8"
MARKDOWN = "text/markdown; charset=utf-8"
JSON = "application/json; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
PNG = "image/png"

# Pointers change with every publish: browsers and CloudFront keep them five minutes.
SHORT_CACHE = "public, max-age=300"
# NOTE: dated objects keep their keys when a date is published again (a retried run,
# a run re-done with an LLM), so they are not marked immutable: a day's cache lets a
# re-publish reach readers within a day without a CloudFront invalidation, and a
# digest is read mostly on its first day anyway.
DATED_CACHE = "public, max-age=86400"

PAGE_HTML = "index.html"
PAGE_MD = "index.md"
DIGEST_JSON = "digest.json"
LATEST_HTML = "latest.html"
LATEST_MD = "latest.md"
FEED = "feed.xml"
TREND = "trend.png"
ARCHIVE_INDEX = "archive.json"
DOCUMENT_VERSION = 1
BRAND = "Daily AI Insights"

_PREFIX = re.compile(r"(?:[A-Za-z0-9._-]+/)*")


@dataclass(frozen=True, slots=True)
class SiteObject:
    """One object of the published site, with the headers it is served with."""

    key: str
    body: bytes
    content_type: str
    cache_control: str


@dataclass(frozen=True, slots=True)
class NavText:
    """The navigation labels of the pages in one language."""

    archive: str
    latest: str
    permalink: str
    markdown: str
    data: str
    feed: str


NAV_TEXT: dict[str, NavText] = {
    "ko": NavText(
        archive="아카이브",
        latest="최신 다이제스트",
        permalink="이 날짜의 페이지",
        markdown="Markdown",
        data="JSON",
        feed="Atom 피드",
    ),
    "en": NavText(
        archive="Archive",
        latest="Latest digest",
        permalink="Permanent page",
        markdown="Markdown",
        data="JSON",
        feed="Atom feed",
    ),
}


def nav_text(language: str) -> NavText:
    """Return the navigation labels of ``language``; raise ``ValueError`` for one we lack."""
    try:
        return NAV_TEXT[language]
    except KeyError:
        known = ", ".join(sorted(NAV_TEXT))
        raise ValueError(f"unsupported language {language!r} (known: {known})") from None


def check_prefix(prefix: str) -> str:
    """Return ``prefix`` when it is "" or relative folders ending in ``/``; else raise."""
    if not _PREFIX.fullmatch(prefix) or any(part in (".", "..") for part in prefix.split("/")):
        raise ValueError(f"site prefix {prefix!r} must be '' or folders ending in '/'")
    return prefix


def to_root(prefix: str) -> str:
    """Return the relative path from a dated folder (``<prefix><date>/``) to the root."""
    return "../" * (check_prefix(prefix).count("/") + 1)


def page_title(date: str) -> str:
    return f"{BRAND} · {date}"


def render_dated(
    digest: Digest, prefix: str, scores: Mapping[str, float] | None = None
) -> list[SiteObject]:
    """Return the date's objects: chart, Markdown, HTML, and ``digest.json`` last.

    ``digest.json`` goes last because the archive reads it as the mark of a complete
    date. Raises ``ValueError`` for a bad date, language or prefix.
    """
    from paperdigest.render.chart import render_chart

    folder = f"{check_prefix(prefix)}{digest.date}/"
    markdown = render_markdown(digest)
    counts = {section.category.name: len(section.papers) for section in digest.sections}
    chart = render_chart(counts, digest.date, language=digest.language)
    document = digest_document(digest, scores or {})
    return [
        SiteObject(folder + digest.chart_name, chart, PNG, DATED_CACHE),
        SiteObject(folder + PAGE_MD, markdown.encode("utf-8"), MARKDOWN, DATED_CACHE),
        SiteObject(folder + PAGE_HTML, _dated_html(digest, markdown, prefix), HTML, DATED_CACHE),
        SiteObject(folder + DIGEST_JSON, json_bytes(document), JSON, DATED_CACHE),
    ]


def _dated_html(digest: Digest, markdown: str, prefix: str) -> bytes:
    nav = nav_text(digest.language)
    root = to_root(prefix)
    page = Page(
        title=page_title(digest.date),
        language=digest.language,
        body=markdown_to_html(markdown),
        nav=(
            (nav.archive, root + PAGE_HTML),
            (nav.latest, root + LATEST_HTML),
            (nav.markdown, PAGE_MD),
            (nav.data, DIGEST_JSON),
        ),
        feed=root + FEED,
        alternates=(("text/markdown", PAGE_MD), ("application/json", DIGEST_JSON)),
    )
    return render_page(page).encode("utf-8")


def render_pointers(
    entries: list[ArchiveEntry], latest_markdown: str, prefix: str
) -> list[SiteObject]:
    """Return the root's objects: trend chart, latest, archive, feed, ``archive.json``.

    ``entries`` are newest first; ``latest_markdown`` is the Markdown page of the
    newest entry as published in its folder. Raises ``ValueError`` when there are no
    entries or the prefix or a language is bad.
    """
    from paperdigest.render.trend import render_trend

    if not entries:
        raise ValueError("the site needs at least one digest")
    check_prefix(prefix)
    newest = entries[0]
    language = newest.language
    nav = nav_text(language)

    latest_md = rewrite_for_root(latest_markdown, newest.date, prefix)
    latest_page = Page(
        title=page_title(newest.date),
        language=language,
        body=markdown_to_html(latest_md),
        nav=(
            (nav.archive, PAGE_HTML),
            (nav.permalink, f"{prefix}{newest.date}/{PAGE_HTML}"),
            (nav.markdown, LATEST_MD),
            (nav.feed, FEED),
        ),
        feed=FEED,
    )
    archive_md = archive_markdown(entries, language, prefix, PAGE_MD, trend=TREND)
    archive_html_md = archive_markdown(entries, language, prefix, PAGE_HTML, trend=TREND)
    archive_page = Page(
        title=f"{BRAND} · {nav.archive}",
        language=language,
        body=markdown_to_html(archive_html_md),
        nav=((nav.latest, LATEST_HTML), (nav.markdown, PAGE_MD), (nav.feed, FEED)),
        feed=FEED,
    )
    return [
        SiteObject(TREND, render_trend(entries, language), PNG, SHORT_CACHE),
        SiteObject(LATEST_MD, latest_md.encode("utf-8"), MARKDOWN, SHORT_CACHE),
        SiteObject(LATEST_HTML, render_page(latest_page).encode("utf-8"), HTML, SHORT_CACHE),
        SiteObject(PAGE_MD, archive_md.encode("utf-8"), MARKDOWN, SHORT_CACHE),
        SiteObject(PAGE_HTML, render_page(archive_page).encode("utf-8"), HTML, SHORT_CACHE),
        SiteObject(FEED, render_feed(entries, prefix, PAGE_HTML), ATOM, SHORT_CACHE),
        SiteObject(ARCHIVE_INDEX, index_bytes(entries), JSON, SHORT_CACHE),
    ]


def rewrite_for_root(markdown: str, date: str, prefix: str) -> str:
    """Return a date's Markdown page with its chart link made to work from the root.

    Only the chart line that ``render_markdown`` writes is rewritten: untrusted text
    is escaped, so it cannot contain that exact line. Paper links are absolute.
    """
    chart = f"paper_{date}.png"
    return markdown.replace(
        f"![{CHART_ALT}]({chart})", f"![{CHART_ALT}]({prefix}{date}/{chart})", 1
    )


def json_bytes(document: Any) -> bytes:
    """Return ``document`` as indented UTF-8 JSON with a final newline."""
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def digest_document(digest: Digest, scores: Mapping[str, float]) -> dict[str, Any]:
    """Return the machine-readable digest: papers, categories, run statistics, usage."""
    stats = digest.stats
    usage = digest.usage
    return {
        "version": DOCUMENT_VERSION,
        "date": digest.date,
        "language": digest.language,
        "title": TITLE.removeprefix("# "),
        "chart": digest.chart_name,
        "engine": digest.engine,
        "usage": {
            "calls": usage.calls,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
            "cost_usd": round(usage.cost_usd, 6),
        },
        "stats": {
            "candidates": stats.get("candidates"),
            "selected": stats.get("selected"),
            "summarized": stats.get("done"),
            "failed": stats.get("failed"),
            "skipped": len(stats.get("skipped") or ()),
            "source_errors": len(stats.get("source_errors") or ()),
            "sources": list(stats.get("sources") or ()),
            "taxonomy_version": stats.get("taxonomy_version"),
        },
        "categories": [_category_record(section) for section in digest.sections],
        "papers": [
            _paper_record(paper, section, scores)
            for section in digest.sections
            for paper in section.papers
        ],
        "failed": [_failed_record(paper, scores) for paper in digest.failed],
    }


def _category_record(section: Section) -> dict[str, Any]:
    category = section.category
    synthesis = section.synthesis
    return {
        "id": category.id,
        "name": category.name,
        "emoji": category.emoji,
        "papers": [paper.arxiv_id for paper in section.papers],
        "synthesis": synthesis.to_dict() if synthesis else None,
    }


def _paper_record(paper: Paper, section: Section, scores: Mapping[str, float]) -> dict[str, Any]:
    summary = section.summaries.get(paper.arxiv_id)
    return {
        "id": paper.arxiv_id,
        "title": paper.title,
        "link": paper.link,
        "authors": list(paper.authors),
        "category": section.category.id,
        "score": scores.get(paper.arxiv_id),
        "summary": summary.to_dict() if summary else None,
    }


def _failed_record(paper: Paper, scores: Mapping[str, float]) -> dict[str, Any]:
    return {
        "id": paper.arxiv_id,
        "title": paper.title,
        "link": paper.link,
        "score": scores.get(paper.arxiv_id),
    }
