"""The SAM build's functions as Lambda images; skipped when there is no build to test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "infra"))

import lambdasim  # noqa: E402


@pytest.fixture(scope="session")
def built() -> dict[str, lambdasim.BuiltFunction]:
    """Every function of ``.aws-sam/build``; skips when ``make build`` has not run."""
    try:
        lambdasim.python312()
        return lambdasim.built_functions()
    except lambdasim.BuildMissing as exc:
        pytest.skip(f"{exc} (make test builds first)")


@pytest.fixture(scope="session")
def images(
    built: dict[str, lambdasim.BuiltFunction], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, lambdasim.Image]]:
    """Each function's sandbox: its code and its layers merged as Lambda extracts them."""
    root = tmp_path_factory.mktemp("images")
    yield {name: lambdasim.assemble(fn, root / name) for name, fn in built.items()}
