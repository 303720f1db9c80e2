"""Leases and crashes: the summarize service on moto, with a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from paperdigest.errors import StorageError
from paperdigest.messaging import DigestEvents, WorkMessage, WorkQueue
from paperdigest.models import Paper, Usage
from paperdigest.pipeline.summarize import Delivery, SummarizeService, WorkInProgress
from paperdigest.ranking import rank
from paperdigest.sources import parse_document
from paperdigest.storage import (
    DONE,
    CacheItem,
    CategoryItem,
    Paid,
    PaperItem,
    RunItem,
    Store,
    bind_table,
)
from paperdigest.summarize import EmbeddedSummarizer
from paperdigest.taxonomy import load_taxonomy

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DATE = "2024-09-24"
LEASE = 300


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class CountingEngine(EmbeddedSummarizer):
    """The embedded summarizer, counting its calls (it stands for a paid model)."""

    def __init__(self) -> None:
        super().__init__("ko")
        self.calls = 0

    def summarize_paper(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        self.calls += 1
        return super().summarize_paper(*args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        from paperdigest.aws import reset_clients

        reset_clients()
        yield
        reset_clients()


@pytest.fixture
def papers() -> list[Paper]:
    return parse_document((FIXTURES / "hf-2024-09-24.json").read_bytes()).papers[:3]


@pytest.fixture
def service(
    aws: None, papers: list[Paper]
) -> tuple[SummarizeService, Store, Clock, CountingEngine]:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName="digest",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    url = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="q")["QueueUrl"]
    bind_table("digest", "us-east-1")
    clock = Clock()
    store = Store(clock=clock)
    items = [
        PaperItem(
            "",
            f"PAPER#{r.paper.arxiv_id}",
            arxiv_id=r.paper.arxiv_id,
            rank=i,
            paper=r.paper.to_dict(),
        )
        for i, r in enumerate(rank(papers, load_taxonomy()))
    ]
    store.create_run(DATE, "ko", items, {})
    engine = CountingEngine()
    service = SummarizeService(
        store=store,
        queue=WorkQueue(url, "us-east-1"),
        events=DigestEvents("default", "us-east-1"),
        engine=engine,
        taxonomy=load_taxonomy(),
        lease_seconds=LEASE,
        language="ko",
    )
    return service, store, clock, engine


def test_a_lease_left_by_a_timed_out_attempt_expires(service, papers) -> None:
    svc, store, clock, engine = service
    arxiv_id = papers[0].arxiv_id
    # Given an attempt that claimed the paper and then died (a Lambda timeout)
    assert store.claim_paper(DATE, arxiv_id, LEASE).acquired

    # When the message comes back while the lease is live, the retry waits
    with pytest.raises(WorkInProgress):
        svc.handle(WorkMessage("paper", DATE, arxiv_id), Delivery(2, 5), None)
    assert engine.calls == 0

    # Then once the lease has expired, the next delivery does the work
    clock.now += LEASE + 1
    svc.handle(WorkMessage("paper", DATE, arxiv_id), Delivery(3, 5), None)
    assert engine.calls == 1
    assert store.get_paper(DATE, arxiv_id).status == DONE


def test_a_crash_after_the_write_costs_no_second_call(service, papers) -> None:
    svc, store, _clock, engine = service
    arxiv_id = papers[0].arxiv_id
    # Given a paper summarized and stored, whose run was never told (a crash between)
    claim = store.claim_paper(DATE, arxiv_id, LEASE)
    assert claim is not None
    item = claim.item
    summary = engine.summarize_paper(Paper.from_dict(item.paper), load_taxonomy())
    assert store.finish_paper(item, claim.owner, summary.category, summary.to_dict())
    assert arxiv_id not in (store.get_run(DATE).settled_ids or set())

    # When the message is delivered again
    svc.handle(WorkMessage("paper", DATE, arxiv_id), Delivery(2, 5), None)

    # Then no second call is made, one record stays, and the paper now counts as settled
    assert engine.calls == 1
    assert arxiv_id in store.get_run(DATE).settled_ids
    assert len([p for p in store.papers(DATE) if p.arxiv_id == arxiv_id]) == 1


def test_the_same_paper_in_one_batch_twice_is_summarized_once(service, papers) -> None:
    svc, _store, _clock, engine = service
    message = WorkMessage("paper", DATE, papers[1].arxiv_id)
    svc.handle(message, Delivery(1, 5), None)
    svc.handle(message, Delivery(1, 5), None)
    assert engine.calls == 1


def test_settling_counts_each_paper_once_against_the_run_size(service, papers) -> None:
    _svc, store, _clock, _engine = service
    ids = [p.arxiv_id for p in papers]
    # Given a run of three papers, whose items carry the run's size
    assert {store.get_paper(DATE, i).run_papers for i in ids} == {3}

    # When one paper settles twice and then the others settle
    assert store.settle_paper(DATE, ids[0], failed=False, run_papers=3).settled == 1
    again = store.settle_paper(DATE, ids[0], failed=True, run_papers=3)
    middle = store.settle_paper(DATE, ids[1], failed=False, run_papers=3)
    last = store.settle_paper(DATE, ids[2], failed=False, run_papers=3)

    # Then the count never double-counts, and only the last write sees the run complete
    assert (again.settled, again.complete) == (1, False)
    assert (middle.settled, middle.complete) == (2, False)
    assert (last.settled, last.total, last.complete) == (3, 3, True)
    assert store.get_run(DATE).failed_ids == {ids[0]}


def test_a_paper_item_without_the_run_size_counts_against_the_run_record(service, papers) -> None:
    _svc, store, _clock, _engine = service
    settled = store.settle_paper(DATE, papers[0].arxiv_id, failed=False, run_papers=None)
    assert (settled.settled, settled.total) == (1, 3)


def test_claiming_a_paper_the_run_does_not_hold_gives_none(service) -> None:
    _svc, store, _clock, _engine = service
    assert store.claim_paper(DATE, "2409.99999", LEASE) is None
    assert store.claim_category("2099-01-01", "llm", LEASE) is None


def test_a_claim_carries_the_paper_and_its_lease(service, papers) -> None:
    _svc, store, _clock, _engine = service
    claim = store.claim_paper(DATE, papers[0].arxiv_id, LEASE)
    assert claim is not None and claim.acquired
    assert claim.item.paper["title"] == papers[0].title
    assert (claim.item.lease_owner, claim.item.attempts) == (claim.owner, 1)
    # A second claim while the lease lives is refused and sees the first one's lease
    second = store.claim_paper(DATE, papers[0].arxiv_id, LEASE)
    assert second is not None and not second.acquired and second.status == "in_progress"


def test_papers_are_read_in_the_order_asked(service, papers) -> None:
    _svc, store, _clock, _engine = service
    ids = [p.arxiv_id for p in reversed(papers)]
    assert [item.arxiv_id for item in store.get_papers(DATE, ids)] == ids
    with pytest.raises(StorageError, match=r"2409\.99999"):
        store.get_papers(DATE, [ids[0], "2409.99999"])


def test_settling_a_paper_of_a_missing_run_is_a_storage_error(service) -> None:
    _svc, store, _clock, _engine = service
    with pytest.raises(StorageError, match="2099-01-01"):
        store.settle_paper("2099-01-01", "2409.00001", failed=False, run_papers=1)


def test_warm_invocations_keep_the_table_connection(aws: None, monkeypatch) -> None:
    bind_table("digest", "us-east-1")
    first = PaperItem._get_connection()
    # Every model shares it, and binding the same table again keeps it
    assert {m._get_connection() for m in (RunItem, CategoryItem, CacheItem)} == {first}
    bind_table("digest", "us-east-1")
    assert PaperItem._get_connection() is first
    # A new endpoint (another local stack) or table gets a new one
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    bind_table("digest", "us-east-1")
    assert PaperItem._get_connection() is not first


def test_a_paid_result_is_stored_cached_and_counted_together(service, papers) -> None:
    _svc, store, _clock, _engine = service
    arxiv_id = papers[0].arxiv_id
    claim = store.claim_paper(DATE, arxiv_id, LEASE)
    assert claim is not None
    paid = Paid(DATE, f"PAPER#{arxiv_id}", "llm:test", {"category": "llm"}, Usage(calls=2))

    assert store.finish_paper(claim.item, claim.owner, "llm", {"category": "llm"}, paid)

    assert store.get_paper(DATE, arxiv_id).status == DONE
    assert store.cached(f"PAPER#{arxiv_id}", "llm:test") == {"category": "llm"}
    assert store.get_run(DATE).llm_calls == 2


def test_a_paid_result_whose_lease_was_lost_is_kept_all_the_same(service, papers) -> None:
    _svc, store, clock, _engine = service
    arxiv_id = papers[0].arxiv_id
    # Given an attempt whose lease expired and was taken by another attempt
    late = store.claim_paper(DATE, arxiv_id, LEASE)
    clock.now += LEASE + 1
    assert late is not None and store.claim_paper(DATE, arxiv_id, LEASE).acquired
    paid = Paid(DATE, f"PAPER#{arxiv_id}", "llm:test", {"category": "llm"}, Usage(calls=1))

    # When the late attempt stores what it paid for
    stored = store.finish_paper(late.item, late.owner, "llm", {"category": "llm"}, paid)

    # Then the paper is not its to finish, but the result is cached and its cost counted
    assert not stored
    assert store.get_paper(DATE, arxiv_id).status == "in_progress"
    assert store.cached(f"PAPER#{arxiv_id}", "llm:test") == {"category": "llm"}
    assert store.get_run(DATE).llm_calls == 1


def test_the_settled_count_reads_the_run(service, papers) -> None:
    _svc, store, _clock, _engine = service
    assert store.settled_count(DATE) == 0
    store.settle_paper(DATE, papers[0].arxiv_id, failed=False, run_papers=3)
    assert store.settled_count(DATE) == 1
    assert store.settled_count("2099-01-01") == 0
