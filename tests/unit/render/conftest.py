"""Fixtures of the render tests."""

from __future__ import annotations

import pytest
from render_samples import build_digest, load_papers

from paperdigest.models import Digest, Paper


@pytest.fixture
def papers() -> list[Paper]:
    return load_papers()


@pytest.fixture
def digest() -> Digest:
    return build_digest()
