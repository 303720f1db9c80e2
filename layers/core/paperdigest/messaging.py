"""SQS work messages and the EventBridge DigestReady event.

A work message names one unit of work of a run: a paper or a category. Its body
carries ids only, never content, so it is tiny and a redelivery is harmless: the
key of the work is (date, id), never the message id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from paperdigest.aws import client
from paperdigest.errors import DigestError

SQS_MAX_BODY = 256 * 1024
SQS_BATCH = 10
EVENT_SOURCE = "paperdigest"
DIGEST_READY = "DigestReady"


@dataclass(frozen=True, slots=True)
class WorkMessage:
    """One unit of work: ``kind`` is ``paper`` or ``category``, ``key`` its id."""

    kind: Literal["paper", "category"]
    date: str
    key: str

    def to_body(self) -> str:
        return json.dumps({"kind": self.kind, "date": self.date, "key": self.key}, sort_keys=True)

    @classmethod
    def from_body(cls, body: str) -> WorkMessage:
        """Parse a message body; raise ``DigestError`` when it is not a work message."""
        try:
            data = json.loads(body)
            kind = data["kind"]
            if kind not in ("paper", "category"):
                raise ValueError(f"unknown kind {kind!r}")
            return cls(kind=kind, date=str(data["date"]), key=str(data["key"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise DigestError(f"malformed work message: {exc}") from exc


class WorkQueue:
    """Sends work messages to the papers queue."""

    def __init__(self, queue_url: str, region: str) -> None:
        self._url = queue_url
        self._region = region

    def send(self, messages: list[WorkMessage]) -> int:
        """Send the messages in batches of ten; return how many were sent.

        Raises ``DigestError`` naming the messages SQS refused.
        """
        sqs = client("sqs", self._region)
        for start in range(0, len(messages), SQS_BATCH):
            entries = []
            for index, message in enumerate(messages[start : start + SQS_BATCH]):
                body = message.to_body()
                if len(body.encode("utf-8")) > SQS_MAX_BODY:
                    raise DigestError(f"message for {message.key} exceeds the SQS size limit")
                entries.append({"Id": str(index), "MessageBody": body})
            response = sqs.send_message_batch(QueueUrl=self._url, Entries=entries)
            if response.get("Failed"):
                failed = [entries[int(f["Id"])]["MessageBody"] for f in response["Failed"]]
                raise DigestError(f"SQS refused {len(failed)} messages: {failed}")
        return len(messages)


class DigestEvents:
    """Puts the DigestReady event on the digest bus."""

    def __init__(self, bus_name: str, region: str) -> None:
        self._bus = bus_name
        self._region = region

    def digest_ready(self, date: str) -> None:
        """Announce that every paper and category of ``date`` has settled."""
        entry: dict[str, Any] = {
            "Source": EVENT_SOURCE,
            "DetailType": DIGEST_READY,
            "Detail": json.dumps({"date": date}),
            "EventBusName": self._bus,
        }
        response = client("events", self._region).put_events(Entries=[entry])
        if response.get("FailedEntryCount"):
            raise DigestError(f"EventBridge refused the DigestReady event: {response['Entries']}")
