"""Session-wide test support: the service name of the logs, and the figures that
reliability tests report."""

from __future__ import annotations

import os

import pytest

# As the template sets it for every function. Powertools names a module's child logger
# after the service when the module is first imported, whichever test imports it first;
# without this, a module imported outside a local run logs apart from its handler.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "paperdigest")

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
