"""Reader for Hugging Face daily papers JSON: the raw API list and the scraped day file.

The API (``huggingface.co/api/daily_papers``) answers a list of
``{"paper": {"id", "title", "summary", "authors", "upvotes", "publishedAt",
"submittedOnDailyAt", ...}, ...}``. The scraped form is
``{"date": "YYYY-MM-DD", "papers": [{"title", "url", "pdf_url", "authors", "abstract",
"upvotes"}]}``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from paperdigest.errors import SourceError
from paperdigest.models import Paper, ParsedInput, SkippedEntry
from paperdigest.sources._common import HF_DAILY, Skip, iso_date
from paperdigest.text import base_id, normalise


def is_api_list(document: Any) -> bool:
    """Return whether ``document`` has the shape of an ``api/daily_papers`` answer."""
    if not isinstance(document, list):
        return False
    # NOTE: an empty list is what the API answers for a day without papers.
    return all(isinstance(item, dict) and "paper" in item for item in document)


def is_day_file(document: Any) -> bool:
    """Return whether ``document`` has the shape of a scraped ``{"date", "papers"}`` file."""
    return (
        isinstance(document, dict)
        and isinstance(document.get("date"), str)
        and isinstance(document.get("papers"), list)
    )


def parse_api_list(document: list[dict[str, Any]]) -> ParsedInput:
    """Return the papers of one ``api/daily_papers`` answer.

    ``announced`` is the daily date (``submittedOnDailyAt``) most papers carry.
    """
    papers: list[Paper] = []
    skipped: list[SkippedEntry] = []
    days: Counter[str] = Counter()
    for position, item in enumerate(document, 1):
        try:
            paper, day = _api_paper(item)
        except Skip as skip:
            skipped.append(SkippedEntry(HF_DAILY, skip.reason, skip.entry, position))
            continue
        papers.append(paper)
        if day:
            days[day] += 1

    announced = days.most_common(1)[0][0] if days else ""
    return ParsedInput(kind=HF_DAILY, papers=papers, skipped=skipped, announced=announced)


def parse_day_file(document: dict[str, Any]) -> ParsedInput:
    """Return the papers of one scraped day file; ``announced`` is its ``date``.

    Raises:
        SourceError: the file's ``date`` is not a date.
    """
    try:
        announced = iso_date(document["date"])
    except Skip as skip:
        raise SourceError(f"hf day file has an {skip.reason}") from skip

    papers: list[Paper] = []
    skipped: list[SkippedEntry] = []
    for position, item in enumerate(document["papers"], 1):
        try:
            papers.append(_day_paper(item))
        except Skip as skip:
            skipped.append(SkippedEntry(HF_DAILY, skip.reason, skip.entry, position))
    return ParsedInput(kind=HF_DAILY, papers=papers, skipped=skipped, announced=announced)


def _api_paper(item: dict[str, Any]) -> tuple[Paper, str]:
    paper = item["paper"]
    if not isinstance(paper, dict):
        raise Skip("paper is not an object")
    arxiv_id = _arxiv_id(paper.get("id"))

    published = _date(paper.get("publishedAt"), arxiv_id)
    day = _date(paper.get("submittedOnDailyAt"), arxiv_id)
    signals: dict[str, Any] = {"upvotes": _upvotes(paper.get("upvotes"))}
    keywords = paper.get("ai_keywords")
    if isinstance(keywords, list) and keywords:
        signals["ai_keywords"] = [k for k in keywords if isinstance(k, str)]

    built = Paper(
        arxiv_id=arxiv_id,
        title=_title(paper.get("title") or item.get("title"), arxiv_id),
        abstract=_text(paper.get("summary") or item.get("summary")),
        authors=_authors(paper.get("authors")),
        published=published,
        upvotes=signals["upvotes"],
        sources=[HF_DAILY],
        signals={HF_DAILY: signals},
    )
    return built, day


def _day_paper(item: Any) -> Paper:
    if not isinstance(item, dict):
        raise Skip("paper is not an object")
    link = item.get("url") or item.get("pdf_url")
    arxiv_id = _arxiv_id(link)
    upvotes = _upvotes(item.get("upvotes"))
    return Paper(
        arxiv_id=arxiv_id,
        title=_title(item.get("title"), arxiv_id),
        abstract=_text(item.get("abstract")),
        authors=_authors(item.get("authors")),
        upvotes=upvotes,
        sources=[HF_DAILY],
        signals={HF_DAILY: {"upvotes": upvotes}},
    )


def _arxiv_id(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise Skip("missing id")
    try:
        return base_id(raw)[0]
    except SourceError as exc:
        raise Skip(f"unrecognised id {raw[:80]!r}") from exc


def _title(raw: Any, arxiv_id: str) -> str:
    title = _text(raw)
    if title == "":
        raise Skip("missing title", arxiv_id)
    return title


def _text(raw: Any) -> str:
    return normalise(raw) if isinstance(raw, str) else ""


def _date(raw: Any, arxiv_id: str) -> str:
    if raw is None or raw == "":
        return ""
    if not isinstance(raw, str):
        raise Skip(f"unparseable date {raw!r}", arxiv_id)
    return iso_date(raw, arxiv_id)


def _authors(raw: Any) -> list[str]:
    if not isinstance(raw, list):
        return []
    names = (a.get("name") if isinstance(a, dict) else a for a in raw)
    return [normalise(name) for name in names if isinstance(name, str) and name.strip()]


def _upvotes(raw: Any) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None
