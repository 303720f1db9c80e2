"""Fixtures for the fetcher: recorded arXiv / HF answers served by httpx.MockTransport."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sources"


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("tests must not open network connections")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture
def read_bytes() -> Callable[[str], bytes]:
    """Return a reader of a fixture file (``tests/fixtures/sources/<relative path>``)."""

    def read(relative: str) -> bytes:
        return (FIXTURES / relative).read_bytes()

    return read
