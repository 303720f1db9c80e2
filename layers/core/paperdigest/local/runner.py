"""Drive the real Lambda handlers against the local stack, with the events AWS sends.

- ingest gets a scheduled event;
- summarize gets SQS batches the way the event source mapping delivers them: at
  most ``BatchSize`` records, at most ``MaximumConcurrency`` batches at once, the
  partial batch response honoured (reported records become visible again, the
  rest are deleted), the queue's redrive policy moving a record to the DLQ after
  its last receive;
- publish gets the DigestReady event that EventBridge routed to its rule.

Time is compressed in one place only: a failed record becomes visible again after
``retry_delay`` seconds (doubling per receive) instead of the queue's visibility
timeout.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from paperdigest.aws import client
from paperdigest.local import workers
from paperdigest.local.stack import ACCOUNT, REGION, Stack
from paperdigest.local.template import FunctionSpec

logger = logging.getLogger(__name__)

# The template's logical names of the scheduled functions.
INGEST = "IngestFunction"
PUBLISH = "PublishFunction"

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(slots=True)
class LambdaContext:
    """The parts of Lambda's context object that handlers and Powertools read."""

    function_name: str
    timeout_s: int
    memory_limit_in_mb: int = 1024
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self.started
        return max(0, int((self.timeout_s - elapsed) * 1000))


@dataclass(slots=True)
class DrainStats:
    """What the runner saw while the queue drained."""

    batches: int = 0
    records: int = 0
    reported_failures: int = 0
    handler_errors: int = 0
    abandoned: int = 0
    published: list[str] = field(default_factory=list)


def load_handler(root: Path, spec: FunctionSpec) -> Handler:
    """Import a function's handler from its code folder under a unique module name."""
    module_name, _, attr = spec.handler.rpartition(".")
    path = root / spec.code_uri / f"{module_name.replace('.', '/')}.py"
    unique = f"lambda_{spec.name}_{module_name}"
    module_spec = importlib.util.spec_from_file_location(unique, path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module: ModuleType = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    handler: Handler = getattr(module, attr)
    return handler


def scheduled_event(spec: FunctionSpec, detail: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The event EventBridge Scheduler's rule sends, with optional ``detail``."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{spec.name}-Daily"],
        "detail": detail,
    }


# What Powertools' inject_lambda_context adds to every later log line of the service.
_CONTEXT_KEYS = (
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "cold_start",
    "xray_trace_id",
)


def _forget_invocation() -> None:
    """Drop the last in-process invocation's context keys from the service's logs.

    In Lambda each function has processes of its own; here ingest and publish share
    the runner's, so a line the runner logs later would carry their function's name.
    """
    from aws_lambda_powertools import Logger

    Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "paperdigest")).remove_keys(
        _CONTEXT_KEYS
    )


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """An SQS event as Lambda's event source mapping builds it from received messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value["DataType"],
                    }
                    for name, value in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


class Runner:
    """Invokes the handlers of a local stack; one instance per run.

    ``max_concurrency`` overrides the event source mapping's ``MaximumConcurrency``
    (to measure parallel delivery); None keeps the template's.
    """

    def __init__(
        self,
        root: Path,
        stack: Stack,
        retry_delay: float = 0.2,
        duplicate_deliveries: bool = False,
        max_concurrency: int | None = None,
        log_path: str | None = None,
    ) -> None:
        self._root = root
        self.max_concurrency = max_concurrency
        self._stack = stack
        self._retry_delay = retry_delay
        # Fault injection: SQS delivers at least once; this delivers every message twice.
        self._duplicate = duplicate_deliveries
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self._log_path = log_path
        self._workers: ProcessPoolExecutor | None = None
        self._in_flight: list[tuple[str, dict[str, Any]]] = []
        self._waiting: list[threading.Timer] = []
        os.environ.update(stack.environment())

    def close(self) -> None:
        """Stop the consumer's worker processes; abandoned messages become visible again,
        and so do failed ones still waiting out their retry delay."""
        for url, message in self._in_flight:
            _make_visible(url, message["ReceiptHandle"])
        with self._lock:
            waiting, self._waiting = self._waiting, []
        for timer in waiting:
            if timer.is_alive():
                timer.cancel()
                _make_visible(*timer.args)
        if self._workers is not None:
            if self._in_flight:
                # NOTE: a hung invocation never returns; end its environment, as Lambda
                # does at the function's timeout. The pool has no public way to do it.
                for process in list(self._workers._processes.values()):
                    process.terminate()
            self._workers.shutdown(wait=not self._in_flight, cancel_futures=True)
            self._workers = None
        self._in_flight = []

    def _consumer(self) -> tuple[FunctionSpec, int]:
        """The SQS consumer's function and how many of its invocations may run at once."""
        consumer = self.function_with(lambda s: s.sqs is not None)
        assert consumer.sqs is not None
        return consumer, self.max_concurrency or consumer.sqs.max_concurrency

    def _consumer_pool(self) -> ProcessPoolExecutor:
        if self._workers is None:
            spec, size = self._consumer()
            self._workers = workers.pool(size, self._root, spec, dict(os.environ), self._log_path)
        return self._workers

    def warm_up(self) -> None:
        """Start the consumer's execution environments without waiting for them.

        Called before ingest, their cold starts (imports, clients) overlap it instead
        of delaying the first batches.
        """
        pool = self._consumer_pool()
        for _ in range(self._consumer()[1]):
            pool.submit(workers.ready)

    def handler(self, name: str) -> Handler:
        if name not in self._handlers:
            self._handlers[name] = load_handler(self._root, self._stack.functions[name])
        return self._handlers[name]

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        spec = self._stack.functions[name]
        try:
            return self.handler(name)(event, LambdaContext(spec.name, spec.timeout))
        finally:
            _forget_invocation()

    def function_with(self, predicate: Callable[[FunctionSpec], bool]) -> FunctionSpec:
        for spec in self._stack.functions.values():
            if predicate(spec):
                return spec
        raise LookupError("no function matches")

    def ingest(self, detail: dict[str, Any], now: dt.datetime | None = None) -> Any:
        """Invoke ingest with its daily scheduled event."""
        return self.scheduled(INGEST, detail, now or dt.datetime.now(dt.UTC))

    def sweep(self, now: dt.datetime) -> Any:
        """Invoke publish with its sweep schedule's event, fired at ``now``."""
        return self.scheduled(PUBLISH, {}, now)

    def scheduled(self, name: str, detail: dict[str, Any], now: dt.datetime) -> Any:
        spec = self._stack.functions[name]
        if spec.schedule is None:
            raise LookupError(f"{name} has no schedule")
        return self.invoke(name, scheduled_event(spec, detail, now))

    def drain(
        self, on_batch: Callable[[], None] | None = None, deadline_s: float = 3600
    ) -> DrainStats:
        """Deliver queued work and routed events until nothing is left; return what happened."""
        consumer, concurrency = self._consumer()
        assert consumer.sqs is not None
        source = consumer.sqs
        url = self._stack.queues[source.queue]
        arn = _queue_arn(url)
        stats = DrainStats()
        sqs = client("sqs", REGION)
        end = time.monotonic() + deadline_s

        environments = self._consumer_pool()
        pool = ThreadPoolExecutor(max_workers=concurrency)
        running: dict[Future[None], list[dict[str, Any]]] = {}
        finished = False
        try:
            while time.monotonic() < end:
                while len(running) < concurrency:
                    messages = sqs.receive_message(
                        QueueUrl=url,
                        MaxNumberOfMessages=source.batch_size,
                        AttributeNames=["All"],
                        MessageAttributeNames=["All"],
                        WaitTimeSeconds=0,
                    ).get("Messages", [])
                    if not messages:
                        break
                    if self._duplicate:
                        _send_copies(url, messages)
                    future = pool.submit(
                        self._deliver, environments, consumer, url, arn, messages, stats
                    )
                    running[future] = messages
                # Reported once the free slots have new batches, which need not wait.
                if finished and on_batch:
                    on_batch()
                finished = False
                if running:
                    done, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in done:
                        del running[future]
                        future.result()
                    finished = bool(done)
                    continue
                if self._route_events(stats):
                    continue
                if _queue_empty(url):
                    break
                time.sleep(min(self._retry_delay, 0.2))
        finally:
            # NOTE: at the deadline, invocations still running are left behind (as a
            # hung Lambda would be); close() hands their messages back to the queue.
            self._in_flight = [(url, m) for batch in running.values() for m in batch]
            stats.abandoned = len(self._in_flight)
            pool.shutdown(wait=not running, cancel_futures=True)
        return stats

    def _deliver(
        self,
        environments: ProcessPoolExecutor,
        spec: FunctionSpec,
        url: str,
        arn: str,
        messages: list[dict[str, Any]],
        stats: DrainStats,
    ) -> None:
        sqs = client("sqs", REGION)
        outcome = environments.submit(workers.invoke, sqs_event(messages, arn)).result()
        if "error" in outcome:
            # NOTE: as in Lambda, an invocation that raises fails its whole batch.
            logger.error(
                "invocation failed", extra={"function": spec.name, "error": outcome["error"]}
            )
            failed_ids = {m["MessageId"] for m in messages}
            with self._lock:
                stats.handler_errors += 1
        else:
            failures = (outcome["response"] or {}).get("batchItemFailures", [])
            failed_ids = {f["itemIdentifier"] for f in failures}
        with self._lock:
            stats.batches += 1
            stats.records += len(messages)
            stats.reported_failures += len(failed_ids)

        done = [m for m in messages if m["MessageId"] not in failed_ids]
        if done:
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        for message in messages:
            if message["MessageId"] in failed_ids:
                receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
                timer = _visible_later(
                    url, message["ReceiptHandle"], self._retry_delay * 2 ** (receives - 1)
                )
                with self._lock:
                    self._waiting = [t for t in self._waiting if t.is_alive()] + [timer]

    def _route_events(self, stats: DrainStats) -> bool:
        """Deliver events that rules routed to the local events queue; return whether any were."""
        sqs = client("sqs", REGION)
        messages = sqs.receive_message(
            QueueUrl=self._stack.events_queue, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        for message in messages:
            event = json.loads(message["Body"])
            spec = self.function_with(lambda s, e=event: _matches(s, e))
            self.invoke(spec.name, event)
            stats.published.append(str(event.get("detail", {}).get("date", "")))
            sqs.delete_message(
                QueueUrl=self._stack.events_queue, ReceiptHandle=message["ReceiptHandle"]
            )
        return bool(messages)


COPY_ATTRIBUTE = "paperdigest-redelivery"


def _send_copies(url: str, messages: list[dict[str, Any]]) -> None:
    """Send a second copy of each first-time message, as an at-least-once redelivery."""
    originals = [
        m
        for m in messages
        if m.get("Attributes", {}).get("ApproximateReceiveCount") == "1"
        and COPY_ATTRIBUTE not in m.get("MessageAttributes", {})
    ]
    if originals:
        client("sqs", REGION).send_message_batch(
            QueueUrl=url,
            Entries=[
                {
                    "Id": str(i),
                    "MessageBody": m["Body"],
                    "MessageAttributes": {
                        COPY_ATTRIBUTE: {"DataType": "String", "StringValue": "copy"}
                    },
                }
                for i, m in enumerate(originals)
            ],
        )


def _visible_later(url: str, receipt: str, delay: float) -> threading.Timer:
    """Make a failed record visible again after ``delay`` seconds, not the queue's timeout."""
    timer = threading.Timer(delay, _make_visible, args=(url, receipt))
    timer.daemon = True
    timer.start()
    return timer


def _make_visible(url: str, receipt: str) -> None:
    from botocore.exceptions import ClientError

    try:
        client("sqs", REGION).change_message_visibility(
            QueueUrl=url, ReceiptHandle=receipt, VisibilityTimeout=0
        )
    except ClientError:
        # NOTE: the record was received again or moved meanwhile; its new receipt rules.
        return


def _matches(spec: FunctionSpec, event: dict[str, Any]) -> bool:
    pattern = spec.rule_pattern or {}
    if not pattern:
        return False
    return all(event.get(key) in allowed for key, allowed in pattern.items())


def _queue_arn(url: str) -> str:
    attrs = client("sqs", REGION).get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attrs["Attributes"]["QueueArn"])


def _queue_empty(url: str) -> bool:
    attrs = client("sqs", REGION).get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attrs["ApproximateNumberOfMessages"]) == 0
        and int(attrs["ApproximateNumberOfMessagesNotVisible"]) == 0
    )
