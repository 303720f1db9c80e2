"""Summarize: one work message at a time, idempotent by (date, paper or category).

A paper message classifies and summarizes one paper; when every paper of the run
has settled (done or failed), the one consumer that notices first sends one
message per category. A category message writes that category's synthesis from
its papers' records; when every category has settled, the one consumer that
notices first puts the DigestReady event.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from paperdigest import observe
from paperdigest.errors import DigestError, LLMFatalError
from paperdigest.messaging import DigestEvents, WorkMessage, WorkQueue
from paperdigest.models import CategorySynthesis, Paper, PaperSummary, Usage
from paperdigest.storage import DONE, FAILED, IN_PROGRESS, Paid, PaperItem, RunItem, Store
from paperdigest.taxonomy import Taxonomy

if TYPE_CHECKING:
    from paperdigest.summarize import Summarizer

logger = Logger(child=True)

RemainingMs = Callable[[], int]


class WorkInProgress(DigestError):
    """Another live attempt holds the lease; the message is retried later."""


class WorkFailed(DigestError):
    """The work failed for good; the message goes on to the dead-letter queue."""


@dataclass(slots=True)
class Delivery:
    """How often SQS has handed out this message, and the limit before the DLQ."""

    receive_count: int = 1
    max_receive_count: int = 5

    @property
    def last(self) -> bool:
        return self.receive_count >= self.max_receive_count


class SummarizeService:
    """Handles work messages; raises to leave a message on the queue for a retry."""

    def __init__(
        self,
        *,
        store: Store,
        queue: WorkQueue,
        events: DigestEvents,
        engine: Summarizer,
        taxonomy: Taxonomy,
        lease_seconds: int,
        language: str,
        max_run_tokens: int = 0,
    ) -> None:
        self._store = store
        self._queue = queue
        self._events = events
        self._engine = engine
        self._taxonomy = taxonomy
        self._lease = lease_seconds
        self._language = language
        self._max_run_tokens = max_run_tokens

    def prepare(self) -> None:
        """Make what the first message would make: an LLM engine's client (TLS included)."""
        client = getattr(self._engine, "client", None)
        if callable(client):
            client()

    def start_batch(self) -> None:
        """A new delivery of messages begins (one Lambda invocation)."""
        self._engine.start_batch()

    def handle(
        self, message: WorkMessage, delivery: Delivery, remaining_ms: RemainingMs | None
    ) -> None:
        """Do the work a message names, once; raise when it must be retried or dead-lettered."""
        if message.kind == "paper":
            self._paper(message.date, message.key, delivery, remaining_ms)
        else:
            self._category(message.date, message.key, delivery, remaining_ms)

    # --- papers ----------------------------------------------------------------
    def _paper(
        self, date: str, arxiv_id: str, delivery: Delivery, remaining_ms: RemainingMs | None
    ) -> None:
        claim = self._store.claim_paper(date, arxiv_id, self._lease)
        if claim is None:
            # NOTE: a message of a run that was replaced by a newer ingest of the
            # same date; the new run sent its own messages, so this one is spent.
            logger.warning(
                "stale paper message dropped", extra={"run_date": date, "paper_id": arxiv_id}
            )
            return
        item = claim.item
        if not claim.acquired:
            self._not_claimed(date, arxiv_id, claim.status, kind="paper")
            self._settled_paper(date, item, failed=False)
            return

        paper = Paper.from_dict(item.paper)
        work, writer = f"PAPER#{arxiv_id}", self._writer()
        paid = None
        try:
            cached = self._store.cached(work, writer)
            if cached is not None:
                summary = PaperSummary.from_dict(cached)
                logger.info("cached summary reused", extra={"run_date": date, "paper_id": arxiv_id})
            else:
                engine = self._within_budget(date, paper.title + paper.abstract)
                summary = engine.summarize_paper(paper, self._taxonomy, remaining_ms)
                paid = self._paid(date, work, writer, summary.to_dict(), summary.usage)
        except LLMFatalError as exc:
            self._paper_failed(item, date, arxiv_id, f"{type(exc).__name__}: {exc}")
            raise WorkFailed(str(exc)) from exc
        except DigestError as exc:
            if delivery.last:
                self._paper_failed(item, date, arxiv_id, f"{type(exc).__name__}: {exc}")
                raise WorkFailed(str(exc)) from exc
            self._store.release(item, claim.owner)
            logger.warning(
                "paper attempt failed",
                extra={"run_date": date, "paper_id": arxiv_id, "attempt": delivery.receive_count},
            )
            raise

        if not self._store.finish_paper(
            item, claim.owner, summary.category, summary.to_dict(), paid
        ):
            self._lost_lease(item, date, arxiv_id)
        else:
            observe.count(observe.PAPERS_SUMMARIZED)
            logger.info(
                "paper summarized",
                extra={"run_date": date, "paper_id": arxiv_id, "category": summary.category},
            )
        self._settled_paper(date, item, failed=False)

    def _paper_failed(self, item: PaperItem, date: str, arxiv_id: str, reason: str) -> None:
        logger.error(
            "paper failed", extra={"run_date": date, "paper_id": arxiv_id, "reason": reason}
        )
        self._store.fail_paper(item, reason)
        observe.count(observe.PAPERS_FAILED)
        self._settled_paper(date, item, failed=True)

    def _settled_paper(self, date: str, item: PaperItem, failed: bool) -> None:
        if not self._store.settle_paper(date, item.arxiv_id, failed, item.run_papers).complete:
            return
        run = self._store.run_key(date)
        if self._store.mark_once(run, "fanout_at"):
            self._fan_out(run)

    def _fan_out(self, run: RunItem) -> None:
        groups: dict[str, list[str]] = defaultdict(list)
        for item in self._store.papers(run.date):
            if item.status == DONE and item.category:
                groups[item.category].append(item.arxiv_id)
        logger.info("papers settled", extra={"run_date": run.date, "categories": sorted(groups)})
        self._store.update_run(run, categories=sorted(groups), status="synthesizing")
        if not groups:
            self._ready(run)
            return
        self._store.create_categories(run.date, dict(groups))
        self._queue.send([WorkMessage("category", run.date, c) for c in sorted(groups)])

    # --- categories ------------------------------------------------------------
    def _category(
        self, date: str, category_id: str, delivery: Delivery, remaining_ms: RemainingMs | None
    ) -> None:
        claim = self._store.claim_category(date, category_id, self._lease)
        if claim is None:
            logger.warning(
                "stale category message dropped", extra={"run_date": date, "category": category_id}
            )
            return
        item = claim.item
        if not claim.acquired:
            self._not_claimed(date, category_id, claim.status, kind="category")
            self._settled_category(date, category_id)
            return

        paper_items = self._store.get_papers(date, list(item.paper_ids))
        papers = [Paper.from_dict(p.paper) for p in paper_items]
        records = [PaperSummary.from_dict(p.summary or {}) for p in paper_items]
        category = self._taxonomy.get(category_id)
        work = f"CAT#{category_id}#" + _digest_of(records)
        writer = self._writer()
        paid = None
        try:
            cached = self._store.cached(work, writer)
            if cached is not None:
                synthesis = CategorySynthesis.from_dict(cached)
            else:
                text = " ".join(r.takeaway + r.result for r in records)
                synthesis = self._within_budget(date, text).synthesize_category(
                    category, papers, records, remaining_ms
                )
                paid = self._paid(date, work, writer, synthesis.to_dict(), synthesis.usage)
        except DigestError as exc:
            if delivery.last or isinstance(exc, LLMFatalError):
                reason = f"{type(exc).__name__}: {exc}"
                logger.error(
                    "category failed",
                    extra={"run_date": date, "category": category_id, "reason": reason},
                )
                self._store.fail_category(item, reason)
                self._settled_category(date, category_id)
                raise WorkFailed(str(exc)) from exc
            self._store.release(item, claim.owner)
            raise

        if not self._store.finish_category(item, claim.owner, synthesis.to_dict(), paid):
            self._lost_lease(item, date, category_id)
        else:
            observe.count(observe.CATEGORIES_SYNTHESIZED)
            logger.info("category synthesized", extra={"run_date": date, "category": category_id})
        self._settled_category(date, category_id)

    def _settled_category(self, date: str, category_id: str) -> None:
        if self._store.settle_category(date, category_id).complete:
            self._ready(self._store.run_key(date))

    def _ready(self, run: RunItem) -> None:
        if not self._store.mark_once(run, "ready_at"):
            return
        self._store.update_run(run, status="ready")
        self._events.digest_ready(run.date)
        logger.info("digest ready", extra={"run_date": run.date})

    # --- shared ----------------------------------------------------------------
    def _lost_lease(self, item: Any, date: str, key: str) -> None:
        """After a write that lost its lease: fine if another attempt finished the work,
        a failure if the deadline sweep gave up on it meanwhile."""
        item.refresh(consistent_read=True)
        if item.status == FAILED:
            raise WorkFailed(f"{key} of {date} was given up at the deadline")
        logger.info("result already stored", extra={"run_date": date, "key": key})

    def _within_budget(self, date: str, text: str) -> Summarizer:
        """The engine, or the embedded summarizer once the run's token budget is spent.

        The check comes before the call: an estimate of the call's tokens is reserved
        from the run's ``max_run_tokens`` (0: no budget), and a call that does not fit
        is not made.
        """
        if not self._max_run_tokens or self._engine.engine == "embedded":
            return self._engine
        from paperdigest.summarize import make_summarizer
        from paperdigest.summarize.text import estimate_tokens

        needed = estimate_tokens(text) + CALL_OVERHEAD_TOKENS
        if self._store.reserve_tokens(date, needed, self._max_run_tokens):
            return self._engine
        logger.warning(
            "token budget reached", extra={"run_date": date, "budget": self._max_run_tokens}
        )
        return _BudgetFallback(make_summarizer(None, self._language))

    def _paid(self, date: str, work: str, writer: str, value: dict[str, Any], usage: Usage) -> Paid:
        """A fresh result: its calls and tokens go to the metrics now, and to the run
        record and the cache with the write that stores the result."""
        observe.llm_usage(usage)
        return Paid(date, work, writer, value, usage)

    def _writer(self) -> str:
        """The cache key part that names what writes: engine, prompts, taxonomy, language."""
        from paperdigest.summarize.prompts import PROMPT_VERSION

        return "|".join(
            (self._engine.engine, PROMPT_VERSION, self._taxonomy.version, self._language)
        )

    def _not_claimed(self, date: str, key: str, status: str, kind: str) -> None:
        """Raise unless the work is done already (a duplicate delivery, to settle again)."""
        if status == IN_PROGRESS:
            raise WorkInProgress(f"{kind} {key} of {date} is being worked on")
        if status == FAILED:
            raise WorkFailed(f"{kind} {key} of {date} has failed")
        logger.info(
            "duplicate delivery skipped", extra={"run_date": date, "key": key, "kind": kind}
        )


# Prompt and answer around a paper's own text, for the budget's estimate.
CALL_OVERHEAD_TOKENS = 1500


# The fallback reason of a record written because the run's token budget was spent.
BUDGET = "budget"


class _BudgetFallback:
    """The embedded summarizer standing in for the LLM, its records marked as fallbacks."""

    def __init__(self, embedded: Summarizer) -> None:
        self._embedded = embedded
        self.engine = embedded.engine

    def summarize_paper(self, *args: Any, **kwargs: Any) -> PaperSummary:
        summary = self._embedded.summarize_paper(*args, **kwargs)
        summary.fallback, summary.fallback_reason = True, BUDGET
        return summary

    def synthesize_category(self, *args: Any, **kwargs: Any) -> CategorySynthesis:
        synthesis = self._embedded.synthesize_category(*args, **kwargs)
        synthesis.fallback, synthesis.fallback_reason = True, BUDGET
        return synthesis


def _digest_of(records: list[PaperSummary]) -> str:
    """A short hash of the records a synthesis is written from (its cache key)."""
    text = json.dumps([r.to_dict() for r in records], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]
