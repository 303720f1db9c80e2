"""Text helpers shared by the sources: whitespace, arXiv ids and TeX accents in names."""

from __future__ import annotations

import re
import unicodedata

from paperdigest.errors import SourceError

# New-style ids (0704.0001 … 2409.14674) and old-style ids (hep-ex/0406020, math.GT/0309136).
_ID = r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(?P<version>v\d+)?"
_ID_FORMS = re.compile(
    r"(?:arxiv:|oai:arxiv\.org:"
    r"|https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/"
    r"|https?://(?:www\.)?huggingface\.co/papers/)?" + _ID + r"(?:\.pdf)?/?",
    re.IGNORECASE,
)

# TeX accent commands as arXiv writes them in author lists: \'e, \'{e}, {\"u}, \v{z}, \r{u}.
_ACCENT_MARKS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "r": "\u030a",
    "c": "\u0327",
    "k": "\u0328",
}
_ACCENT = re.compile(
    r"""(\{)?\\(['`^"~=.]|[uvHrck](?![A-Za-z]))\s*"""
    r"""(?:\{\s*\\?([A-Za-z])\s*\}|\\?([A-Za-z]))(?(1)\})"""
)
_LETTERS = {
    "ss": "ß",
    "o": "ø",
    "O": "Ø",
    "aa": "å",
    "AA": "Å",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "l": "ł",
    "L": "Ł",
}
_LETTER = re.compile(r"(\{)?\\(ss|aa|AA|ae|AE|oe|OE|o|O|l|L)(?![A-Za-z])(?(1)\}|\s?)")


def normalise(text: str) -> str:
    """Return ``text`` with line breaks and whitespace runs collapsed to one space, stripped.

    Everything else, LaTeX included (``Plan$\\times$RAG``), is kept exactly as written.
    """
    return " ".join(text.split())


def base_id(raw: str) -> tuple[str, str]:
    """Return ``(base id, version)`` for an arXiv id written in any of its usual forms.

    Accepts bare ids (``2409.14674v2``, ``hep-ex/0406020v1``), ``arXiv:`` and
    ``oai:arXiv.org:`` prefixes, arxiv.org abs/pdf URLs and Hugging Face paper URLs.
    The version is ``"v2"`` style or ``""`` when none was given.

    Raises:
        SourceError: ``raw`` holds no recognisable arXiv id.
    """
    match = _ID_FORMS.fullmatch(raw.strip())
    if match is None:
        raise SourceError(f"not an arXiv id: {raw[:80]!r}")
    return match["id"], (match["version"] or "").lower()


def tex_to_unicode(text: str) -> str:
    """Return ``text`` with TeX accent commands turned into Unicode (``Jos\\'e`` -> ``José``).

    Only accents and the few special letters seen in arXiv author lists are converted;
    any other TeX is left as written.
    """
    if "\\" not in text:
        return text
    text = _ACCENT.sub(_accented, text)
    text = _LETTER.sub(lambda m: _LETTERS[m[2]], text)
    return unicodedata.normalize("NFC", text)


def _accented(match: re.Match[str]) -> str:
    letter = match[3] or match[4]
    return unicodedata.normalize("NFC", letter + _ACCENT_MARKS[match[2]])
