"""Ingest: from source documents to a recorded run and one message per paper."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from paperdigest import observe
from paperdigest.errors import QuietDay, SourceError
from paperdigest.messaging import WorkMessage, WorkQueue
from paperdigest.models import Paper, ParsedInput, SkippedEntry
from paperdigest.ranking import Ranked, rank, select
from paperdigest.sources import merge_papers, parse_document
from paperdigest.sources._common import NOT_TRIED
from paperdigest.sources.config import SourcesConfig
from paperdigest.storage import PaperItem, Store
from paperdigest.taxonomy import Taxonomy

if TYPE_CHECKING:
    from paperdigest.sources.fetch import Fetcher

logger = Logger(child=True)

# What one paper's metadata may take of its DynamoDB item (the limit is 400 KB).
MAX_PAPER_BYTES = 64 * 1024
CUT_MARK = " […]"


@dataclass(slots=True)
class Collected:
    """Parsed source documents and the documents that could not be read.

    ``announced`` maps each document that shows an announcement date to that date.
    """

    inputs: list[ParsedInput] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    announced: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, parsed: ParsedInput) -> None:
        for entry in parsed.skipped:
            entry.document = name
        self.inputs.append(parsed)
        if parsed.announced:
            self.announced[name] = parsed.announced


@dataclass(slots=True)
class IngestOutcome:
    """What an ingest run did: ``status`` is ``queued`` or ``quiet``."""

    date: str
    status: str
    selected: list[Ranked]
    candidates: int
    skipped: list[SkippedEntry]
    errors: list[str]
    replaced: int | None = None
    # Whether the replaced run had published its digest (else it was unfinished).
    replaced_digest: bool = False
    # The documents' announcement dates when they name more than one day.
    mixed_days: dict[str, str] = field(default_factory=dict)


def parse_documents(documents: list[tuple[str, bytes]]) -> Collected:
    """Parse each named document; a document that fails is reported, the rest go on."""
    collected = Collected()
    for name, data in documents:
        try:
            collected.add(name, parse_document(data, name))
        except SourceError as exc:
            logger.error("source document rejected", extra={"document": name, "reason": str(exc)})
            reason = str(exc)
            collected.errors.append(reason if name in reason else f"{name}: {reason}")
    return collected


def collect_live(config: SourcesConfig, fetcher: Fetcher, day: str) -> Collected:
    """Ask every enabled source of ``config``; a source that fails is reported, the rest go on."""
    jobs: list[tuple[str, Callable[[], ParsedInput]]] = []
    if config.hf_daily.enabled:
        jobs.append(("hf-daily", lambda: fetcher.hf_daily(day)))
    if config.arxiv_rss.enabled:
        for category in config.arxiv_rss.categories:
            jobs.append((f"arxiv-rss {category}", functools.partial(fetcher.arxiv_rss, category)))
    api = config.arxiv_api
    if api.enabled and api.ids:
        jobs.append(("arxiv-api ids", functools.partial(fetcher.arxiv_ids, api.ids)))
    if api.enabled:
        for query in api.queries:
            job = functools.partial(fetcher.arxiv_query, query, api.max_results)
            jobs.append((f"arxiv-api {query}", job))

    collected = Collected()
    for name, job in jobs:
        try:
            collected.add(name, job())
        except SourceError as exc:
            logger.error("source failed", extra={"source": name, "reason": str(exc)})
            collected.errors.append(f"{name}: {exc}")
    return collected


def digest_date(
    inputs: list[ParsedInput], override: str | None, today: Callable[[], dt.date]
) -> str:
    """The digest's date: the override, else the latest announcement date, else today."""
    if override:
        return dt.date.fromisoformat(override).isoformat()
    announced = [i.announced for i in inputs if i.announced]
    return max(announced) if announced else today().isoformat()


def ingest(
    collected: Collected,
    *,
    store: Store,
    queue: WorkQueue,
    taxonomy: Taxonomy,
    language: str,
    max_papers: int,
    config: SourcesConfig,
    deadline_s: int | None = None,
    date: str | None = None,
    today: Callable[[], dt.date] = lambda: dt.datetime.now(dt.UTC).date(),
) -> IngestOutcome:
    """Select the day's papers, record the run and send one message per paper.

    Raises ``SourceError`` when no source could be read or no entry of any could be
    used, and ``QuietDay`` when the sources were read but hold no new paper; in each
    case nothing is written.
    """
    if not collected.inputs:
        raise SourceError(_none_read(collected.errors))
    skipped = [s for i in collected.inputs for s in i.skipped]
    for entry in skipped:
        logger.warning("entry skipped", extra={"entry": entry.describe()})
    if skipped and not any(i.papers for i in collected.inputs):
        raise SourceError(_nothing_usable(skipped))

    run_date = digest_date(collected.inputs, date, today)
    mixed_days = {} if date or len(set(collected.announced.values())) < 2 else collected.announced
    if mixed_days:
        logger.warning(
            "inputs announce different days", extra={"run_date": run_date, "announced": mixed_days}
        )
    candidates = merge_papers(collected.inputs)
    candidates = [p for p in candidates if config.keeps(p.announce_type)]
    if not candidates:
        raise QuietDay(f"no new papers for {run_date}")

    ranking = rank(candidates, taxonomy, config.selection.keywords)
    chosen = select(ranking, max_papers, config.selection.per_category_cap)
    items = [_paper_item(position, item) for position, item in enumerate(chosen)]
    stats: dict[str, Any] = {
        "candidates": len(candidates),
        "selected": len(chosen),
        "skipped": [{"source": s.source, "entry": s.describe()} for s in skipped],
        "source_errors": collected.errors,
        "sources": sorted({k for i in collected.inputs for k in [i.kind]}),
        "taxonomy_version": taxonomy.version,
    }
    previous = store.get_run(run_date)
    if previous is not None:
        # NOTE: a date has one digest; a new run of it replaces the old one (its
        # summaries stay in the cache, so unchanged papers cost nothing again).
        logger.warning(
            "run replaced",
            extra={"run_date": run_date, "papers_before": len(previous.paper_ids)},
        )
        stats["replaced_papers"] = len(previous.paper_ids)
    store.create_run(run_date, language, items, stats, deadline_s)
    queue.send([WorkMessage("paper", run_date, item.paper.arxiv_id) for item in chosen])
    observe.count(observe.PAPERS_INGESTED, len(chosen))
    logger.info(
        "run queued",
        extra={"run_date": run_date, "candidates": len(candidates), "selected": len(chosen)},
    )
    return IngestOutcome(
        date=run_date,
        status="queued",
        selected=chosen,
        candidates=len(candidates),
        skipped=skipped,
        errors=collected.errors,
        replaced=stats.get("replaced_papers"),
        replaced_digest=bool(previous and previous.digest_key),
        mixed_days=mixed_days,
    )


def _none_read(errors: list[str]) -> str:
    # A source on a host that already failed was not tried: one line per host is enough.
    tried = [e for e in errors if NOT_TRIED not in e]
    skipped = len(errors) - len(tried)
    more = f"; {skipped} more on the same hosts not tried" if skipped else ""
    return "no source could be read: " + "; ".join(tried) + more


def _nothing_usable(skipped: list[SkippedEntry], shown: int = 5) -> str:
    lines = "; ".join(s.describe() for s in skipped[:shown])
    more = f"; and {len(skipped) - shown} more" if len(skipped) > shown else ""
    noun = "entry" if len(skipped) == 1 else "entries"
    return f"no entry of the inputs could be used ({len(skipped)} {noun} skipped: {lines}{more})"


def fit_item(paper: Paper, limit: int = MAX_PAPER_BYTES) -> Paper:
    """Return ``paper`` cut to at most ``limit`` UTF-8 bytes as JSON (abstract first).

    DynamoDB refuses items over 400 KB, and the paper shares its item with its summary;
    a real abstract is a few KB, so only a broken or hostile input is ever cut, visibly.
    """
    size = len(json.dumps(paper.to_dict(), ensure_ascii=False).encode("utf-8"))
    if size <= limit:
        return paper
    excess = size - limit + 256  # room for the mark and the note in signals
    encoded = paper.abstract.encode("utf-8")
    keep = max(0, len(encoded) - excess - len(CUT_MARK.encode("utf-8")))
    abstract = encoded[:keep].decode("utf-8", errors="ignore") + CUT_MARK
    logger.warning("abstract cut to fit", extra={"paper_id": paper.arxiv_id, "bytes": size})
    fitted = dataclasses.replace(paper, abstract=abstract, authors=paper.authors[:50])
    fitted.signals = {**paper.signals, "cut": {"bytes": size}}
    return fitted


def _paper_item(position: int, ranked: Ranked) -> PaperItem:
    paper = fit_item(ranked.paper)
    return PaperItem(
        "",
        f"PAPER#{paper.arxiv_id}",
        arxiv_id=paper.arxiv_id,
        rank=position,
        score=ranked.score,
        score_parts=ranked.parts,
        paper=paper.to_dict(),
    )


__all__ = ["Collected", "IngestOutcome", "QuietDay", "digest_date", "ingest", "parse_documents"]
