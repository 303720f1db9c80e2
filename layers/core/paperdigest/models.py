"""Domain records shared by every stage: papers, summaries, runs.

These are plain dataclasses with JSON round-trips; they know nothing of AWS. The
storage layer maps them to DynamoDB items and the queue layer to SQS bodies.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

ARXIV_ABS = "https://arxiv.org/abs/"


@dataclass(slots=True)
class Paper:
    """One candidate paper after normalisation.

    ``arxiv_id`` is the base id without a version suffix (``2409.14674``,
    ``hep-ex/0406020``); ``version`` keeps the suffix that was seen (``v2``) or "".
    ``sources`` names every source the paper came from (``arxiv-api``,
    ``arxiv-rss``, ``hf-daily``); ``signals`` keeps what each source said about it
    (upvotes, announce type, ...).
    """

    arxiv_id: str
    title: str
    abstract: str
    version: str = ""
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    primary_category: str = ""
    published: str = ""
    announce_type: str = ""
    upvotes: int | None = None
    comment: str = ""
    sources: list[str] = field(default_factory=list)
    signals: dict[str, Any] = field(default_factory=dict)

    @property
    def link(self) -> str:
        """The canonical abstract page, always built from the id."""
        return ARXIV_ABS + self.arxiv_id

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Paper:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(slots=True)
class SkippedEntry:
    """An input entry that could not be used, and why."""

    source: str
    reason: str
    entry: str = ""
    # Where it stood: its 1-based place among the document's entries, and the document.
    position: int = 0
    document: str = ""

    def describe(self) -> str:
        """One line naming the document, the entry (its id, else its place) and the reason."""
        which = self.entry or (f"entry {self.position}" if self.position else "an entry")
        return f"{self.document or self.source}: {which}: {self.reason}"


@dataclass(slots=True)
class ParsedInput:
    """What one source document yielded.

    ``kind`` is the detected format; ``announced`` the announcement date that the
    document shows (``YYYY-MM-DD``; for an arXiv API answer, the UTC day it was
    served) or "" when it shows none.
    """

    kind: str
    papers: list[Paper]
    skipped: list[SkippedEntry] = field(default_factory=list)
    announced: str = ""
    total_results: int | None = None


@dataclass(slots=True)
class Usage:
    """Tokens a model call (or several) consumed, and what they are estimated to cost."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, other: Usage) -> None:
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost_usd += other.cost_usd

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(slots=True)
class PaperSummary:
    """The structured record written for one paper.

    ``category`` is a taxonomy id. ``engine`` says what wrote the record:
    ``embedded`` or ``llm:<model>``; ``fallback`` is true when the embedded
    summarizer stood in for the LLM, because its answer was rejected or, with
    ``fallback_reason`` ``budget``, because the run's token budget was spent.
    """

    arxiv_id: str
    category: str
    confidence: float
    takeaway: str
    problem: str
    method: str
    result: str
    keywords: list[str]
    engine: str
    fallback: bool = False
    usage: Usage = field(default_factory=Usage)
    fallback_reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PaperSummary:
        values = dict(data)
        values["usage"] = Usage(**values.get("usage", {}))
        return cls(**values)


@dataclass(slots=True)
class Finding:
    """One paper's key finding inside a category synthesis."""

    arxiv_id: str
    text: str


@dataclass(slots=True)
class CategorySynthesis:
    """The five-part synthesis of one category, written from its papers' records.

    ``fallback`` and ``fallback_reason`` mean what they mean in ``PaperSummary``.
    """

    category: str
    themes: str
    trends: str
    findings: list[Finding]
    impact: str
    outlook: str
    engine: str
    fallback: bool = False
    usage: Usage = field(default_factory=Usage)
    fallback_reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategorySynthesis:
        values = dict(data)
        values["usage"] = Usage(**values.get("usage", {}))
        values["findings"] = [Finding(**f) for f in values.get("findings", [])]
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Category:
    """One entry of the taxonomy config."""

    id: str
    name: str
    emoji: str
    description: str
    hints: tuple[str, ...] = ()
    arxiv: tuple[str, ...] = ()


@dataclass(slots=True)
class Section:
    """One category's part of a digest: its synthesis, its papers, its failures."""

    category: Category
    papers: list[Paper]
    synthesis: CategorySynthesis | None = None
    summaries: dict[str, PaperSummary] = field(default_factory=dict)


@dataclass(slots=True)
class Digest:
    """Everything the publisher renders for one date.

    ``sections`` are in display order; ``failed`` lists selected papers that could
    not be summarized; ``engine`` names what wrote the prose (``embedded`` or
    ``llm:<model>``).
    """

    date: str
    language: str
    sections: list[Section]
    failed: list[Paper] = field(default_factory=list)
    engine: str = "embedded"
    usage: Usage = field(default_factory=Usage)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def chart_name(self) -> str:
        return f"paper_{self.date}.png"
