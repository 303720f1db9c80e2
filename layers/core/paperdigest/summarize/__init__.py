"""Summarizers: per-paper records and per-category syntheses.

``EmbeddedSummarizer`` needs no network; ``LLMSummarizer`` (in ``summarize.llm``) talks
to any OpenAI-compatible endpoint and falls back to the embedded one per record. Both
offer ``summarize_paper(paper, taxonomy, remaining_ms)`` and
``synthesize_category(category, papers, records, remaining_ms)``; ``make_summarizer``
picks one. The openai package is imported only when an LLM is configured.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from paperdigest.models import Category, CategorySynthesis, Paper, PaperSummary
from paperdigest.summarize.embedded import EmbeddedSummarizer
from paperdigest.taxonomy import Taxonomy

if TYPE_CHECKING:
    from paperdigest.summarize.llm import LLMSettings

__all__ = ["EmbeddedSummarizer", "Summarizer", "make_summarizer"]


class Summarizer(Protocol):
    """What the summarize stage needs from a summarizer."""

    @property
    def engine(self) -> str: ...

    def start_batch(self) -> None:
        """A new delivery begins: forget what earlier calls learned of the engine's health."""

    def summarize_paper(
        self, paper: Paper, taxonomy: Taxonomy, remaining_ms: Callable[[], int] | None = None
    ) -> PaperSummary: ...

    def synthesize_category(
        self,
        category: Category,
        papers: list[Paper],
        records: list[PaperSummary],
        remaining_ms: Callable[[], int] | None = None,
    ) -> CategorySynthesis: ...


def make_summarizer(llm: LLMSettings | None, language: str = "ko") -> Summarizer:
    """Return an ``LLMSummarizer`` when ``llm`` is given, else the embedded one."""
    if llm is None:
        return EmbeddedSummarizer(language)
    from paperdigest.summarize.llm import LLMSummarizer  # NOTE: openai costs ~0.8 s to import

    return LLMSummarizer(llm)
