"""Choose what writes the summaries: an OpenAI-compatible LLM or the embedded summarizer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paperdigest.settings import SummarizeSettings

if TYPE_CHECKING:
    from paperdigest.summarize import Summarizer


def api_key(settings: SummarizeSettings) -> str | None:
    """The LLM API key: from the environment locally, else from SSM Parameter Store."""
    if settings.openai_api_key is not None:
        return settings.openai_api_key.get_secret_value() or None
    if not settings.openai_api_key_param:
        return None
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_parameter(settings.openai_api_key_param, decrypt=True, max_age=300)
    return str(value) or None


def make_engine(settings: SummarizeSettings) -> Summarizer:
    """Return the LLM summarizer when an API key is configured, else the embedded one."""
    from paperdigest.summarize import make_summarizer

    key = api_key(settings)
    if not key:
        return make_summarizer(None, settings.language)

    from paperdigest.summarize.llm import LLMSettings

    llm = LLMSettings(
        api_key=key,
        model=settings.openai_model,
        base_url=settings.openai_base_url or None,
        fallback_model=settings.openai_fallback_model or None,
        timeout_s=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        language=settings.language,
    )
    return make_summarizer(llm, settings.language)
