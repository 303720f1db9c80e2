"""Paper sources: read arXiv and Hugging Face documents into ``ParsedInput``, fetch them live.

Public surface:

* ``parse_document(data, name)`` detects the format from the bytes and reads it;
* ``is_new_announcement(paper)`` tells first announcements from replacements;
* ``merge_papers(inputs)`` merges several inputs into one paper per arXiv id;
* ``Fetcher`` fetches arXiv API pages, arXiv RSS feeds and Hugging Face daily lists.

Errors are ``SourceError`` (unusable document or failed request) and its subclass
``UnknownInputError`` (a document in no format read here), from ``paperdigest.errors``.
"""

from __future__ import annotations

from paperdigest.models import Paper
from paperdigest.sources._detect import parse_document
from paperdigest.sources.fetch import Fetcher
from paperdigest.sources.merge import merge_papers

__all__ = ["Fetcher", "is_new_announcement", "merge_papers", "parse_document"]

_NEW_TYPES = frozenset({"", "new", "cross"})


def is_new_announcement(paper: Paper) -> bool:
    """Return whether ``paper`` is announced for the first time in its feed.

    True for ``new`` and ``cross`` announcements and for papers with no announce type
    (API and Hugging Face papers); False for ``replace`` and ``replace-cross``.
    """
    return paper.announce_type in _NEW_TYPES
