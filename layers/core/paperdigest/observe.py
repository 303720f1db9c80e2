"""Metrics of the pipeline, as CloudWatch embedded metric format through Powertools.

One ``Metrics`` object is shared by a process; handlers flush it with
``@metrics.log_metrics``. Metric names are constants here so that dashboards and
alarms have one place to look.
"""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from paperdigest.models import Usage

NAMESPACE = "DailyAIInsights"
# NOTE: the namespace is given here, not read from POWERTOOLS_METRICS_NAMESPACE, because
# local runs import this module before the runner sets the functions' environment.
metrics = Metrics(namespace=NAMESPACE, service="paperdigest")

# NOTE: an invocation that counted nothing (a duplicate delivery, a quiet day) is
# normal here; Powertools would warn about every one of them.
warnings.filterwarnings("ignore", message="No application metrics to publish")

PAPERS_INGESTED = "PapersIngested"
PAPERS_SUMMARIZED = "PapersSummarized"
PAPERS_FAILED = "PapersFailed"
CATEGORIES_SYNTHESIZED = "CategoriesSynthesized"
LLM_CALLS = "LLMCalls"
LLM_TOKENS = "LLMTokens"
DIGESTS_PUBLISHED = "DigestsPublished"


def count(name: str, value: float = 1) -> None:
    """Add ``value`` to the counter ``name``."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def llm_usage(usage: Usage) -> None:
    """Record the model calls and tokens that one piece of work consumed."""
    if usage.calls:
        count(LLM_CALLS, usage.calls)
        count(LLM_TOKENS, usage.total_tokens)
