"""The local consumer's execution environments: prepared while ingest runs, never broken by it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paperdigest.local import workers
from paperdigest.local.runner import sqs_event
from paperdigest.local.template import FunctionSpec

REPO = Path(__file__).resolve().parents[3]
SPEC = FunctionSpec("SummarizeFunction", "functions/summarize", "app.handler", timeout=300)
ENVIRONMENT = {
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    # Nothing listens here: preparing an environment makes clients, it sends nothing.
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "POWERTOOLS_METRICS_NAMESPACE": "test",
}


def table_client_made() -> bool:
    """Run in a worker: whether its table connection has a client already."""
    from paperdigest.storage import _Item

    connection = _Item._connection
    return connection is not None and connection.connection._client is not None


def llm_client_made() -> bool:
    """Run in a worker: whether its LLM engine has made its OpenAI client already."""
    from paperdigest.stages import summarize_service

    return getattr(summarize_service()._engine, "_client", None) is not None


@pytest.fixture
def pool_with() -> Iterator:
    pools = []

    def start(environment: dict[str, str]):
        pool = workers.pool(1, REPO, SPEC, environment, log_path=None)
        pools.append(pool)
        return pool

    yield start
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


def test_a_worker_makes_the_table_client_before_its_first_invocation(pool_with) -> None:
    # Given a consumer environment with the function's settings
    pool = pool_with({**ENVIRONMENT, "TABLE_NAME": "digest", "BUCKET_NAME": "site"})

    # When it has started, before any invocation
    made = pool.submit(table_client_made).result(timeout=60)

    # Then the table connection and its client are there
    assert made is True


def test_a_worker_with_an_llm_endpoint_makes_its_client_before_the_first_call(pool_with) -> None:
    # Given a consumer environment configured for an OpenAI-compatible endpoint
    pool = pool_with(
        {
            **ENVIRONMENT,
            "TABLE_NAME": "digest",
            "BUCKET_NAME": "site",
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        }
    )

    # When it has started, the OpenAI client is made (nothing is sent to the endpoint)
    assert pool.submit(llm_client_made).result(timeout=60) is True


def test_settings_missing_leave_the_worker_usable_and_the_invocation_names_them(
    pool_with,
) -> None:
    # Given an environment without the table's name
    pool = pool_with(ENVIRONMENT)

    # When it starts and is then invoked with one work message
    made = pool.submit(table_client_made).result(timeout=60)
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "Body": '{"kind": "paper", "date": "2024-09-24", "key": "2409.00001"}',
        "Attributes": {"ApproximateReceiveCount": "1"},
        "MessageAttributes": {},
        "MD5OfBody": "",
    }
    outcome = pool.submit(workers.invoke, sqs_event([message], "arn:aws:sqs:us-east-1:1:q")).result(
        timeout=60
    )

    # Then nothing was prepared, the worker still answers, and the error names the setting
    assert made is False
    assert "table_name" in outcome["error"].lower()
