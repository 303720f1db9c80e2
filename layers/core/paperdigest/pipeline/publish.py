"""Publish: gather a settled run into a Digest, render it and write it to S3."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from paperdigest.aws import client
from paperdigest.errors import PublishError
from paperdigest.models import CategorySynthesis, Digest, Paper, PaperSummary, Section, Usage
from paperdigest.storage import DONE, FAILED, Store
from paperdigest.taxonomy import Taxonomy

logger = Logger(child=True)

MARKDOWN = "text/markdown; charset=utf-8"
PNG = "image/png"
JSON = "application/json; charset=utf-8"


@dataclass(frozen=True, slots=True)
class SiteObject:
    """One object of the published site."""

    key: str
    body: bytes
    content_type: str


def build_digest(store: Store, taxonomy: Taxonomy, date: str) -> Digest:
    """Read a run and its records into a Digest; raise ``PublishError`` when there is no run."""
    run = store.get_run(date)
    if run is None:
        raise PublishError(f"no run recorded for {date}")

    sections: dict[str, Section] = {}
    failed: list[Paper] = []
    usage = Usage()
    engines: set[str] = set()
    for item in store.papers(date):
        paper = Paper.from_dict(item.paper)
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

    for item in store.categories(date):
        if item.category in sections and item.status == DONE and item.synthesis:
            synthesis = CategorySynthesis.from_dict(item.synthesis)
            usage.add(synthesis.usage)
            sections[item.category].synthesis = synthesis

    ordered = [sections[c] for c in taxonomy.ids if c in sections]
    stats: dict[str, Any] = dict(run.stats or {})
    stats.update(done=sum(len(s.papers) for s in ordered), failed=len(failed))
    return Digest(
        date=date,
        language=run.language,
        sections=ordered,
        failed=failed,
        engine=_engine_label(engines),
        usage=usage,
        stats=stats,
    )


def _engine_label(engines: set[str]) -> str:
    llm = sorted(e for e in engines if e.startswith("llm:"))
    if llm:
        return llm[0]
    return "embedded"


def render_site(digest: Digest, prefix: str) -> list[SiteObject]:
    """Render a digest's objects: dated objects first, the pointers last."""
    from paperdigest.render.chart import render_chart
    from paperdigest.render.markdown import render_markdown

    counts = {s.category.name: len(s.papers) for s in digest.sections}
    folder = f"{prefix}{digest.date}/"
    chart = render_chart(counts, digest.date, language=digest.language)
    markdown = render_markdown(digest).encode("utf-8")
    return [
        SiteObject(folder + digest.chart_name, chart, PNG),
        SiteObject(folder + "index.md", markdown, MARKDOWN),
    ]


def publish(
    store: Store,
    taxonomy: Taxonomy,
    bucket: str,
    region: str,
    date: str,
    prefix: str,
    render: Callable[[Digest, str], list[SiteObject]] = render_site,
) -> list[SiteObject]:
    """Render the digest of ``date`` and write it to the bucket; return what was written."""
    digest = build_digest(store, taxonomy, date)
    objects = render(digest, prefix)
    s3 = client("s3", region)
    for obj in objects:
        s3.put_object(Bucket=bucket, Key=obj.key, Body=obj.body, ContentType=obj.content_type)
    run = store.get_run(date)
    if run is not None:
        store.update_run(run, status="published", digest_key=objects[-1].key)
        store.mark_once(run, "published_at")
    logger.info(
        "digest published",
        extra={"run_date": date, "objects": len(objects), "papers": digest.stats.get("done")},
    )
    return objects
