"""Session-wide test support: the figures that reliability tests report."""

from __future__ import annotations

import pytest

_FIGURES: list[str] = []


@pytest.fixture
def figures() -> list[str]:
    """Lines a test reports as measured figures; printed at the end of the session."""
    return _FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _FIGURES:
        terminalreporter.section("reliability figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
