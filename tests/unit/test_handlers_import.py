"""Each handler loads only what its function uses (cold start and layer size)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""

ENV = {
    "TABLE_NAME": "t",
    "BUCKET_NAME": "b",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "paperdigest",
}


def _loaded(function: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(REPO / "functions" / function / "app.py")],
        capture_output=True,
        text=True,
        check=True,
        env={**ENV, "PATH": "/usr/bin:/bin"},
    )
    return set(json.loads(result.stdout))


@pytest.mark.parametrize(
    ("function", "forbidden"),
    [
        ("ingest", {"openai", "matplotlib", "sumy", "nltk", "moto"}),
        ("summarize", {"matplotlib", "moto", "openai", "sumy"}),
        ("publish", {"openai", "sumy", "nltk", "moto", "matplotlib"}),
    ],
)
def test_handler_import_loads_only_what_it_needs(function: str, forbidden: set[str]) -> None:
    # openai and sumy load on the first summary, matplotlib on the first chart.
    loaded = _loaded(function)
    assert "aws_lambda_powertools" in loaded
    assert not loaded & forbidden, loaded & forbidden
