"""``paperdigest eval`` measures the classifiers on the golden set."""

from __future__ import annotations

import pytest

from paperdigest.cli import main
from tests.fakes.openai_server import FakeOpenAI, unauthorized


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


def test_eval_keeps_the_rule_based_result_when_the_llm_fails(
    fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an endpoint that refuses the key
    fake_openai.default = lambda request: unauthorized("sk-eval-test")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-eval-test")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)

    code = main(["eval"])

    # Then the rule-based accuracy is printed, and the failure is one error line
    captured = capsys.readouterr()
    assert code == 1
    assert "rule-based accuracy: 6/6 = 100%" in captured.out.splitlines()
    assert captured.err.strip().splitlines()[-1].startswith("error: model endpoint refused")


def test_eval_names_an_invalid_llm_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-eval-test")
    monkeypatch.setenv("LLM_TIMEOUT_S", "-5")

    code = main(["eval"])

    captured = capsys.readouterr()
    assert code == 1
    assert "rule-based accuracy: 6/6 = 100%" in captured.out.splitlines()
    assert captured.err.strip().splitlines() == [
        "error: invalid setting: LLM_TIMEOUT_S='-5': Input should be greater than 0"
    ]
