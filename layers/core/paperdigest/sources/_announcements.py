"""Reader for arXiv announcement feeds: rss.arxiv.org/rss/<cat> and rss.arxiv.org/atom/<cat>.

Both flavours carry the same item fields: ``arxiv:announce_type``, a description that
reads ``arXiv:<id>v<n> Announce Type: <type> Abstract: <text>``, one comma-joined
``dc:creator`` and the categories, primary first.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import feedparser

from paperdigest.errors import SourceError
from paperdigest.models import Paper, ParsedInput, SkippedEntry
from paperdigest.sources._common import ARXIV_RSS, Skip, any_date, parse_xml
from paperdigest.text import base_id, normalise, tex_to_unicode

logger = logging.getLogger(__name__)

_DESCRIPTION = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>\S+)\s+Abstract:\s*(?P<abstract>.*)$",
    re.DOTALL,
)


def parse_announcement_feed(data: bytes) -> ParsedInput:
    """Return the papers of one arXiv announcement feed, every announce type included.

    ``announced`` is the channel's date (RSS ``pubDate``/``lastBuildDate``, Atom
    ``updated``). ``published`` stays "" on each paper: these feeds do not show the
    submission date.

    Raises:
        SourceError: the feed is truncated or otherwise not well-formed XML.
    """
    # NOTE: a strict parse first: it names the broken spot, and feedparser would
    # otherwise re-read a broken feed with its slow loose parser before flagging it.
    parse_xml(data)
    feed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    if feed.get("bozo"):
        # Only encoding notices get here: the strict parse above let the XML through.
        problem = str(feed.get("bozo_exception", ""))
        logger.warning("feed parsed with a warning", extra={"warning": problem})

    papers: list[Paper] = []
    skipped: list[SkippedEntry] = []
    for position, item in enumerate(feed.entries, 1):
        try:
            papers.append(_paper(item))
        except Skip as skip:
            skipped.append(SkippedEntry(ARXIV_RSS, skip.reason, skip.entry, position))

    channel = feed.feed
    announced = any_date(channel.get("published", "") or channel.get("updated", ""))
    return ParsedInput(kind=ARXIV_RSS, papers=papers, skipped=skipped, announced=announced)


def _paper(item: Any) -> Paper:
    description = item.get("summary", "")
    match = _DESCRIPTION.match(description)
    raw_id = item.get("id", "") or (match["id"] if match else "") or item.get("link", "")
    if not raw_id:
        raise Skip("missing id")
    try:
        arxiv_id, version = base_id(raw_id)
    except SourceError as exc:
        raise Skip(f"unrecognised id {raw_id[:80]!r}") from exc
    if not version and match:
        version = _version_of(match["id"], arxiv_id)
    label = arxiv_id + version

    title = normalise(item.get("title", ""))
    if title == "":
        raise Skip("missing title", label)

    announce_type = item.get("arxiv_announce_type", "") or (match["type"] if match else "")
    categories = [term for tag in item.get("tags", []) if (term := tag.get("term"))]
    creators = ", ".join(author.get("name", "") for author in item.get("authors", []))
    authors = [name for part in creators.split(",") if (name := normalise(tex_to_unicode(part)))]
    return Paper(
        arxiv_id=arxiv_id,
        title=title,
        abstract=normalise(match["abstract"] if match else description),
        version=version,
        authors=authors,
        # NOTE: arXiv lists the primary category first in announcement feeds.
        categories=categories,
        primary_category=categories[0] if categories else "",
        announce_type=announce_type,
        sources=[ARXIV_RSS],
        signals={ARXIV_RSS: {"announce_type": announce_type}},
    )


def _version_of(raw: str, arxiv_id: str) -> str:
    try:
        found, version = base_id(raw)
    except SourceError:
        return ""
    return version if found == arxiv_id else ""
