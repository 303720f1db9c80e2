"""The archive of published digests: its entries, its JSON index and its Markdown page.

An entry is what the archive, the feed and the trend chart need to know of one
date; it is read back from that date's ``digest.json`` or from the bucket's
``archive.json`` index. Everything here is pure: no AWS, no clock.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from paperdigest.render.markdown import escape_md

INDEX_VERSION = 1
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class CategoryCount:
    """One category of a digest and how many of its papers were summarized in it."""

    id: str
    name: str
    emoji: str
    papers: int

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "emoji": self.emoji, "papers": self.papers}


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    """One published date: its language, paper counts and categories in display order."""

    date: str
    language: str
    papers: int
    failed: int
    engine: str
    categories: tuple[CategoryCount, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "language": self.language,
            "papers": self.papers,
            "failed": self.failed,
            "engine": self.engine,
            "categories": [c.to_dict() for c in self.categories],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArchiveEntry:
        """Return the entry of an index record; raise ``ValueError`` when it is malformed."""
        try:
            date = str(data["date"])
            entry = cls(
                date=date,
                language=str(data["language"]),
                papers=int(data["papers"]),
                failed=int(data.get("failed", 0)),
                engine=str(data.get("engine", "")),
                categories=tuple(
                    CategoryCount(
                        id=str(c["id"]),
                        name=str(c["name"]),
                        emoji=str(c["emoji"]),
                        papers=int(c["papers"]),
                    )
                    for c in data["categories"]
                ),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed archive entry: {exc}") from exc
        if not DATE.fullmatch(date):
            raise ValueError(f"archive entry date {date!r} is not YYYY-MM-DD")
        return entry

    @classmethod
    def from_digest_document(cls, document: dict[str, Any]) -> ArchiveEntry:
        """Return the entry of a date's ``digest.json``; raise ``ValueError`` when malformed."""
        try:
            categories = [
                {
                    "id": c["id"],
                    "name": c["name"],
                    "emoji": c["emoji"],
                    "papers": len(c["papers"]),
                }
                for c in document["categories"]
            ]
            record = {
                "date": document["date"],
                "language": document["language"],
                "papers": len(document["papers"]) + len(document.get("failed", [])),
                "failed": len(document.get("failed", [])),
                "engine": document.get("engine", ""),
                "categories": categories,
            }
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed digest document: {exc}") from exc
        return cls.from_dict(record)


def newest_first(entries: Iterable[ArchiveEntry]) -> list[ArchiveEntry]:
    """Return one entry per date, newest first; a later entry for a date replaces an earlier."""
    by_date = {entry.date: entry for entry in entries}
    return [by_date[date] for date in sorted(by_date, reverse=True)]


def index_bytes(entries: list[ArchiveEntry]) -> bytes:
    """Return ``archive.json``: the entries newest first, the same bytes for the same entries."""
    document = {"version": INDEX_VERSION, "digests": [e.to_dict() for e in newest_first(entries)]}
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def parse_index(data: bytes) -> list[ArchiveEntry]:
    """Return the entries of an ``archive.json``; raise ``ValueError`` when it is not one."""
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError("archive index is not UTF-8") from exc
    if not isinstance(document, dict) or document.get("version") != INDEX_VERSION:
        raise ValueError("archive index has an unknown layout")
    records = document.get("digests")
    if not isinstance(records, list):
        raise ValueError("archive index has no list of digests")
    return newest_first(ArchiveEntry.from_dict(record) for record in records)


@dataclass(frozen=True, slots=True)
class ArchiveText:
    """The fixed text of the archive page in one language."""

    title: str
    intro: str
    trend_alt: str
    papers: str
    failed: str
    latest: str
    feed: str


ARCHIVE_TEXT: dict[str, ArchiveText] = {
    "ko": ArchiveText(
        title="# Daily Artificial Intelligence Insights : Archive",
        intro="지금까지 발행한 다이제스트입니다. 최신 순으로 정렬했습니다.",
        trend_alt="최근 다이제스트의 카테고리별 논문 수",
        papers="논문 {count}편",
        failed="요약 실패 {count}편",
        latest="최신 다이제스트",
        feed="Atom 피드",
    ),
    "en": ArchiveText(
        title="# Daily Artificial Intelligence Insights : Archive",
        intro="Every digest published so far, newest first.",
        trend_alt="Papers per category in recent digests",
        papers="{count} papers",
        failed="{count} not summarized",
        latest="Latest digest",
        feed="Atom feed",
    ),
}


def archive_text(language: str) -> ArchiveText:
    """Return the archive text of ``language``; raise ``ValueError`` for one we lack."""
    try:
        return ARCHIVE_TEXT[language]
    except KeyError:
        known = ", ".join(sorted(ARCHIVE_TEXT))
        raise ValueError(f"unsupported language {language!r} (known: {known})") from None


def archive_markdown(
    entries: list[ArchiveEntry],
    language: str,
    prefix: str,
    page: str,
    trend: str = "",
) -> str:
    """Return the archive page as Markdown: one line per digest, newest first.

    Each line links to ``<prefix><date>/<page>`` (``index.md`` for the Markdown page,
    ``index.html`` for the HTML one); ``trend`` names the trend chart, or "" for none.
    Raises ``ValueError`` for a language we lack.
    """
    text = archive_text(language)
    extension = page.rsplit(".", 1)[-1]
    blocks = [text.title, text.intro]
    if trend:
        blocks.append(f"![{escape_md(text.trend_alt)}]({trend})")
    blocks.append(f"[{text.latest}](latest.{extension}) · [{text.feed}](feed.xml)")
    blocks.append("\n".join(_entry_line(entry, text, prefix, page) for entry in entries))
    return "\n\n".join(block for block in blocks if block) + "\n"


def _entry_line(entry: ArchiveEntry, text: ArchiveText, prefix: str, page: str) -> str:
    """Return one digest's line: linked date, paper count, its categories with emoji."""
    if not DATE.fullmatch(entry.date):
        raise ValueError(f"archive entry date {entry.date!r} is not YYYY-MM-DD")
    count = text.papers.format(count=entry.papers)
    if entry.failed:
        count += ", " + text.failed.format(count=entry.failed)
    categories = " · ".join(
        f"{escape_md(c.emoji)} {escape_md(c.name)} ({c.papers})" for c in entry.categories
    )
    line = f" - [{entry.date}]({prefix}{entry.date}/{page}) — {count}"
    return f"{line} — {categories}" if categories else line
