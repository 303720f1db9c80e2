"""The template's resources on a moto server on loopback, kept between runs on disk.

Physical names are ``<stack>-<LogicalId>`` (lowercased for buckets). A state folder
holds a snapshot of the table, the bucket and the queues, taken through boto3
after a run and replayed into a fresh server before the next one, so that a
second run sees the first one's records and digests as a deployed stack would.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paperdigest.aws import client, reset_clients
from paperdigest.errors import ConfigError
from paperdigest.local.template import (
    FunctionSpec,
    Resolver,
    functions,
    load_template,
    pattern_json,
)

REGION = "us-east-1"
ACCOUNT = "123456789012"
EVENTS_QUEUE = "local-events"
SNAPSHOT_VERSION = 1
STATE_FILE = "state.json"
LOCAL_TYPES = (
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::Events::EventBus",
)


@dataclass(slots=True)
class Stack:
    """Physical names of the local resources and the functions that use them."""

    name: str
    endpoint: str
    tables: dict[str, str] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    buses: dict[str, str] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    events_queue: str = ""
    queue_attributes: dict[str, dict[str, str]] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        """The union of every function's environment (the variables never disagree)."""
        env: dict[str, str] = {}
        for spec in self.functions.values():
            for key, value in spec.environment.items():
                if env.get(key, value) != value:
                    raise ConfigError(
                        f"functions disagree on {key}; run them in separate processes"
                    )
                env[key] = value
        return env


class MotoServer:
    """A moto server on 127.0.0.1, in a process of its own, with fake credentials set.

    Its own process keeps moto's work off the interpreter that drives the handlers
    (they would share one GIL), so a local run can use a second core.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self.endpoint = ""

    def start(self, timeout_s: float = 60.0) -> str:
        port = _free_port()
        self._process = subprocess.Popen(
            [sys.executable, "-c", SERVER_MAIN, str(port), str(os.getpid())],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Out of the terminal's process group: Ctrl-C stops the CLI, which stops this.
            start_new_session=True,
        )
        self.endpoint = f"http://127.0.0.1:{port}"
        _wait_until_up(self.endpoint, self._process, timeout_s)
        os.environ.update(
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_SESSION_TOKEN="testing",
            AWS_DEFAULT_REGION=REGION,
            AWS_REGION=REGION,
        )
        reset_clients()
        return self.endpoint

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None
        reset_clients()


# The server process: moto's own server, with the fixes below applied first. It ends
# itself when the command that started it is gone, even one killed without cleanup.
SERVER_MAIN = """
import sys
from paperdigest.local import stack
from paperdigest.local.orphans import exit_when_gone
exit_when_gone(int(sys.argv[2]))
from moto.server import main
stack._receive_in_constant_time()
stack._dispatch_without_rescanning()
stack._transact_with_item_backups()
main(["-H", "127.0.0.1", "-p", sys.argv[1]])
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _wait_until_up(endpoint: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Wait for the server to answer; raise ``ConfigError`` if it exits or never does."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if process.poll() is not None:
            raise ConfigError(f"the moto server exited with status {process.returncode}")
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise ConfigError(f"the moto server did not answer within {timeout_s:.0f} s")


def _dispatch_without_rescanning() -> None:
    """Let moto's server find a request's backend without listing its package folder.

    NOTE: moto 5.2.5's dispatcher lists its package folder on disk (and checks each
    entry is a folder) for every request, under a lock that every request takes;
    the list cannot change while the server runs, so it is read once. The server's
    per-request access log, which nobody reads here, is switched off too.
    """
    import logging

    import moto.backends

    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def _receive_in_constant_time() -> None:
    """Let moto's SQS check a received message's retention without scanning the queue.

    NOTE: moto 5.2.5 checks each message it hands out against the retention period
    through ``get_queue_attributes``, which computes every attribute of the queue,
    counting its messages three times, and does so three times: receiving was
    quadratic in the queue's length (a 1314-paper run spent most of its time there).
    The check itself is unchanged; it reads the one attribute it needs.
    """
    from moto.core.utils import unix_time
    from moto.sqs.models import Message, SQSBackend

    def is_message_valid_based_on_retention_period(
        self: SQSBackend, queue_name: str, message: Message
    ) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention + message.sent_timestamp / 1000 > unix_time())

    SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
        is_message_valid_based_on_retention_period
    )


def _transact_with_item_backups() -> None:
    """Let moto's TransactWriteItems back up the items it writes, not whole tables.

    NOTE: moto 5.2.5 deep-copies each table a transaction names, once for every item
    of the transaction, so that it can roll back: a write cost time and memory in
    proportion to the table, and a 1314-paper run grew the server past 11 GB. The
    rollback is kept, from copies of the written items alone; every other step of the
    transaction is moto's own.
    """
    import copy

    import moto.dynamodb.models as dynamodb
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class TablesKept:
        """``copy`` as moto's DynamoDB backend sees it: tables are not copied."""

        @staticmethod
        def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        backups = []
        for entry in transact_items:
            op = next(iter(entry.values()), {})
            table = self.tables.get(op.get("TableName"))
            attrs = op.get("Item") or op.get("Key") or {}
            if table is None or table.hash_key_attr not in attrs:
                continue  # moto rejects the transaction before it writes this one
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_key = None
            if table.has_range_key:
                if table.range_key_attr not in attrs:
                    continue
                range_key = DynamoType(attrs[table.range_key_attr])
            before = copy.deepcopy(table.get_item(hash_key, range_key))
            backups.append((table, hash_key, range_key, before))
        try:
            original(self, transact_items)
        except BaseException:
            # Newest first: an item named twice gets its state from before the first.
            for table, hash_key, range_key, before in reversed(backups):
                _restore(table, hash_key, range_key, before)
            raise

    dynamodb.copy = TablesKept  # type: ignore[assignment]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _restore(table: Any, hash_key: Any, range_key: Any, before: Any) -> None:
    """Put back one item of a moto table as it was (absent when ``before`` is None)."""
    if before is None:
        table.delete_item(hash_key, range_key)
    elif range_key is None:
        table.items[hash_key] = before
    else:
        table.items[hash_key][range_key] = before


def create_stack(
    template_path: Path, endpoint: str, name: str, parameters: dict[str, str]
) -> Stack:
    """Create every resource the template declares that the local stack can serve."""
    template = load_template(template_path)
    stack = Stack(name=name, endpoint=endpoint)
    names: dict[str, str] = {}
    attributes: dict[tuple[str, str], str] = {}
    resolver = Resolver(template, name, names, attributes, parameters)
    resources = template["Resources"]

    # Queues without a redrive policy first: a queue's DLQ must exist before it.
    ordered = sorted(
        resources.items(), key=lambda kv: "RedrivePolicy" in kv[1].get("Properties", {})
    )
    for logical, resource in ordered:
        kind = resource["Type"]
        if kind not in LOCAL_TYPES:
            continue
        props = resolver.value(resource.get("Properties", {}))
        physical = f"{name}-{logical}"
        if kind == "AWS::DynamoDB::Table":
            _create_table(physical, props)
            stack.tables[logical] = names[logical] = physical
        elif kind == "AWS::S3::Bucket":
            bucket = physical.lower()
            _create_bucket(bucket, props)
            stack.buckets[logical] = names[logical] = bucket
        elif kind == "AWS::SQS::Queue":
            url, arn, attrs = _create_queue(physical, props)
            stack.queues[logical] = names[logical] = url
            stack.queue_attributes[logical] = attrs
            attributes[(logical, "Arn")] = arn
            attributes[(logical, "QueueName")] = physical
        elif kind == "AWS::Events::EventBus":
            bus = str(props.get("Name", physical))
            client("events", REGION).create_event_bus(Name=bus)
            stack.buses[logical] = names[logical] = bus

    stack.functions = functions(template, resolver)
    stack.events_queue = _route_rules(stack)
    return stack


def _create_table(name: str, props: dict[str, Any]) -> None:
    client("dynamodb", REGION).create_table(
        TableName=name,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"),
    )


def _create_bucket(name: str, props: dict[str, Any]) -> None:
    s3 = client("s3", REGION)
    s3.create_bucket(Bucket=name)
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )


def _create_queue(name: str, props: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    attrs = {
        key: str(props[key])
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds")
        if key in props
    }
    if "RedrivePolicy" in props:
        attrs["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    sqs = client("sqs", REGION)
    url: str = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn, attrs


def _route_rules(stack: Stack) -> str:
    """Create each EventBridge rule with a local queue as its target.

    NOTE: in AWS the rule's target is the function. Locally the rule delivers to
    a queue that the runner reads, because a Lambda target makes moto fail every
    ``put_events`` on the bus; the event still goes through EventBridge.
    """
    sqs, events = client("sqs", REGION), client("events", REGION)
    url: str = sqs.create_queue(QueueName=f"{stack.name}-{EVENTS_QUEUE}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    for spec in stack.functions.values():
        if spec.rule_pattern is None:
            continue
        rule = f"{spec.name}-rule"
        events.put_rule(
            Name=rule, EventBusName=spec.rule_bus, EventPattern=pattern_json(spec.rule_pattern)
        )
        events.put_targets(
            Rule=rule,
            EventBusName=spec.rule_bus,
            Targets=[{"Id": spec.name, "Arn": arn}],
        )
    return url


# --- snapshots ---------------------------------------------------------------------
def save_state(stack: Stack, folder: Path) -> None:
    """Write the table, the bucket and the queues' messages to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {"version": SNAPSHOT_VERSION, "tables": {}, "buckets": {}, "queues": {}}

    dynamodb = client("dynamodb", REGION)
    for logical, table in stack.tables.items():
        items: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            items.extend(page["Items"])
        state["tables"][logical] = items

    s3 = client("s3", REGION)
    for logical, bucket in stack.buckets.items():
        objects = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for entry in page.get("Contents", []):
                obj = s3.get_object(Bucket=bucket, Key=entry["Key"])
                objects.append(
                    {
                        "key": entry["Key"],
                        "content_type": obj.get("ContentType", "binary/octet-stream"),
                        "cache_control": obj.get("CacheControl"),
                        "body": base64.b64encode(obj["Body"].read()).decode("ascii"),
                    }
                )
        state["buckets"][logical] = objects

    for logical, url in stack.queues.items():
        state["queues"][logical] = _drain_bodies(url)

    # Written aside and renamed, so that an interrupted save leaves the old state whole.
    tmp = folder / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state), encoding="utf-8")
    tmp.replace(folder / STATE_FILE)


def load_state(stack: Stack, folder: Path) -> bool:
    """Replay a snapshot into a fresh stack; return False when there is none."""
    path = folder / STATE_FILE
    if not path.exists():
        return False
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        valid = isinstance(state, dict) and all(
            isinstance(state.get(part), dict) for part in ("tables", "buckets", "queues")
        )
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} cannot be read ({exc}); run with --fresh") from exc
    if not valid or state.get("version") != SNAPSHOT_VERSION:
        raise ConfigError(
            f"{path} is not a state file of this version; run with --fresh to start anew"
        )

    dynamodb = client("dynamodb", REGION)
    for logical, items in state["tables"].items():
        for item in items:
            dynamodb.put_item(TableName=stack.tables[logical], Item=item)
    s3 = client("s3", REGION)
    for logical, objects in state["buckets"].items():
        for obj in objects:
            extra = {"CacheControl": obj["cache_control"]} if obj.get("cache_control") else {}
            s3.put_object(
                Bucket=stack.buckets[logical],
                Key=obj["key"],
                Body=base64.b64decode(obj["body"]),
                ContentType=obj["content_type"],
                **extra,
            )
    sqs = client("sqs", REGION)
    for logical, bodies in state["queues"].items():
        for body in bodies:
            sqs.send_message(QueueUrl=stack.queues[logical], MessageBody=body)
    return True


def _drain_bodies(url: str) -> list[str]:
    """Read every message body of a queue without deleting (they are re-sent on load)."""
    sqs = client("sqs", REGION)
    bodies: list[str] = []
    while True:
        response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)
        messages = response.get("Messages", [])
        if not messages:
            return bodies
        bodies.extend(m["Body"] for m in messages)
