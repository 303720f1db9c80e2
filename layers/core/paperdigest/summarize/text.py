"""Text helpers shared by the summarizers: sentences, words, numbers and unsafe text."""

from __future__ import annotations

import re

# Tokens that end with a period but do not end a sentence.
ABBREVIATIONS = frozenset(
    {
        "e.g.",
        "i.e.",
        "al.",
        "etc.",
        "vs.",
        "cf.",
        "fig.",
        "figs.",
        "eq.",
        "eqs.",
        "sec.",
        "no.",
        "approx.",
        "resp.",
        "dr.",
        "mr.",
        "ms.",
        "prof.",
        "inc.",
        "u.s.",
        "ref.",
        "refs.",
        "tab.",
        "ch.",
        "vol.",
        "pp.",
        "viz.",
        "w.r.t.",
    }
)

_WS = re.compile(r"\s+")
_BOUNDARY = re.compile(r"[.!?][\"')\]]*\s+")
_LATEX_SPAN = re.compile(r"\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]")
_WORD = re.compile(r"[^\W_](?:[\w'\u2019.+-]*[^\W_])?")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_URL = re.compile(r"(?i)\b(?:https?://|ftp://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/\S*")
_MARKUP = re.compile(r"</?[a-zA-Z!][\w:-]*(?:\s[^<>]*)?/?>|\]\(|javascript:", re.IGNORECASE)
_INJECTION = re.compile(
    r"(?i)\b(?:ignore|disregard|forget)\b[^.]{0,40}\b(?:instructions?|prompts?|rules)\b"
    r"|\bsystem prompt\b|\byou are now\b"
)


def normalize_space(text: str) -> str:
    """Return ``text`` with every run of whitespace collapsed to one space."""
    return _WS.sub(" ", text).strip()


def _protected_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _LATEX_SPAN.finditer(text)]


def split_sentences(text: str) -> list[str]:
    """Split English prose into sentences, verbatim after whitespace normalisation.

    A period ends a sentence only when whitespace follows it, so decimals (``1.5``)
    and URLs stay whole; known abbreviations (``e.g.``, ``et al.``), single initials
    and periods inside LaTeX math (``$...$``, ``\\(...\\)``) never end one.
    """
    text = normalize_space(text)
    spans = _protected_spans(text)
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.start() + 1
        if any(a <= match.start() < b for a, b in spans):
            continue
        last = text[start:end].rsplit(" ", 1)[-1].lstrip("(\"'[")
        if last.casefold() in ABBREVIATIONS or re.fullmatch(r"[A-Z]\.", last):
            continue
        sentence = text[start : match.end()].strip()
        if sentence:
            sentences.append(_bounded(sentence))
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(_bounded(tail))
    return sentences


# No abstract sentence is this long; text without sentence ends (a broken or hostile
# input) is cut, visibly, rather than quoted whole in several parts of a digest.
MAX_SENTENCE_CHARS = 1200


def _bounded(sentence: str) -> str:
    if len(sentence) <= MAX_SENTENCE_CHARS:
        return sentence
    return sentence[:MAX_SENTENCE_CHARS].rsplit(" ", 1)[0] + " …"


def words(text: str) -> list[str]:
    """Return the word tokens of ``text``: letters and digits, inner hyphens kept."""
    return [w.rstrip(".") for w in _WORD.findall(text)]


def numbers(text: str) -> set[str]:
    """Return the numbers written in ``text`` (``18%`` -> ``18``, ``2.5x`` -> ``2.5``).

    Thousands separators are dropped so that ``1,000`` and ``1000`` compare equal.
    """
    return {m.group().replace(",", "") for m in _NUMBER.finditer(text)}


def has_url(text: str) -> bool:
    """True when ``text`` holds a URL or a bare domain with a path."""
    return _URL.search(text) is not None


def has_markup(text: str) -> bool:
    """True when ``text`` holds an HTML tag, a Markdown link or a ``javascript:`` URI."""
    return _MARKUP.search(text) is not None


def looks_injected(text: str) -> bool:
    """True when ``text`` reads like an instruction aimed at a model."""
    return _INJECTION.search(text) is not None


def is_unsafe(text: str) -> bool:
    """True when ``text`` must never reach a summary: links, markup or injected orders."""
    return has_url(text) or has_markup(text) or looks_injected(text)


class SentenceTokenizer:
    """A sumy tokenizer built on the rules above; it needs no NLTK data."""

    language = "english"

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        return tuple(split_sentences(paragraph))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return tuple(words(sentence))


def estimate_tokens(text: str) -> int:
    """Estimate the model tokens of ``text``.

    About four characters a token for ASCII text; Hangul and other non-ASCII letters
    cost about one token each, so Korean is not underestimated.
    """
    ascii_chars = sum(1 for ch in text if ord(ch) < 128)
    return (ascii_chars + 3) // 4 + (len(text) - ascii_chars)


def trim_to_tokens(text: str, max_tokens: int) -> str:
    """Return ``text`` cut to about ``max_tokens``, at a sentence or word boundary."""
    if estimate_tokens(text) <= max_tokens:
        return text
    if max_tokens <= 0:
        return ""
    kept: list[str] = []
    used = 0
    for sentence in split_sentences(text):
        cost = estimate_tokens(sentence) + 1
        if used + cost > max_tokens:
            break
        kept.append(sentence)
        used += cost
    if kept:
        return " ".join(kept)
    cut: list[str] = []
    used = 0
    for word in normalize_space(text).split(" "):
        cost = estimate_tokens(word) + 1
        if used + cost > max_tokens:
            break
        cut.append(word)
        used += cost
    return " ".join(cut)
