"""Fixtures of the LLM client tests: the fake endpoint, recorded papers, a summarizer."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from paperdigest.models import Paper
from paperdigest.summarize.llm import LLMSettings, LLMSummarizer
from paperdigest.taxonomy import Taxonomy, load_taxonomy

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    # NOTE: tests/ is not a package; this makes tests.fakes importable from here.
    sys.path.insert(0, str(ROOT))

from tests.fakes.openai_server import FakeOpenAI, fake_openai  # noqa: E402

__all__ = ["fake_openai"]

PAPERS = ROOT / "infra" / "golden" / "papers-2024-09-24.json"
API_KEY = "sk-test-very-secret-key-1234567890"


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="session")
def papers() -> dict[str, Paper]:
    """The recorded Hugging Face daily papers of 2024-09-24, by arXiv id."""
    data = json.loads(PAPERS.read_text(encoding="utf-8"))
    return {
        p["arxiv_id"]: Paper(arxiv_id=p["arxiv_id"], title=p["title"], abstract=p["abstract"])
        for p in data["papers"]
    }


@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture
def sleeps() -> list[float]:
    """The waits the summarizer asked for; nothing really sleeps."""
    return []


@pytest.fixture
def make_summarizer(fake_openai: FakeOpenAI, sleeps: list[float]) -> Callable[..., LLMSummarizer]:
    """Build an ``LLMSummarizer`` pointed at the fake endpoint; kwargs go to settings."""

    def make(**overrides: object) -> LLMSummarizer:
        values: dict[str, object] = {
            "api_key": API_KEY,
            "base_url": fake_openai.base_url,
            "model": "gpt-4o-mini",
            "timeout_s": 5.0,
        }
        values.update(overrides)
        return LLMSummarizer(LLMSettings.model_validate(values), sleep=sleeps.append)

    return make
