"""The Atom feed of published digests: one entry per date, newest first.

Times come from the digests' dates (midnight UTC of the digest date), never from the
clock, so publishing the same archive twice writes the same bytes. Ids are
``urn:uuid`` values derived from the date, stable across re-publishing.
"""

from __future__ import annotations

import re
import uuid
from xml.sax.saxutils import escape, quoteattr

from paperdigest.render.archive import ArchiveEntry, archive_text

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_LIMIT = 30
TITLE = "Daily Artificial Intelligence Insights"
AUTHOR = "Daily AI Insights"
# NOTE: a fixed namespace keeps ids the same wherever the site is hosted; a digest's
# id is derived from its date alone.
ID_NAMESPACE = uuid.UUID("5b0c2f57-7a43-4f0e-9a3c-8d1d2b1c6e10")
# Characters XML 1.0 forbids; a title could carry them.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def entry_id(date: str) -> str:
    """Return the Atom id of the digest of ``date``."""
    return uuid.uuid5(ID_NAMESPACE, f"digest/{date}").urn


def feed_id() -> str:
    """Return the Atom id of the feed itself."""
    return uuid.uuid5(ID_NAMESPACE, "feed").urn


def _timestamp(date: str) -> str:
    return f"{date}T00:00:00Z"


def _text(value: str) -> str:
    return escape(_XML_INVALID.sub("", value))


def _attr(value: str) -> str:
    return quoteattr(_XML_INVALID.sub("", value))


def render_feed(
    entries: list[ArchiveEntry], prefix: str, page: str = "index.html", site_url: str = ""
) -> bytes:
    """Return the Atom feed of the newest ``FEED_LIMIT`` entries as UTF-8 bytes.

    ``entries`` must be newest first. Links are relative to the site's root (where
    the feed lives) unless ``site_url`` is given, which then becomes the feed's
    ``xml:base``. Raises ``ValueError`` when ``entries`` is empty.
    """
    if not entries:
        raise ValueError("a feed needs at least one digest")

    shown = entries[:FEED_LIMIT]
    language = shown[0].language
    base = f" xml:base={_attr(site_url)}" if site_url else ""
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f"<feed xmlns={_attr(ATOM_NS)} xml:lang={_attr(language)}{base}>",
        f"  <id>{feed_id()}</id>",
        f"  <title>{_text(TITLE)}</title>",
        f"  <updated>{_timestamp(shown[0].date)}</updated>",
        f"  <author><name>{_text(AUTHOR)}</name></author>",
        '  <link rel="self" type="application/atom+xml" href="feed.xml"/>',
        '  <link rel="alternate" type="text/html" href="index.html"/>',
    ]
    for entry in shown:
        lines.extend(_entry(entry, prefix, page))
    lines.append("</feed>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _entry(entry: ArchiveEntry, prefix: str, page: str) -> list[str]:
    """Return the lines of one digest's ``<entry>``."""
    text = archive_text(entry.language)
    count = text.papers.format(count=entry.papers)
    parts = [f"{c.emoji} {c.name} ({c.papers})" for c in entry.categories]
    summary = f"{count}: " + " · ".join(parts) if parts else count
    items = "".join(f"<li>{escape(part)}</li>" for part in parts)
    content = f"<p>{escape(count)}</p><ul>{items}</ul>" if items else f"<p>{escape(count)}</p>"
    link = f"{prefix}{entry.date}/{page}"
    return [
        "  <entry>",
        f"    <id>{entry_id(entry.date)}</id>",
        f"    <title>{_text(f'{TITLE} · {entry.date}')}</title>",
        f"    <updated>{_timestamp(entry.date)}</updated>",
        f"    <published>{_timestamp(entry.date)}</published>",
        f'    <link rel="alternate" type="text/html" href={_attr(link)}/>',
        f'    <summary type="text">{_text(summary)}</summary>',
        f'    <content type="html">{_text(content)}</content>',
        "  </entry>",
    ]
