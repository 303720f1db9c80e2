"""Redrive: move dead-lettered work back to the queue and reopen what it names."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from aws_lambda_powertools import Logger

from paperdigest.aws import client
from paperdigest.errors import DigestError
from paperdigest.messaging import WorkMessage
from paperdigest.storage import Store

logger = Logger(child=True)


@dataclass(slots=True)
class Redriven:
    """What a redrive moved: work messages by date, and bodies it could not read."""

    papers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    categories: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    unreadable: int = 0

    @property
    def moved(self) -> int:
        return sum(map(len, self.papers.values())) + sum(map(len, self.categories.values()))


def redrive(store: Store, dlq_url: str, queue_url: str, region: str, date: str | None) -> Redriven:
    """Move the DLQ's work messages (of ``date``, or all) back and reopen their work.

    A message that is not a work message stays in the DLQ and is counted as unreadable.
    """
    sqs = client("sqs", region)
    result = Redriven()
    messages = _receive_all(sqs, dlq_url)
    keep: list[dict[str, str]] = []
    for message in messages:
        try:
            work = WorkMessage.from_body(message["Body"])
        except DigestError:
            result.unreadable += 1
            keep.append(message)
            continue
        if date and work.date != date:
            keep.append(message)
            continue
        target = result.papers if work.kind == "paper" else result.categories
        target[work.date].add(work.key)

    for run_date, ids in result.papers.items():
        store.reopen_papers(run_date, ids)
    for run_date, categories in result.categories.items():
        if run_date in result.papers:
            continue  # reopening the papers redoes every category of the run
        for category in categories:
            store.reopen_category(run_date, category)

    moved = [m for m in messages if m not in keep]
    for message in moved:
        sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"])
        sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
    for message in keep:
        sqs.change_message_visibility(
            QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    logger.info("dead letters redriven", extra={"moved": len(moved), "kept": len(keep)})
    return result


def _receive_all(sqs: object, url: str) -> list[dict[str, str]]:
    """Receive every message of a queue (hidden for a while, not deleted)."""
    messages: list[dict[str, str]] = []
    while True:
        batch = sqs.receive_message(  # type: ignore[attr-defined]
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300
        ).get("Messages", [])
        if not batch:
            return messages
        messages.extend(batch)
