"""Helpers shared by the format readers: source names, dates, skips and withdrawals."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from email.utils import parsedate_to_datetime

from paperdigest.errors import SourceError

ARXIV_API = "arxiv-api"
ARXIV_RSS = "arxiv-rss"
HF_DAILY = "hf-daily"

# NOTE: arXiv marks a withdrawal in the comment ("We are withdrawing this paper…",
# "This paper has been withdrawn") or, in older records, as the whole abstract.
_WITHDRAWN_COMMENT = re.compile(r"\bwithdraw(?:n|ing)?\b", re.IGNORECASE)
_WITHDRAWN_ABSTRACT = re.compile(
    r"^(?:this|the) (?:paper|article|manuscript|submission|preprint|work) "
    r"(?:has been|is being|was|is) withdrawn",
    re.IGNORECASE,
)


# Said of a document that was not fetched because its host had already failed.
NOT_TRIED = "not tried"


class Skip(Exception):
    """One entry cannot be used; ``reason`` says why. Caught by the reader loop only."""

    def __init__(self, reason: str, entry: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.entry = entry


def iso_date(raw: str, entry: str = "") -> str:
    """Return the ``YYYY-MM-DD`` date of an ISO 8601 timestamp, in its own offset.

    Raises:
        Skip: ``raw`` is not an ISO 8601 date or timestamp.
    """
    try:
        return datetime.fromisoformat(raw.strip()).date().isoformat()
    except ValueError as exc:
        raise Skip(f"unparseable date {raw[:40]!r}", entry) from exc


def any_date(raw: str) -> str:
    """Return ``YYYY-MM-DD`` from an RFC 822 (RSS) or ISO 8601 (Atom) date, "" if neither."""
    raw = raw.strip()
    if not raw:
        return ""
    try:
        return datetime.fromisoformat(raw).date().isoformat()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(raw).date().isoformat()
    except (TypeError, ValueError):
        return ""


def withdrawal(comment: str, abstract: str) -> str:
    """Return the text that marks a paper as withdrawn, or "" when it is not withdrawn."""
    if _WITHDRAWN_COMMENT.search(comment):
        return comment
    if _WITHDRAWN_ABSTRACT.match(abstract):
        return abstract
    return ""


def parse_xml(data: bytes) -> ET.Element:
    """Return the root element of ``data``.

    Raises:
        SourceError: the document is truncated or otherwise not well-formed XML.
    """
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise SourceError(f"malformed XML, truncated or not well-formed ({exc})") from exc
