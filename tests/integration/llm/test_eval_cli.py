"""``paperdigest eval`` measures the classifiers on the golden set."""

from __future__ import annotations

import pytest

from paperdigest.cli import main
from tests.fakes.openai_server import FakeOpenAI


def test_eval_prints_rule_based_and_llm_accuracy(
    fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an LLM that files every paper under the first category of the taxonomy
    monkeypatch.setenv("OPENAI_API_KEY", "sk-eval-test")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OPENAI_MODEL", "gpt-4o-mini")

    code = main(["eval"])

    # Then both accuracies are measured on the six labelled papers, one call each
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert "rule-based accuracy: 6/6 = 100%" in lines
    # Two of the six golden papers are Computer Vision, the first category.
    assert "llm:gpt-4o-mini accuracy: 2/6 = 33%, 900 tokens" in lines
    assert fake_openai.calls == 6
