"""Logs of the local runner after a handler ran in its process."""

from __future__ import annotations

import io
import json
import logging

from aws_lambda_powertools import Logger

from paperdigest.local.runner import LambdaContext, _forget_invocation


def test_runner_lines_do_not_carry_the_last_in_process_function(monkeypatch) -> None:
    # Given the service's logger writing JSON to a buffer, and ingest's handler run here
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "paperdigest")
    service = Logger(service="paperdigest", level="INFO")
    buffer = io.StringIO()
    for handler_ in logging.getLogger("paperdigest").handlers:
        if isinstance(handler_, logging.StreamHandler):
            monkeypatch.setattr(handler_, "stream", buffer)

    @service.inject_lambda_context(log_event=False)
    def handler(event: dict[str, object], context: object) -> None:
        service.info("run queued")

    handler({}, LambdaContext("IngestFunction", 60))

    # When the runner forgets the invocation and then logs a line of its own
    _forget_invocation()
    logging.getLogger("paperdigest.local.runner").error("invocation failed")

    # Then the handler's line names its function and the runner's does not
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert [(r["message"], r.get("function_name")) for r in lines] == [
        ("run queued", "IngestFunction"),
        ("invocation failed", None),
    ]
