"""Execution environments for the SQS consumer: one process per concurrent invocation.

Lambda never runs two invocations of a function in one process at once, and the
handlers' module-level objects (the Powertools batch processor, logger keys,
metrics) rely on that. The local runner therefore delivers concurrent batches to a
pool of worker processes, each of which imports the handler once, like a warm
execution environment.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

# Imported once by the fork server, so that each worker starts warm.
# What the consumer's handler imports on its first invocation, whatever the engine.
PRELOAD = [
    "boto3",
    "botocore.session",
    "pynamodb.models",
    "pydantic_settings",
    "aws_lambda_powertools",
    "aws_lambda_powertools.utilities.batch",
    "sumy.summarizers.text_rank",
    "paperdigest.engines",
    "paperdigest.pipeline.summarize",
    "paperdigest.summarize.embedded",
    "paperdigest.summarize.llm",
    # The OpenAI client loads its chat resources and HTTP stack on its first call.
    "openai.resources.chat.completions.completions",
    "openai.lib.streaming.chat",
    "httpcore2._sync.connection_pool",
    "httpcore2._sync.http11",
    "h11",
    "anyio.streams.tls",
    "truststore",
    "jiter",
]

_handler: Any = None
_spec: Any = None


def pool(
    size: int, root: Path, spec: Any, environment: dict[str, str], log_path: str | None
) -> ProcessPoolExecutor:
    """A pool of ``size`` worker processes that each load ``spec``'s handler."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return ProcessPoolExecutor(
        max_workers=size,
        mp_context=context,
        initializer=_start,
        initargs=(str(root), spec, environment, log_path, os.getpid()),
    )


def _start(
    root: str, spec: Any, environment: dict[str, str], log_path: str | None, owner: int
) -> None:
    global _handler, _spec
    # Ctrl-C reaches the terminal's whole process group; the runner stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from paperdigest.local.orphans import exit_when_gone

    exit_when_gone(owner)
    os.environ.clear()
    os.environ.update(environment)
    if log_path:
        # Logs and printed metrics go where the parent's do, one JSON line each.
        stream = open(log_path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        sys.stdout = stream
        from aws_lambda_powertools import Logger

        Logger(service=environment.get("POWERTOOLS_SERVICE_NAME", "paperdigest"))
        for handler in logging.getLogger(environment.get("POWERTOOLS_SERVICE_NAME", "")).handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.stream = stream
    from paperdigest.local.runner import load_handler

    _spec = spec
    _handler = load_handler(Path(root), spec)
    try:
        # The consumer's service and its clients are made now, while ingest runs,
        # and not by ten first invocations at once.
        from paperdigest.stages import prepare_summarize

        prepare_summarize()
    except Exception:  # the first invocation makes them again and reports why not
        logging.getLogger(__name__).debug("summarize service not prepared", exc_info=True)


def ready() -> None:
    """A task that only makes the pool start a worker (which loads the handler)."""


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    """Invoke the loaded handler; return its response, or the error it raised."""
    from paperdigest.local.runner import LambdaContext

    context = LambdaContext(_spec.name, _spec.timeout)
    try:
        with contextlib.redirect_stderr(sys.stdout):
            return {"response": _handler(event, context)}
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
