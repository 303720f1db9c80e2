"""Wiring of each Lambda stage: settings, adapters and the core service, built once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger

from paperdigest import observe
from paperdigest.aws import client
from paperdigest.errors import QuietDay
from paperdigest.messaging import DigestEvents, WorkMessage, WorkQueue
from paperdigest.pipeline.summarize import Delivery, RemainingMs, SummarizeService
from paperdigest.settings import ingest_settings, publish_settings, summarize_settings
from paperdigest.storage import Store, bind_table
from paperdigest.taxonomy import load_taxonomy

logger = Logger(child=True)


@dataclass(frozen=True, slots=True)
class IngestRequest:
    """What a scheduled event asks of ingest.

    EventBridge's scheduled event carries only its time; a manual or local run may
    add ``detail`` with ``date``, ``inputs`` (object keys of recorded source
    documents in the bucket) and ``max_papers``.
    """

    time: str
    date: str | None = None
    inputs: tuple[str, ...] = ()
    max_papers: int | None = None

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> IngestRequest:
        detail = event.get("detail") or {}
        return cls(
            time=str(event.get("time", "")),
            date=detail.get("date"),
            inputs=tuple(detail.get("inputs", ())),
            max_papers=detail.get("max_papers"),
        )

    def now(self) -> dt.datetime:
        """When the event fired (UTC), or now when it carries no time."""
        if self.time:
            return dt.datetime.fromisoformat(self.time.replace("Z", "+00:00"))
        return dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        """The UTC day the event fired."""
        return self.now().date()


def run_ingest(request: IngestRequest) -> dict[str, Any]:
    """Run ingest for one scheduled event; return a summary of the run."""
    from paperdigest.pipeline.ingest import collect_live, ingest, parse_documents
    from paperdigest.sources.config import load_sources

    settings = ingest_settings()
    bind_table(settings.table_name, settings.aws_region)
    config = load_sources(settings.sources_file or None)
    inputs = request.inputs or tuple(settings.input_uris)
    if inputs:
        collected = parse_documents(
            [(key, _read_object(settings.bucket_name, key)) for key in inputs]
        )
    else:
        from paperdigest.sources.fetch import Fetcher

        with Fetcher() as fetcher:
            collected = collect_live(config, fetcher, request.date or request.today().isoformat())

    try:
        outcome = ingest(
            collected,
            store=Store(),
            queue=WorkQueue(settings.queue_url, settings.aws_region),
            taxonomy=load_taxonomy(),
            language=settings.language,
            max_papers=request.max_papers or settings.max_papers,
            config=config,
            deadline_s=settings.run_deadline_s,
            date=request.date,
            today=request.today,
        )
    except QuietDay as exc:
        logger.info("quiet day", extra={"reason": str(exc)})
        observe.count(observe.PAPERS_INGESTED, 0)
        return {
            "status": "quiet",
            "reason": str(exc),
            "errors": collected.errors,
            "skipped": [s.describe() for i in collected.inputs for s in i.skipped],
        }
    return {
        "status": outcome.status,
        "date": outcome.date,
        "candidates": outcome.candidates,
        "selected": [r.paper.arxiv_id for r in outcome.selected],
        "skipped": [s.describe() for s in outcome.skipped],
        "errors": outcome.errors,
        "replaced": outcome.replaced,
        "replaced_digest": outcome.replaced_digest,
        "mixed_days": outcome.mixed_days,
    }


def _read_object(bucket: str, key: str) -> bytes:
    if key.startswith("s3://"):
        bucket, _, key = key[len("s3://") :].partition("/")
    s3 = client("s3", ingest_settings().aws_region)
    body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


@cache
def summarize_service() -> SummarizeService:
    """The summarize service of this process, built on first use."""
    from paperdigest.engines import make_engine

    settings = summarize_settings()
    bind_table(settings.table_name, settings.aws_region)
    return SummarizeService(
        store=Store(),
        queue=WorkQueue(settings.queue_url, settings.aws_region),
        events=DigestEvents(settings.event_bus_name, settings.aws_region),
        engine=make_engine(settings),
        taxonomy=load_taxonomy(),
        lease_seconds=settings.lease_seconds,
        language=settings.language,
        max_run_tokens=settings.max_run_tokens,
    )


def prepare_summarize() -> None:
    """Build what the first summarize invocation would: settings, service, clients."""
    summarize_service().prepare()
    Store.connect()


def start_batch() -> None:
    """Begin one invocation's batch of work messages."""
    summarize_service().start_batch()


def handle_work(body: str, receive_count: int, remaining_ms: RemainingMs | None) -> None:
    """Handle one SQS work message; raise to report it as a batch item failure."""
    delivery = Delivery(receive_count, summarize_settings().max_receive_count)
    summarize_service().handle(WorkMessage.from_body(body), delivery, remaining_ms)


def run_publish(event: dict[str, Any]) -> dict[str, Any]:
    """Publish the digest a DigestReady event names, or, on the scheduled sweep, every
    run past its deadline; return what was published."""
    from paperdigest.pipeline.publish import publish, sweep

    settings = publish_settings()
    bind_table(settings.table_name, settings.aws_region)
    if event.get("detail-type") == "Scheduled Event":
        now = IngestRequest.from_event(event).now()
        dates = sweep(
            Store(),
            load_taxonomy(),
            settings.bucket_name,
            settings.aws_region,
            settings.site_prefix,
            now.timestamp(),
        )
        return {"swept": dates}
    date = str(event["detail"]["date"])
    objects = publish(
        Store(),
        load_taxonomy(),
        settings.bucket_name,
        settings.aws_region,
        date,
        settings.site_prefix,
    )
    if objects:
        observe.count(observe.DIGESTS_PUBLISHED)
    return {"date": date, "keys": [o.key for o in objects]}
