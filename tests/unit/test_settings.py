"""Settings read from the environment, and the check that names each bad variable."""

from __future__ import annotations

import pytest

from paperdigest.settings import environment_problems


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A valid environment of every function, as the template sets it."""
    monkeypatch.setenv("TABLE_NAME", "papers")
    monkeypatch.setenv("BUCKET_NAME", "site")
    monkeypatch.setenv("OPENAI_BASE_URL", "")
    monkeypatch.setenv("MAX_RUN_TOKENS", "0")
    return monkeypatch


def test_valid_environment_has_no_problem(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")

    assert environment_problems() == []


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("LLM_TIMEOUT_S", "abc", "valid number"),
        ("MAX_RUN_TOKENS", "-5", "greater than or equal to 0"),
        ("RUN_DEADLINE_S", "3", "greater than or equal to 10"),
        ("OPENAI_BASE_URL", "notaurl", "http:// or https:// URL"),
        ("OPENAI_BASE_URL", "ftp://host/v1", "http:// or https:// URL"),
        ("MAX_PAPERS", "0", "greater than or equal to 1"),
        ("LLM_TIMEOUT_S", "-5", "greater than 0"),
        ("LLM_TIMEOUT_S", "nan", "finite number"),
        ("LLM_MAX_RETRIES", "-1", "greater than or equal to 1"),
    ],
)
def test_each_bad_variable_is_named_with_its_value_and_why(
    environment: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    environment.setenv(variable, value)

    (problem,) = environment_problems()

    assert problem.startswith(f"{variable}={value!r}: ")
    assert says in problem


def test_missing_required_variable_is_named(environment: pytest.MonkeyPatch) -> None:
    environment.delenv("TABLE_NAME")

    assert environment_problems() == ["TABLE_NAME is not set"]
