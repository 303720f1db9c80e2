"""Helpers for end-to-end runs of the local pipeline through the CLI."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from paperdigest.cli import main

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
SHARED = REPO.parent / "shared"
SOURCE_LINE = re.compile(r"^ - (?P<title>.+) \(<?(?P<link>https://arxiv\.org/abs/[^)>]+)>?\)$")


@dataclass
class RunResult:
    code: int
    stdout: str
    stderr: str
    out: Path
    state: Path

    @property
    def digest_path(self) -> Path:
        return Path(self.stdout.strip().splitlines()[-1])

    def markdown(self) -> str:
        return self.digest_path.read_text(encoding="utf-8")

    def table_items(self) -> list[dict[str, object]]:
        state = json.loads((self.state / "state.json").read_text(encoding="utf-8"))
        return [item for items in state["tables"].values() for item in items]

    def run_record(self, date: str) -> dict[str, object]:
        for item in self.table_items():
            if item["pk"] == {"S": f"RUN#{date}"} and item["sk"] == {"S": "RUN"}:
                return item
        raise AssertionError(f"no run record for {date}")

    def log_records(self) -> list[dict[str, object]]:
        """Every line of the run's handler log, parsed (a line that is not JSON fails)."""
        (path,) = (self.state / "logs").glob("run-*.jsonl")
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    def selected_ids(self, date: str) -> list[str]:
        record = self.run_record(date)
        return [v["S"] for v in record["paper_ids"]["L"]]  # type: ignore[index]


@pytest.fixture
def run_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """Run ``paperdigest run`` in-process with a private state and output folder."""

    def run(*args: str, state: Path | None = None) -> RunResult:
        out = tmp_path / "site"
        state = state or tmp_path / "state"
        code = main(["run", "--out", str(out), "--state", str(state), "--root", str(REPO), *args])
        captured = capsys.readouterr()
        return RunResult(code, captured.out, captured.err, out, state)

    return run


def source_lines(markdown: str) -> list[re.Match[str]]:
    """The ``- title (link)`` lines of every section."""
    return [m for m in (SOURCE_LINE.match(line) for line in markdown.splitlines()) if m]
