"""Lazily created boto3 clients, shared within a process.

Clients are made on first use, never at import, so that moto and a local
endpoint (``AWS_ENDPOINT_URL``) are picked up by whoever sets them first. They
come from one session: each session reads botocore's endpoint data anew, which
costs a cold start tens of milliseconds per session.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_session: Any = None
_clients: dict[tuple[str, str], Any] = {}


def client(service: str, region: str) -> Any:
    """Return a boto3 client for ``service`` in ``region``."""
    global _session
    with _lock:
        # NOTE: botocore sessions are not thread-safe while they create clients.
        if (service, region) not in _clients:
            if _session is None:
                import boto3

                _session = boto3.session.Session()
            _clients[service, region] = _session.client(service, region_name=region)
        return _clients[service, region]


def reset_clients() -> None:
    """Forget the session and its clients (a new endpoint or credentials take effect)."""
    global _session
    with _lock:
        _session = None
        _clients.clear()
