"""One local session: a moto server, the template's stack, the saved state, the runner."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from paperdigest.aws import client
from paperdigest.errors import ConfigError
from paperdigest.local.runner import Runner
from paperdigest.local.stack import (
    REGION,
    STATE_FILE,
    MotoServer,
    Stack,
    create_stack,
    load_state,
    save_state,
)
from paperdigest.storage import bind_table

STACK_NAME = "paperdigest"
SERVICE_LOGGER = "paperdigest"


@dataclass(slots=True)
class Session:
    """A running local stack with the handlers ready to invoke."""

    root: Path
    stack: Stack
    runner: Runner
    state: Path

    region: str = REGION

    @property
    def bucket(self) -> str:
        return next(iter(self.stack.buckets.values()))

    @property
    def table(self) -> str:
        return next(iter(self.stack.tables.values()))

    def export_site(self, out: Path, skip_prefixes: tuple[str, ...] = ("inputs/",)) -> list[Path]:
        """Copy every published object of the bucket to ``out`` under the same keys."""
        s3 = client("s3", REGION)
        written = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for entry in page.get("Contents", []):
                key = entry["Key"]
                if key.startswith(skip_prefixes):
                    continue
                target = out / key
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
                written.append(target)
        return written


def find_root(start: Path | None = None) -> Path:
    """The project folder: the nearest folder upwards that holds ``template.yaml``."""
    candidates = [start or Path.cwd(), Path(__file__).resolve()]
    for candidate in candidates:
        for folder in (candidate, *candidate.parents):
            if (folder / "template.yaml").is_file() and (folder / "functions").is_dir():
                return folder
    raise ConfigError("cannot find template.yaml; run from the project folder or pass --root")


def clear_state(state: Path) -> None:
    """Forget the saved stack (records, digests, queues); logs stay."""
    (state / STATE_FILE).unlink(missing_ok=True)


def reset_process_caches() -> None:
    """Forget settings, services and clients cached by an earlier run in this process."""
    from paperdigest import settings, stages
    from paperdigest.aws import reset_clients

    for cached in (
        settings.ingest_settings,
        settings.summarize_settings,
        settings.publish_settings,
        stages.summarize_service,
    ):
        cached.cache_clear()
    reset_clients()


@contextmanager
def local_session(
    state: Path,
    *,
    fresh: bool = False,
    root: Path | None = None,
    parameters: dict[str, str] | None = None,
    log_stream: IO[str] | None = None,
    retry_delay: float = 0.2,
    save: bool = True,
) -> Iterator[Session]:
    """Start moto, create the stack, replay the saved state; save it again at the end."""
    project = root or find_root()
    if fresh:
        clear_state(state)
    server = MotoServer()
    saved_env = dict(os.environ)
    server.start()
    try:
        reset_process_caches()
        stack = create_stack(
            project / "template.yaml", server.endpoint, STACK_NAME, parameters or {}
        )
        load_state(stack, state)
        # The CLI reads the table too; point the models at this server's table.
        bind_table(next(iter(stack.tables.values())), REGION)
        runner = Runner(
            project,
            stack,
            retry_delay=retry_delay,
            log_path=getattr(log_stream, "name", None),
        )
        restore_logs = _route_logs(log_stream)
        try:
            # Handlers print their metrics (embedded metric format) to stdout, as in
            # Lambda; locally they belong in the log with everything else.
            with contextlib.redirect_stdout(log_stream) if log_stream else contextlib.nullcontext():
                yield Session(root=project, stack=stack, runner=runner, state=state)
        finally:
            # Saved also when the command fails or is interrupted: the stack holds what
            # the run did (records, summaries paid for, dead letters for a redrive),
            # once the runner has handed its in-flight messages back.
            runner.close()
            restore_logs()
            if save:
                save_state(stack, state)
    finally:
        server.stop()
        reset_process_caches()
        os.environ.clear()
        os.environ.update(saved_env)


def _route_logs(stream: IO[str] | None) -> Callable[[], None]:
    """Send the handlers' structured logs to ``stream``; return what undoes it."""
    if stream is None:
        return lambda: None
    from aws_lambda_powertools import Logger

    Logger(service=SERVICE_LOGGER)
    handlers = [
        h
        for h in logging.getLogger(SERVICE_LOGGER).handlers
        if isinstance(h, logging.StreamHandler)
    ]
    # NOTE: plain assignment, not setStream(): that flushes the old stream, which may
    # be closed already.
    for handler in handlers:
        handler.stream = stream

    def restore() -> None:
        # NOTE: back to the process's own stdout, not whatever sys.stdout was before:
        # a test harness may have swapped that for a capture it has closed since.
        for handler in handlers:
            handler.stream = sys.__stdout__

    return restore
