"""Lazily created boto3 clients, shared within a process.

Clients are made on first use, never at import, so that moto and a local
endpoint (``AWS_ENDPOINT_URL``) are picked up by whoever sets them first.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str, region: str) -> Any:
    """Return a boto3 client for ``service`` in ``region``."""
    import boto3

    return boto3.session.Session().client(service, region_name=region)


def reset_clients() -> None:
    """Forget cached clients (a new endpoint or credentials take effect)."""
    client.cache_clear()
