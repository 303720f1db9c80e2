"""Choose what writes the summaries: an OpenAI-compatible LLM or the embedded summarizer."""

from __future__ import annotations

from paperdigest.models import Category, CategorySynthesis, Paper, PaperSummary
from paperdigest.pipeline.summarize import Engine, RemainingMs
from paperdigest.settings import SummarizeSettings
from paperdigest.taxonomy import Taxonomy


class EmbeddedEngine:
    """The extractive summarizer and rule-based classifier; needs no network."""

    name = "embedded"

    def __init__(self, language: str) -> None:
        self._language = language

    def summarize_paper(
        self, paper: Paper, taxonomy: Taxonomy, remaining_ms: RemainingMs | None
    ) -> PaperSummary:
        from paperdigest.summarize.embedded import summarize_paper

        return summarize_paper(paper, taxonomy, language=self._language)

    def synthesize_category(
        self,
        category: Category,
        papers: list[Paper],
        records: list[PaperSummary],
        remaining_ms: RemainingMs | None,
    ) -> CategorySynthesis:
        from paperdigest.summarize.embedded import synthesize_category

        return synthesize_category(category, papers, records, language=self._language)


def api_key(settings: SummarizeSettings) -> str | None:
    """The LLM API key: from the environment locally, else from SSM Parameter Store."""
    if settings.openai_api_key is not None:
        return settings.openai_api_key.get_secret_value() or None
    if not settings.openai_api_key_param:
        return None
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_parameter(settings.openai_api_key_param, decrypt=True, max_age=300)
    return str(value) or None


def make_engine(settings: SummarizeSettings) -> Engine:
    """Return the LLM engine when an API key is configured, else the embedded one."""
    key = api_key(settings)
    if not key:
        return EmbeddedEngine(settings.language)
    from paperdigest.summarize.llm import make_llm_engine

    return make_llm_engine(settings, key)
