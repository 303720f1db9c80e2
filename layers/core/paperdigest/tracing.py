"""Optional X-Ray tracing of the handlers, through Powertools' Tracer.

Tracing is on only when ``POWERTOOLS_TRACE_DISABLED`` is ``false`` (the template's
``EnableTracing`` parameter sets it and the functions' ``Tracing: Active``). When it
is off, nothing of the X-Ray SDK is imported: Powertools' Tracer imports it even when
disabled, which costs a cold start about half a second.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

Handler = TypeVar("Handler", bound=Callable[..., Any])

_OFF = {"1", "true", "yes", "on"}


def tracing_enabled() -> bool:
    """Whether this function's environment asks for X-Ray tracing."""
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "true").strip().lower() not in _OFF


def traced(handler: Handler) -> Handler:
    """``handler`` with its invocations traced (and AWS and HTTP calls patched) when on."""
    if not tracing_enabled():
        return handler
    from aws_lambda_powertools import Tracer

    tracer = Tracer()
    wrapped: Handler = tracer.capture_lambda_handler(handler)
    return wrapped
