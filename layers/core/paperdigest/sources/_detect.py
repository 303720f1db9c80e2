"""Format detection: which reader a document needs, decided from its bytes alone."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from paperdigest.errors import SourceError, UnknownInputError
from paperdigest.models import ParsedInput
from paperdigest.sources import _arxiv_api, _hf_daily
from paperdigest.sources._announcements import parse_announcement_feed

logger = logging.getLogger(__name__)

_HEAD = 2048
_BOM = b"\xef\xbb\xbf"
_DOCTYPE_HTML = re.compile(rb"^<!doctype\s+html", re.IGNORECASE)
_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_RECORDING_KEYS = {"url", "status_code", "body"}


def parse_document(data: bytes, name: str = "") -> ParsedInput:
    """Return the papers in ``data``, whose format is detected from its content.

    Reads arXiv API Atom responses (legacy and 2026 layouts), arXiv announcement
    feeds (RSS 2.0 and Atom), Hugging Face daily papers JSON (API list or scraped day
    file) and recorded HTTP responses (``{"url", "status_code", "body"}``). ``name``
    only labels errors and logs.

    Raises:
        UnknownInputError: ``data`` is empty, an HTML page, or no format read here.
        SourceError: the document is truncated or malformed, is arXiv's error feed,
            or is a recorded response with an HTTP error status.
    """
    try:
        parsed = _parse(data)
    except SourceError as exc:
        if not name:
            raise
        raise type(exc)(f"{name}: {exc}") from exc

    logger.info(
        "document parsed",
        extra={
            "document": name,
            "kind": parsed.kind,
            "papers": len(parsed.papers),
            "skipped": len(parsed.skipped),
        },
    )
    return parsed


def _parse(data: bytes) -> ParsedInput:
    head = data[:_HEAD].lstrip(_BOM + b" \t\r\n")
    if not head:
        raise UnknownInputError("empty body")
    if head[:1] in (b"{", b"["):
        return _parse_json(data)
    if head[:1] == b"<":
        return _parse_xml(data, head)
    raise UnknownInputError("input is neither XML nor JSON")


def _parse_xml(data: bytes, head: bytes) -> ParsedInput:
    root = _ROOT.search(head)
    tag = root[1].decode("ascii", "replace").split(":")[-1] if root else ""
    if tag.lower() == "html" or _DOCTYPE_HTML.search(head):
        raise UnknownInputError("input looks like an HTML page")

    if tag == "rss" and b"arxiv.org" in head:
        return parse_announcement_feed(data)
    if tag == "feed" and (b"opensearch" in head or b"arxiv.org/api" in head):
        return _arxiv_api.parse_api_feed(data)
    if tag == "feed" and (b"rss.arxiv.org" in head or b"oai:arXiv.org:" in head):
        return parse_announcement_feed(data)
    raise UnknownInputError(f"unsupported XML document with root <{tag}>")


def _parse_json(data: bytes) -> ParsedInput:
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnknownInputError(f"input is not valid JSON: {exc}") from exc

    if _is_recording(document):
        return _parse_recording(document)
    if _hf_daily.is_api_list(document):
        return _hf_daily.parse_api_list(document)
    if _hf_daily.is_day_file(document):
        return _hf_daily.parse_day_file(document)
    raise UnknownInputError("JSON document is not a known paper format")


def _is_recording(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and document.keys() >= _RECORDING_KEYS
        and isinstance(document["status_code"], int)
        and isinstance(document["body"], str)
    )


def _parse_recording(document: dict[str, Any]) -> ParsedInput:
    # NOTE: the recorder stored response.content.decode("latin-1"); encoding it back
    # gives the exact bytes that were served.
    body = document["body"].encode("latin-1")
    status = document["status_code"]
    if status < 400:
        return _parse(body)

    reason = f"HTTP {status} from {document['url']}"
    try:
        _parse(body)
    except SourceError as exc:
        raise SourceError(f"{reason}: {exc}") from exc
    raise SourceError(reason)
