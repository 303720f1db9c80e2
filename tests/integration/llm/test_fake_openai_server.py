"""The fake endpoint itself, and the summarizer's settings that need no model."""

from __future__ import annotations

import httpx
import pytest

from paperdigest.summarize import make_summarizer
from paperdigest.summarize.llm import LLMSettings, LLMSummarizer
from paperdigest.summarize.schema import synthesis_schema
from tests.fakes.openai_server import FakeOpenAI, RecordedRequest, default_payload, server_error


def test_fake_records_requests_and_plays_its_script(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(server_error(503))
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}

    first = httpx.post(f"{fake_openai.base_url}/chat/completions", json=body)
    second = httpx.post(f"{fake_openai.base_url}/chat/completions", json=body)
    stray = httpx.post(f"{fake_openai.base_url}/embeddings", json=body)

    assert [first.status_code, second.status_code, stray.status_code] == [503, 200, 404]
    assert fake_openai.calls == 3
    assert fake_openai.requests[0].body == body


def test_default_answer_matches_a_synthesis_schema() -> None:
    request = RecordedRequest(
        method="POST",
        path="/v1/chat/completions",
        headers={},
        body={
            "messages": [
                {
                    "role": "user",
                    "content": '<paper id="a">\n<takeaway>It works. Really.</takeaway>',
                }
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "s",
                    "strict": True,
                    "schema": synthesis_schema(["a", "b"]),
                },
            },
        },
    )

    payload = default_payload(request)

    assert [f["arxiv_id"] for f in payload["findings"]] == ["a", "b"]
    assert payload["themes"] == "It works."


def test_prices_come_from_the_table_or_the_settings() -> None:
    assert LLMSettings(api_key="k", model="gpt-4o-mini-2024-07-18").prices() == (0.15, 0.60)
    assert LLMSettings(api_key="k", model="local-llama").prices() == (0.0, 0.0)
    assert LLMSettings(
        api_key="k", model="local-llama", price_input_per_1m=1.0, price_output_per_1m=2.0
    ).prices() == (1.0, 2.0)


def test_client_is_created_on_first_use_only() -> None:
    summarizer = make_summarizer(LLMSettings(api_key="k", base_url="http://127.0.0.1:9/v1"))

    assert isinstance(summarizer, LLMSummarizer)
    assert summarizer._client is None
    assert summarizer.client().max_retries == 0


def test_settings_never_show_the_key() -> None:
    settings = LLMSettings(api_key="sk-hidden-123456")

    assert "sk-hidden-123456" not in repr(settings)
    with pytest.raises(ValueError):
        LLMSettings(api_key="k", max_retries=0)
