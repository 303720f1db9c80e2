"""Publish: gather a settled run into a Digest, render the site and write it to S3.

The date's objects are written first (``digest.json`` last among them), then the
pointers at the root (trend, latest, archive, feed, ``archive.json``), so a reader
never follows a pointer to a date that is not there yet. The archive is the bucket's
``archive.json`` index reconciled with the dated folders that hold a ``digest.json``:
an index that is missing, unreadable or behind (two publishes racing) heals on the
next publish.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from paperdigest.aws import client
from paperdigest.errors import PublishError
from paperdigest.models import CategorySynthesis, Digest, Paper, PaperSummary, Section, Usage
from paperdigest.render.archive import DATE, ArchiveEntry, newest_first, parse_index
from paperdigest.render.site import (
    ARCHIVE_INDEX,
    DIGEST_JSON,
    PAGE_MD,
    SiteObject,
    render_dated,
    render_pointers,
)
from paperdigest.storage import DONE, FAILED, Store
from paperdigest.taxonomy import Taxonomy

logger = Logger(child=True)

_MISSING = ("NoSuchKey", "404", "NotFound")

__all__ = ["Gathered", "SiteBucket", "SiteObject", "build_digest", "gather", "publish"]


@dataclass(frozen=True, slots=True)
class Gathered:
    """A run read back for publishing: its digest and each paper's ranking score."""

    digest: Digest
    scores: dict[str, float]


def gather(store: Store, taxonomy: Taxonomy, date: str) -> Gathered:
    """Read a run and its records; raise ``PublishError`` when there is no run."""
    run = store.get_run(date)
    if run is None:
        raise PublishError(f"no run recorded for {date}")

    sections: dict[str, Section] = {}
    failed: list[Paper] = []
    scores: dict[str, float] = {}
    usage = Usage()
    engines: set[str] = set()
    for item in store.papers(date):
        paper = Paper.from_dict(item.paper)
        scores[paper.arxiv_id] = float(item.score)
        if item.status == FAILED or item.status != DONE or not item.summary:
            failed.append(paper)
            continue
        summary = PaperSummary.from_dict(item.summary)
        usage.add(summary.usage)
        engines.add(summary.engine)
        category = taxonomy.get(summary.category)
        section = sections.setdefault(category.id, Section(category=category, papers=[]))
        section.papers.append(paper)
        section.summaries[paper.arxiv_id] = summary

    for record in store.categories(date):
        if record.category in sections and record.status == DONE and record.synthesis:
            synthesis = CategorySynthesis.from_dict(record.synthesis)
            usage.add(synthesis.usage)
            sections[record.category].synthesis = synthesis

    ordered = [sections[c] for c in taxonomy.ids if c in sections]
    stats: dict[str, Any] = dict(run.stats or {})
    stats.update(done=sum(len(s.papers) for s in ordered), failed=len(failed))
    digest = Digest(
        date=date,
        language=run.language,
        sections=ordered,
        failed=failed,
        engine=_engine_label(engines),
        usage=usage,
        stats=stats,
    )
    return Gathered(digest=digest, scores=scores)


def build_digest(store: Store, taxonomy: Taxonomy, date: str) -> Digest:
    """Read a run and its records into a Digest; raise ``PublishError`` when there is no run."""
    return gather(store, taxonomy, date).digest


def _engine_label(engines: set[str]) -> str:
    llm = sorted(e for e in engines if e.startswith("llm:"))
    if llm:
        return llm[0]
    return "embedded"


class SiteBucket:
    """The site's bucket through boto3: objects written with their headers, read back.

    Every method raises ``PublishError`` from the boto3 error when S3 fails.
    """

    def __init__(self, bucket: str, region: str) -> None:
        self.bucket = bucket
        self._s3 = client("s3", region)

    def put(self, obj: SiteObject) -> None:
        try:
            self._s3.put_object(
                Bucket=self.bucket,
                Key=obj.key,
                Body=obj.body,
                ContentType=obj.content_type,
                CacheControl=obj.cache_control,
            )
        except (ClientError, BotoCoreError) as exc:
            raise PublishError(f"cannot write s3://{self.bucket}/{obj.key}: {exc}") from exc

    def get(self, key: str) -> bytes | None:
        """Return the object's bytes, or ``None`` when there is no such object."""
        try:
            body: bytes = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise PublishError(f"cannot read s3://{self.bucket}/{key}: {exc}") from exc
        except BotoCoreError as exc:
            raise PublishError(f"cannot read s3://{self.bucket}/{key}: {exc}") from exc
        return body

    def folders(self, prefix: str) -> Iterator[str]:
        """Yield the names of the folders directly under ``prefix``."""
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix, Delimiter="/"
        )
        try:
            for page in pages:
                for entry in page.get("CommonPrefixes", []):
                    yield entry["Prefix"][len(prefix) :].rstrip("/")
        except (ClientError, BotoCoreError) as exc:
            raise PublishError(f"cannot list s3://{self.bucket}/{prefix}: {exc}") from exc


def load_archive(site: SiteBucket, prefix: str) -> list[ArchiveEntry]:
    """Return every published date's entry, newest first.

    ``archive.json`` gives the entries it knows; a dated folder it does not know is
    read from its ``digest.json`` (a folder without one is an unfinished publish and
    left out); an entry whose folder is gone is dropped.
    """
    known: dict[str, ArchiveEntry] = {}
    data = site.get(ARCHIVE_INDEX)
    if data is not None:
        try:
            known = {entry.date: entry for entry in parse_index(data)}
        except ValueError as exc:
            logger.warning("archive index unreadable", extra={"reason": str(exc)})

    entries = []
    for date in site.folders(prefix):
        if not DATE.fullmatch(date):
            continue
        entry = known.get(date) or _read_entry(site, prefix, date)
        if entry is not None:
            entries.append(entry)
    return newest_first(entries)


def _read_entry(site: SiteBucket, prefix: str, date: str) -> ArchiveEntry | None:
    """Return a date's entry from its ``digest.json``, or ``None`` when it has none."""
    data = site.get(f"{prefix}{date}/{DIGEST_JSON}")
    if data is None:
        logger.info("dated folder without digest", extra={"run_date": date})
        return None
    try:
        return ArchiveEntry.from_digest_document(json.loads(data.decode("utf-8")))
    except ValueError as exc:
        logger.warning("digest document unreadable", extra={"run_date": date, "reason": str(exc)})
        return None


def publish(
    store: Store,
    taxonomy: Taxonomy,
    bucket: str,
    region: str,
    date: str,
    prefix: str,
) -> list[SiteObject]:
    """Render the digest of ``date`` and the site's pointers, write them to the bucket.

    Returns what was written, in writing order: nothing when no paper of the run was
    summarized. Raises ``PublishError`` when there is
    no run for ``date`` or S3 fails; ``ValueError`` for a bad prefix or language.
    """
    gathered = gather(store, taxonomy, date)
    digest = gathered.digest
    if not digest.sections:
        # Every selected paper failed (an LLM endpoint down, say): a page of failures
        # would replace the latest digest. The run stays, for a redrive to finish.
        logger.error(
            "nothing summarized, digest not published",
            extra={"run_date": date, "failed": len(digest.failed)},
        )
        run = store.get_run(date)
        if run is not None:
            store.update_run(run, status="unpublished")
        return []
    site = SiteBucket(bucket, region)

    dated = render_dated(digest, prefix, gathered.scores)
    for obj in dated:
        site.put(obj)

    by_key = {obj.key: obj for obj in dated}
    folder = f"{prefix}{date}/"
    document = json.loads(by_key[folder + DIGEST_JSON].body.decode("utf-8"))
    current = ArchiveEntry.from_digest_document(document)
    entries = newest_first([*load_archive(site, prefix), current])
    newest = entries[0].date
    # NOTE: re-publishing an older date leaves "latest" on the newest date, read back.
    latest = by_key[folder + PAGE_MD].body if newest == date else None
    if latest is None:
        latest = site.get(f"{prefix}{newest}/{PAGE_MD}")
    if latest is None:
        raise PublishError(f"the newest digest ({newest}) has no {PAGE_MD}")

    pointers = render_pointers(entries, latest.decode("utf-8"), prefix)
    for obj in pointers:
        site.put(obj)

    run = store.get_run(date)
    if run is not None:
        store.update_run(run, status="published", digest_key=folder + PAGE_MD)
        store.mark_once(run, "published_at")
    logger.info(
        "digest published",
        extra={
            "run_date": date,
            "objects": len(dated) + len(pointers),
            "papers": digest.stats.get("done"),
            "archive": len(entries),
        },
    )
    return [*dated, *pointers]


DEADLINE_REASON = "the run's deadline passed before this was done"


def sweep(
    store: Store, taxonomy: Taxonomy, bucket: str, region: str, prefix: str, now: float
) -> list[str]:
    """Publish every run whose deadline has passed with what has settled; return their dates.

    Work that has not settled is marked failed (so a late result is not stored, and
    the digest lists the paper as failed); a run whose last work settles meanwhile is
    published by its own DigestReady event instead.
    """
    published = []
    for run in store.overdue_runs(now):
        settled = set(run.settled_ids or ())
        for item in store.papers(run.date):
            if item.arxiv_id not in settled:
                store.fail_paper(item, DEADLINE_REASON)
                store.settle_paper(run.date, item.arxiv_id, True, item.run_papers)
        done_categories = set(run.settled_categories or ())
        for category in store.categories(run.date):
            if category.category not in done_categories:
                store.fail_category(category, DEADLINE_REASON)
                store.settle_category(run.date, category.category)
        if not store.mark_once(run, "ready_at"):
            continue
        logger.warning("deadline passed, publishing what settled", extra={"run_date": run.date})
        publish(store, taxonomy, bucket, region, run.date, prefix)
        published.append(run.date)
    return published
