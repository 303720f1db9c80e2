"""boto3 clients: one session per process, made on first use, forgotten on reset."""

from __future__ import annotations

import boto3
import pytest

from paperdigest import aws


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    made: list[object] = []
    original = boto3.session.Session

    def counting(*args: object, **kwargs: object) -> object:
        made.append(original(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(boto3.session, "Session", counting)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    aws.reset_clients()
    yield made
    aws.reset_clients()


def test_clients_of_several_services_come_from_one_session(sessions: list[object]) -> None:
    sqs = aws.client("sqs", "us-east-1")
    aws.client("s3", "us-east-1")
    aws.client("events", "eu-west-1")
    assert aws.client("sqs", "us-east-1") is sqs
    assert len(sessions) == 1


def test_reset_makes_a_new_session_and_clients(sessions: list[object]) -> None:
    sqs = aws.client("sqs", "us-east-1")
    aws.reset_clients()
    assert aws.client("sqs", "us-east-1") is not sqs
    assert len(sessions) == 2
