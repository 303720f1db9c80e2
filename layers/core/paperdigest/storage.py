"""DynamoDB records of a digest run, through pynamodb.

One table holds every run. Items of a run share the partition ``RUN#<date>``:

- ``RUN``          the run record: what was selected, what has settled, counts.
- ``PAPER#<id>``   one selected paper: metadata, score, status, lease, summary.
- ``CAT#<id>``     one category of the day: its papers, status, lease, synthesis.

A paper or category is claimed with a conditional write that takes a lease; a
lease left by an attempt that died expires, so nothing is blocked for good. The
run record counts settled work with string sets (``ADD`` is idempotent), so a
redelivered message can never count twice.

Writes ask DynamoDB to return only what the caller reads: the run record grows with
the run, and returning it whole from every paper's writes would make a run's cost
grow with the square of its papers.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.constants import NONE, UPDATED_NEW
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from paperdigest.errors import StorageError
from paperdigest.models import Usage

PENDING = "pending"
IN_PROGRESS = "in_progress"
DONE = "done"
FAILED = "failed"


def _run_pk(date: str) -> str:
    return f"RUN#{date}"


class _Item(Model):
    """Base of every item: the composite key, a TTL and the last update time."""

    class Meta:
        table_name = "unbound"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    updated_at = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


class RunItem(_Item):
    """The run record of one digest date."""

    SK: ClassVar[str] = "RUN"

    date = UnicodeAttribute()
    status = UnicodeAttribute(default="ingested")
    language = UnicodeAttribute(default="ko")
    engine = UnicodeAttribute(default="")
    paper_ids = ListAttribute(of=UnicodeAttribute, default=list)
    settled_ids = UnicodeSetAttribute(default=set)
    failed_ids = UnicodeSetAttribute(default=set)
    categories = ListAttribute(of=UnicodeAttribute, default=list)
    settled_categories = UnicodeSetAttribute(default=set)
    stats = JSONAttribute(default=dict)
    llm_calls = NumberAttribute(default=0)
    prompt_tokens = NumberAttribute(default=0)
    completion_tokens = NumberAttribute(default=0)
    cost_usd = NumberAttribute(default=0)
    reserved_tokens = NumberAttribute(default=0)
    deadline_at = NumberAttribute(null=True)
    fanout_at = NumberAttribute(null=True)
    ready_at = NumberAttribute(null=True)
    published_at = NumberAttribute(null=True)
    digest_key = UnicodeAttribute(null=True)


class PaperItem(_Item):
    """One selected paper of a run."""

    arxiv_id = UnicodeAttribute()
    rank = NumberAttribute()
    score = NumberAttribute(default=0)
    score_parts = JSONAttribute(default=dict)
    paper = JSONAttribute()
    status = UnicodeAttribute(default=PENDING)
    lease_owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(default=0)
    attempts = NumberAttribute(default=0)
    run_papers = NumberAttribute(null=True)
    category = UnicodeAttribute(null=True)
    summary = JSONAttribute(null=True)
    error = UnicodeAttribute(null=True)


class CategoryItem(_Item):
    """One category of a run's digest."""

    category = UnicodeAttribute()
    paper_ids = ListAttribute(of=UnicodeAttribute, default=list)
    status = UnicodeAttribute(default=PENDING)
    lease_owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(default=0)
    attempts = NumberAttribute(default=0)
    synthesis = JSONAttribute(null=True)
    error = UnicodeAttribute(null=True)


class CacheItem(_Item):
    """A stored result, reusable by any run: ``pk`` names the work, ``sk`` the writer."""

    value = JSONAttribute()


CACHE_TTL_S = 180 * 24 * 3600

_MODELS: tuple[type[_Item], ...] = (RunItem, PaperItem, CategoryItem, CacheItem)


def bind_table(table_name: str, region: str) -> None:
    """Point every model at ``table_name``, through one connection.

    The connection (a botocore session and client) is kept while the table, the
    region and the endpoint stay the same, so that warm invocations reuse it.
    """
    binding = (
        table_name,
        region,
        os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL"),
    )
    global _binding
    if binding == _binding and _Item._connection is not None:
        return
    for model in (_Item, *_MODELS):
        model.Meta.table_name = table_name
        model.Meta.region = region
        model._connection = None
    # The models share one table and key schema, so one connection serves them all.
    shared = _Item._get_connection()
    for model in _MODELS:
        model._connection = shared
    _binding = binding


_binding: tuple[str, str, str | None] | None = None


def _write(
    item: _Item, actions: list[Action], condition: Condition | None = None, returns: str = NONE
) -> dict[str, Any]:
    """UpdateItem on ``item``'s key; return the attributes ``returns`` asks for (raw).

    pynamodb's ``Model.update`` always asks for the whole item back; these writes
    leave the local object as it was unless the caller updates it.
    """
    # NOTE: _get_connection is the model's table connection; pynamodb has no public name for it.
    data = (
        type(item)
        ._get_connection()
        .update_item(
            item.pk, range_key=item.sk, actions=actions, condition=condition, return_values=returns
        )
    )
    attributes: dict[str, Any] = data.get("Attributes", {})
    return attributes


@dataclass(slots=True)
class Settled:
    """How much of a run has settled, as a write that settled one more thing left it."""

    settled: int
    total: int

    @property
    def complete(self) -> bool:
        return self.settled >= self.total


@dataclass(slots=True)
class Paid:
    """A result just bought from a model: cached and counted by the write that stores it."""

    date: str
    work: str
    writer: str
    value: dict[str, Any]
    usage: Usage


@dataclass(slots=True)
class Claim:
    """The outcome of claiming a paper or category.

    ``acquired`` is true when this attempt holds the lease and must do the work;
    otherwise ``status`` says why not (``done``, ``failed`` or ``in_progress``).
    """

    acquired: bool
    status: str
    owner: str = ""
    # The item as the claim left it (with the lease when acquired).
    item: Any = None


class Store:
    """Reads and writes the items of digest runs.

    Every method raises ``StorageError`` when DynamoDB refuses a write for a
    reason other than a lost race, which is reported in the return value.
    """

    def __init__(self, clock: Any = time.time) -> None:
        self._clock = clock

    @staticmethod
    def connect() -> None:
        """Make the table connection's client now rather than on the first request."""
        # NOTE: _get_connection is the model's table connection; see _write.
        _ = _Item._get_connection().connection.client

    # --- runs ------------------------------------------------------------------
    def create_run(
        self,
        date: str,
        language: str,
        papers: list[PaperItem],
        stats: dict[str, Any],
        deadline_s: int | None = None,
    ) -> RunItem:
        """Write a fresh run record and its paper items, replacing an older run of the date.

        ``deadline_s`` from now on, a sweep publishes whatever has settled.
        """
        self.delete_run(date)
        now = int(self._clock())
        run = RunItem(
            _run_pk(date),
            RunItem.SK,
            date=date,
            language=language,
            paper_ids=[p.arxiv_id for p in papers],
            stats=stats,
            updated_at=now,
            deadline_at=now + deadline_s if deadline_s else None,
        )
        with PaperItem.batch_write() as batch:
            for item in papers:
                item.pk = _run_pk(date)
                item.run_papers = len(papers)
                item.updated_at = now
                batch.save(item)
        run.save()
        return run

    def get_run(self, date: str) -> RunItem | None:
        """Return the run record of ``date``, or None when there is none."""
        try:
            return RunItem.get(_run_pk(date), RunItem.SK, consistent_read=True)
        except RunItem.DoesNotExist:
            return None

    def latest_run(self) -> RunItem | None:
        """Return the run record with the latest date, or None."""
        runs = [item for item in RunItem.scan(RunItem.sk == RunItem.SK)]
        return max(runs, key=lambda r: r.date) if runs else None

    def overdue_runs(self, now: float) -> list[RunItem]:
        """Runs past their deadline that are not ready for publishing yet."""
        return [
            run
            for run in RunItem.scan(RunItem.sk == RunItem.SK)
            if run.ready_at is None and run.deadline_at is not None and run.deadline_at <= now
        ]

    def unpublished_runs(self) -> list[RunItem]:
        """Runs that have published no digest yet, oldest first."""
        runs = RunItem.scan(RunItem.sk == RunItem.SK)
        return sorted((run for run in runs if not run.digest_key), key=lambda r: r.date)

    def delete_run(self, date: str) -> int:
        """Delete every item of the run of ``date``; return how many were deleted."""
        items = list(_Item.query(_run_pk(date)))
        with _Item.batch_write() as batch:
            for item in items:
                batch.delete(item)
        return len(items)

    def update_run(self, run: RunItem, **values: Any) -> None:
        """Set plain attributes of a run record (and of ``run``)."""
        now = int(self._clock())
        actions = [getattr(RunItem, name).set(value) for name, value in values.items()]
        _write(run, [*actions, RunItem.updated_at.set(now)])
        for name, value in {**values, "updated_at": now}.items():
            setattr(run, name, value)

    def settle_paper(
        self, date: str, arxiv_id: str, failed: bool, run_papers: int | None = None
    ) -> Settled:
        """Count a paper as settled (idempotent); return how many of the run's papers are.

        ``run_papers`` is the run's number of papers as its paper items carry it;
        without it, the run record is read.
        """
        actions = [RunItem.settled_ids.add({arxiv_id})]
        if failed:
            actions.append(RunItem.failed_ids.add({arxiv_id}))
        else:
            actions.append(RunItem.failed_ids.delete({arxiv_id}))
        try:
            new = _write(self.run_key(date), actions, RunItem.pk.exists(), returns=UPDATED_NEW)
        except UpdateError as exc:
            raise StorageError(f"cannot settle paper {arxiv_id} of the run of {date}") from exc
        settled = new.get("settled_ids", {}).get("SS")
        if settled is None or run_papers is None:
            # NOTE: a write that changed nothing may return nothing (moto does so).
            run = self._require_run(date)
            return Settled(len(run.settled_ids or ()), len(run.paper_ids))
        return Settled(len(settled), run_papers)

    def add_usage(self, date: str, usage: Usage) -> None:
        """Add what a model call (or several) consumed to the run's totals."""
        if not usage.calls:
            return
        _write(self.run_key(date), _usage_actions(usage), RunItem.pk.exists())

    def reserve_tokens(self, date: str, tokens: int, budget: int) -> bool:
        """Reserve ``tokens`` of the run's budget; return False when they do not fit.

        The check and the reservation are one conditional write, so concurrent
        consumers can never reserve more than the budget together.
        """
        try:
            _write(
                RunItem(_run_pk(date), RunItem.SK),
                [RunItem.reserved_tokens.add(tokens)],
                RunItem.pk.exists()
                & (
                    RunItem.reserved_tokens.does_not_exist()
                    | (RunItem.reserved_tokens <= budget - tokens)
                ),
            )
        except UpdateError as exc:
            if _is_condition_failure(exc):
                return False
            raise StorageError("cannot reserve tokens") from exc
        return True

    def settle_category(self, date: str, category: str) -> Settled:
        """Count a category as settled (idempotent); return how many of the run's are."""
        run = self.run_key(date)
        run.update(
            actions=[RunItem.settled_categories.add({category})], condition=RunItem.pk.exists()
        )
        return Settled(len(run.settled_categories or ()), len(run.categories))

    def mark_once(self, run: RunItem, attribute: str) -> bool:
        """Set a timestamp attribute if it is unset; return True for the one caller that set it."""
        field = getattr(RunItem, attribute)
        now = int(self._clock())
        try:
            _write(run, [field.set(now)], field.does_not_exist())
        except UpdateError as exc:
            if _is_condition_failure(exc):
                return False
            raise StorageError(f"cannot mark run {attribute}") from exc
        setattr(run, attribute, now)
        return True

    def settled_count(self, date: str) -> int:
        """How many papers of the run of ``date`` have settled (0 without a run)."""
        try:
            run = RunItem.get(
                _run_pk(date), RunItem.SK, consistent_read=True, attributes_to_get=["settled_ids"]
            )
        except RunItem.DoesNotExist:
            return 0
        return len(run.settled_ids or ())

    def run_key(self, date: str) -> RunItem:
        """A run record with its key and date only, for writes that need no read first."""
        return RunItem(_run_pk(date), RunItem.SK, date=date)

    def _require_run(self, date: str) -> RunItem:
        run = self.get_run(date)
        if run is None:
            raise StorageError(f"no run of {date}")
        return run

    # --- papers ----------------------------------------------------------------
    def papers(self, date: str) -> list[PaperItem]:
        """Return the paper items of a run in rank order."""
        items = PaperItem.query(
            _run_pk(date), PaperItem.sk.startswith("PAPER#"), consistent_read=True
        )
        return sorted(items, key=lambda p: p.rank)

    def get_paper(self, date: str, arxiv_id: str) -> PaperItem:
        """Return one paper item; raise ``StorageError`` when it does not exist."""
        try:
            return PaperItem.get(_run_pk(date), f"PAPER#{arxiv_id}", consistent_read=True)
        except PaperItem.DoesNotExist as exc:
            raise StorageError(f"paper {arxiv_id} is not part of the run of {date}") from exc

    def claim_paper(self, date: str, arxiv_id: str, lease_seconds: int) -> Claim | None:
        """Take the lease on a paper unless it is settled or leased by a live attempt.

        The claim carries the paper item; None means the run has no such paper.
        """
        return self._claim(PaperItem(_run_pk(date), f"PAPER#{arxiv_id}"), PaperItem, lease_seconds)

    def get_papers(self, date: str, arxiv_ids: list[str]) -> list[PaperItem]:
        """Return the paper items of ``arxiv_ids`` in that order (batched reads)."""
        keys = [(_run_pk(date), f"PAPER#{arxiv_id}") for arxiv_id in arxiv_ids]
        found = {item.arxiv_id: item for item in PaperItem.batch_get(keys, consistent_read=True)}
        missing = [arxiv_id for arxiv_id in arxiv_ids if arxiv_id not in found]
        if missing:
            raise StorageError(f"papers {', '.join(missing)} are not part of the run of {date}")
        return [found[arxiv_id] for arxiv_id in arxiv_ids]

    def finish_paper(
        self,
        item: PaperItem,
        owner: str,
        category: str,
        summary: dict[str, Any],
        paid: Paid | None = None,
    ) -> bool:
        """Store a paper's summary if ``owner`` still holds its lease; return whether it did.

        A ``paid`` result is cached and its usage counted in the same write; when the
        lease was lost, they are written all the same.
        """
        stored = self._finish(
            item,
            PaperItem,
            owner,
            [
                PaperItem.category.set(category),
                PaperItem.summary.set(summary),
                PaperItem.error.remove(),
            ],
            paid,
        )
        if stored:
            item.category, item.summary, item.error = category, summary, None
        return stored

    def fail_paper(self, item: PaperItem, reason: str) -> None:
        """Mark a paper failed with the reason; failed papers are settled."""
        item.update(
            actions=[
                PaperItem.status.set(FAILED),
                PaperItem.error.set(reason[:1000]),
                PaperItem.lease_owner.remove(),
                PaperItem.updated_at.set(int(self._clock())),
            ]
        )

    def reset_paper(self, item: PaperItem) -> None:
        """Return a failed paper to pending so that it is tried again."""
        item.update(actions=[PaperItem.status.set(PENDING), PaperItem.attempts.set(0)])

    def reopen_papers(self, date: str, arxiv_ids: set[str]) -> None:
        """Make failed papers pending again and undo the fan-in, so the run goes on anew."""
        for arxiv_id in sorted(arxiv_ids):
            item = self.get_paper(date, arxiv_id)
            item.update(
                actions=[
                    PaperItem.status.set(PENDING),
                    PaperItem.attempts.set(0),
                    PaperItem.error.remove(),
                    PaperItem.lease_owner.remove(),
                ]
            )
        for item in self.categories(date):
            item.delete()
        RunItem(_run_pk(date), RunItem.SK).update(
            actions=[
                RunItem.settled_ids.delete(arxiv_ids),
                RunItem.failed_ids.delete(arxiv_ids),
                RunItem.categories.set([]),
                RunItem.settled_categories.remove(),
                RunItem.fanout_at.remove(),
                RunItem.ready_at.remove(),
                RunItem.status.set("summarizing"),
            ],
            condition=RunItem.pk.exists(),
        )

    def reopen_category(self, date: str, category: str) -> None:
        """Make a failed category pending again, so that its synthesis is retried."""
        item = self.get_category(date, category)
        item.update(
            actions=[
                CategoryItem.status.set(PENDING),
                CategoryItem.attempts.set(0),
                CategoryItem.error.remove(),
                CategoryItem.lease_owner.remove(),
            ]
        )
        RunItem(_run_pk(date), RunItem.SK).update(
            actions=[RunItem.settled_categories.delete({category}), RunItem.ready_at.remove()],
            condition=RunItem.pk.exists(),
        )

    # --- categories ------------------------------------------------------------
    def create_categories(self, date: str, groups: dict[str, list[str]]) -> None:
        """Write one pending category item per category with its paper ids."""
        now = int(self._clock())
        with CategoryItem.batch_write() as batch:
            for category, ids in groups.items():
                batch.save(
                    CategoryItem(
                        _run_pk(date),
                        f"CAT#{category}",
                        category=category,
                        paper_ids=ids,
                        updated_at=now,
                    )
                )

    def categories(self, date: str) -> list[CategoryItem]:
        """Return the category items of a run."""
        return list(
            CategoryItem.query(
                _run_pk(date), CategoryItem.sk.startswith("CAT#"), consistent_read=True
            )
        )

    def get_category(self, date: str, category: str) -> CategoryItem:
        """Return one category item; raise ``StorageError`` when it does not exist."""
        try:
            return CategoryItem.get(_run_pk(date), f"CAT#{category}", consistent_read=True)
        except CategoryItem.DoesNotExist as exc:
            raise StorageError(f"category {category} is not part of the run of {date}") from exc

    def claim_category(self, date: str, category: str, lease_seconds: int) -> Claim | None:
        """Take the lease on a category unless it is settled or leased by a live attempt.

        The claim carries the category item; None means the run has no such category.
        """
        item = CategoryItem(_run_pk(date), f"CAT#{category}")
        return self._claim(item, CategoryItem, lease_seconds)

    def finish_category(
        self,
        item: CategoryItem,
        owner: str,
        synthesis: dict[str, Any],
        paid: Paid | None = None,
    ) -> bool:
        """Store a category's synthesis if ``owner`` still holds its lease (see finish_paper)."""
        stored = self._finish(
            item,
            CategoryItem,
            owner,
            [CategoryItem.synthesis.set(synthesis), CategoryItem.error.remove()],
            paid,
        )
        if stored:
            item.synthesis, item.error = synthesis, None
        return stored

    def fail_category(self, item: CategoryItem, reason: str) -> None:
        """Mark a category failed with the reason."""
        item.update(
            actions=[
                CategoryItem.status.set(FAILED),
                CategoryItem.error.set(reason[:1000]),
                CategoryItem.lease_owner.remove(),
            ]
        )

    # --- results cache -----------------------------------------------------------
    def cached(self, work: str, writer: str) -> dict[str, Any] | None:
        """Return the stored result of ``work`` by ``writer``, or None."""
        try:
            item = CacheItem.get(f"CACHE#{work}", writer, consistent_read=True)
        except CacheItem.DoesNotExist:
            return None
        value: dict[str, Any] = item.value
        return value

    def cache(self, work: str, writer: str, value: dict[str, Any]) -> None:
        """Store the result of ``work`` by ``writer`` for later runs."""
        self._cache_item(work, writer, value).save()

    def _cache_item(self, work: str, writer: str, value: dict[str, Any]) -> CacheItem:
        now = int(self._clock())
        return CacheItem(
            f"CACHE#{work}", writer, value=value, updated_at=now, expires_at=now + CACHE_TTL_S
        )

    # --- shared ----------------------------------------------------------------
    def _claim(self, item: Any, model: Any, lease_seconds: int) -> Claim | None:
        """Take the lease on ``item`` (its key) and read it in the same write.

        Return None when the item does not exist.
        """
        now = int(self._clock())
        owner = uuid.uuid4().hex
        free = (model.status == PENDING) | (
            (model.status == IN_PROGRESS) & (model.lease_until < now)
        )
        try:
            # The whole item comes back: the caller needs it, so no read goes first.
            item.update(
                actions=[
                    model.status.set(IN_PROGRESS),
                    model.lease_owner.set(owner),
                    model.lease_until.set(now + lease_seconds),
                    model.attempts.add(1),
                    model.updated_at.set(now),
                ],
                condition=free,
            )
        except UpdateError as exc:
            if not _is_condition_failure(exc):
                raise StorageError("cannot claim item") from exc
            try:
                item.refresh(consistent_read=True)
            except model.DoesNotExist:
                return None
            return Claim(acquired=False, status=item.status, item=item)
        return Claim(acquired=True, status=IN_PROGRESS, owner=owner, item=item)

    def release(self, item: PaperItem | CategoryItem, owner: str) -> None:
        """Give back a lease after a failed attempt, so that the retry can claim at once."""
        model = type(item)
        try:
            _write(
                item,
                [model.status.set(PENDING), model.lease_owner.remove()],
                (model.lease_owner == owner) & (model.status == IN_PROGRESS),
            )
        except UpdateError as exc:
            if not _is_condition_failure(exc):
                raise StorageError("cannot release lease") from exc
            return
        item.status, item.lease_owner = PENDING, None

    def release_all(self, date: str) -> int:
        """Give back every lease of the run of ``date``; return how many were held.

        Only for a stack that one process owns (the local one, after an interrupted
        command): a lease there can only belong to work that is no longer running.
        """
        held = [
            item
            for item in [*self.papers(date), *self.categories(date)]
            if item.status == IN_PROGRESS and item.lease_owner
        ]
        for item in held:
            self.release(item, item.lease_owner)
        return len(held)

    def _finish(
        self, item: Any, model: Any, owner: str, actions: list[Any], paid: Paid | None = None
    ) -> bool:
        now = int(self._clock())
        actions = [
            *actions,
            model.status.set(DONE),
            model.lease_owner.remove(),
            model.updated_at.set(now),
        ]
        held = (model.lease_owner == owner) & (model.status == IN_PROGRESS)
        try:
            if paid is None:
                _write(item, actions, held)
            else:
                # One request: the result, its cache entry and its cost, or none of them.
                with TransactWrite(connection=_Item._get_connection().connection) as write:
                    write.update(item, actions, condition=held)
                    write.save(self._cache_item(paid.work, paid.writer, paid.value))
                    if paid.usage.calls:
                        write.update(
                            self.run_key(paid.date),
                            _usage_actions(paid.usage),
                            condition=RunItem.pk.exists(),
                        )
        except UpdateError as exc:
            if _is_condition_failure(exc):
                return False
            raise StorageError("cannot store result") from exc
        except TransactWriteError as exc:
            if paid is None or not any(
                reason is not None and reason.code == "ConditionalCheckFailed"
                for reason in exc.cancellation_reasons
            ):
                raise StorageError("cannot store result") from exc
            # The lease was lost (another attempt finished, or the deadline gave up on
            # it): what was paid for is kept all the same.
            self.cache(paid.work, paid.writer, paid.value)
            self.add_usage(paid.date, paid.usage)
            return False
        item.status, item.lease_owner, item.updated_at = DONE, None, now
        return True


def _usage_actions(usage: Usage) -> list[Action]:
    return [
        RunItem.llm_calls.add(usage.calls),
        RunItem.prompt_tokens.add(usage.prompt_tokens),
        RunItem.completion_tokens.add(usage.completion_tokens),
        RunItem.cost_usd.add(round(usage.cost_usd, 6)),
    ]


def _is_condition_failure(exc: UpdateError | PutError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"
