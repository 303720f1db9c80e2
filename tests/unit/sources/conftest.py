"""Fixtures for the source readers: real recorded documents, no network."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from paperdigest.models import ParsedInput
from paperdigest.sources import parse_document

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "sources"
SHARED = REPO / ".." / "shared" / "data" / "arxiv"
RAG_2024 = "atom/rag-2024/all_retrieval_augmented_generation_1314entries_2024-12-26.xml"


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("unit tests must not open network connections")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture
def read_bytes() -> Callable[[str], bytes]:
    """Return a reader of a fixture file (``tests/fixtures/sources/<relative path>``)."""

    def read(relative: str) -> bytes:
        return (FIXTURES / relative).read_bytes()

    return read


@pytest.fixture
def parse() -> Callable[[str], ParsedInput]:
    """Return a function that parses a fixture file by its relative path."""

    def parse_fixture(relative: str) -> ParsedInput:
        path = FIXTURES / relative
        return parse_document(path.read_bytes(), path.name)

    return parse_fixture


@pytest.fixture(scope="session")
def rag_2024() -> Iterator[ParsedInput]:
    """The 1314-entry arXiv API response, read once from ../shared (too big to copy)."""
    path = SHARED / RAG_2024
    yield parse_document(path.read_bytes(), path.name)
