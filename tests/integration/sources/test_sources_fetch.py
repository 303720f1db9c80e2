"""The live fetcher against recorded arXiv / Hugging Face answers on httpx.MockTransport."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from paperdigest.errors import SourceError
from paperdigest.sources import Fetcher, parse_document
from paperdigest.sources.fetch import USER_AGENT

ReadBytes = Callable[[str], bytes]
Handler = Callable[[httpx.Request], httpx.Response]
RECORDED = "atom/lukasschwab_arxiv.py/recorded_2026/"
TESTING_PAGES = {
    0: "q_testing_s0_m10_bc5a6c384fe9.json",
    5: "q_testing_s5_m10_c0e94a259d4a.json",
    10: "q_testing_s10_m10_34e56e15aaac.json",
    20: "q_testing_s20_m10_348a237fecab.json",
    30: "q_testing_s30_m10_f2e39f0143dc.json",
    40: "q_testing_s40_m10_96dd32eb854c.json",
    50: "q_testing_s50_m10_7f488ab8598c.json",
}
HF_API = "hf/sotawhat/hf_daily_papers_2026-06-12.json"
STAT_RSS = "rss/emanuelealiverti_arxiv_rss/stat_rss2_2024-03-26_123items.xml"
CS_AI_TRUNCATED = "rss/zotero-arxiv-daily/cs.AI_atomfeed_2025-08-20_TRUNCATED.xml"


class FakeClock:
    """A monotonic clock that moves only when slept on or ticked by the fake server."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeServer:
    """Answers requests with ``handler`` and keeps every request it saw."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)


def _replay(recording: bytes) -> httpx.Response:
    document = json.loads(recording)
    return httpx.Response(document["status_code"], content=document["body"].encode("latin-1"))


def _fetcher(server: FakeServer, clock: FakeClock) -> Fetcher:
    client = httpx.Client(transport=httpx.MockTransport(server))
    return Fetcher(client, clock=clock, sleep=clock.sleep)


def _sequence(*responses: httpx.Response) -> Handler:
    answers = list(responses)
    return lambda request: answers.pop(0)


def _ids(recording: bytes) -> list[str]:
    return [p.arxiv_id for p in parse_document(recording).papers]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def paging_server(read_bytes: ReadBytes) -> FakeServer:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.params["search_query"] == "testing"
        assert request.url.params["max_results"] == "10"
        start = int(request.url.params["start"])
        return _replay(read_bytes(RECORDED + TESTING_PAGES[start]))

    return FakeServer(answer)


def test_query_pages_through_the_results(
    paging_server: FakeServer, clock: FakeClock, read_bytes: ReadBytes
) -> None:
    fetcher = _fetcher(paging_server, clock)

    parsed = fetcher.arxiv_query("testing", max_results=60, page_size=10)

    full = _ids(read_bytes(RECORDED + "q_testing_s0_m100_cfe7536492ca.json"))
    assert [p.arxiv_id for p in parsed.papers] == full[:60]
    assert parsed.total_results == 214881
    starts = [r.url.params["start"] for r in paging_server.requests]
    assert starts == ["0", "10", "20", "30", "40", "50"]
    assert clock.sleeps == [3.0] * 5


def test_overlapping_pages_merge_without_duplicates(
    read_bytes: ReadBytes, clock: FakeClock
) -> None:
    # Given a server whose list shifted by five papers before the second page was asked
    served = {0: 0, 10: 5, 20: 20, 30: 30}

    def answer(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params["start"])
        return _replay(read_bytes(RECORDED + TESTING_PAGES[served[start]]))

    server = FakeServer(answer)

    # When 30 papers are asked for, 10 a page
    parsed = _fetcher(server, clock).arxiv_query("testing", max_results=30, page_size=10)

    # Then the repeated papers appear once and one more page fills the gap
    ids = [p.arxiv_id for p in parsed.papers]
    window = {s: _ids(read_bytes(RECORDED + TESTING_PAGES[s])) for s in (0, 5, 20, 30)}
    assert ids == window[0] + window[5][5:] + window[20] + window[30][:5]
    assert len(set(ids)) == 30
    assert [r.url.params["start"] for r in server.requests] == ["0", "10", "20", "30"]


def test_requests_name_the_project(paging_server: FakeServer, clock: FakeClock) -> None:
    _fetcher(paging_server, clock).arxiv_query("testing", max_results=10, page_size=10)

    (request,) = paging_server.requests
    assert request.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("paperdigest/0.1.0 (+https://github.com/")


def test_arxiv_requests_are_three_seconds_apart(read_bytes: ReadBytes, clock: FakeClock) -> None:
    # Given a server that takes half a second to answer
    def answer(request: httpx.Request) -> httpx.Response:
        clock.now += 0.5
        return httpx.Response(200, content=read_bytes(STAT_RSS))

    server = FakeServer(answer)
    fetcher = _fetcher(server, clock)

    # When three feeds are fetched back to back
    for category in ("stat", "cs.AI", "cs.LG"):
        fetcher.arxiv_rss(category)

    # Then each request starts three seconds after the one before
    assert clock.sleeps == [2.5, 2.5]
    assert [str(r.url) for r in server.requests] == [
        "https://rss.arxiv.org/rss/stat",
        "https://rss.arxiv.org/rss/cs.AI",
        "https://rss.arxiv.org/rss/cs.LG",
    ]


def test_retry_after_is_honoured(read_bytes: ReadBytes, clock: FakeClock) -> None:
    server = FakeServer(
        _sequence(
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(503, headers={"Retry-After": "11"}),
            httpx.Response(200, content=read_bytes(HF_API)),
        )
    )

    parsed = _fetcher(server, clock).hf_daily("2026-06-12")

    assert clock.sleeps == [7.0, 11.0]
    assert len(parsed.papers) == 30
    assert server.requests[0].url.params["date"] == "2026-06-12"
    assert str(server.requests[0].url).startswith("https://huggingface.co/api/daily_papers?")


def test_retry_after_as_a_date_and_its_cap(read_bytes: ReadBytes, clock: FakeClock) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    server = FakeServer(
        _sequence(
            httpx.Response(503, headers={"Retry-After": later}),
            httpx.Response(429, headers={"Retry-After": "3600"}),
            httpx.Response(200, content=read_bytes(STAT_RSS)),
        )
    )

    parsed = _fetcher(server, clock).arxiv_rss("stat")

    assert 27.0 <= clock.sleeps[0] <= 30.0
    assert clock.sleeps[1:] == [120.0]
    assert len(parsed.papers) == 123


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<!DOCTYPE html><html><body>Rate exceeded.</body></html>", "input looks like an HTML"),
        (b"", "empty body"),
    ],
)
def test_bad_200_answers_are_retried_then_reported(
    clock: FakeClock, body: bytes, reason: str
) -> None:
    server = FakeServer(lambda request: httpx.Response(200, content=body))

    with pytest.raises(SourceError, match=f"gave up after 4 attempts: .*{reason}"):
        _fetcher(server, clock).hf_daily("2026-06-12")

    assert len(server.requests) == 4
    assert clock.sleeps == [2.0, 4.0, 8.0]


def test_truncated_feed_is_retried_then_reported(read_bytes: ReadBytes, clock: FakeClock) -> None:
    truncated = read_bytes(CS_AI_TRUNCATED)
    server = FakeServer(lambda request: httpx.Response(200, content=truncated))

    with pytest.raises(SourceError, match=r"malformed XML, truncated or not well-formed") as err:
        _fetcher(server, clock).arxiv_rss("cs.AI")

    assert "gave up after 4 attempts" in str(err.value)
    assert len(server.requests) == 4
    # backoff 2 s, then 1 s more to keep three seconds between arXiv requests, 4 s, 8 s
    assert clock.sleeps == [2.0, 1.0, 4.0, 8.0]


def test_error_feed_served_with_200_is_not_no_papers(
    read_bytes: ReadBytes, clock: FakeClock
) -> None:
    body = json.loads(read_bytes(RECORDED + "id_abc_s0_m100_b79c8dcf6bc3.json"))["body"]
    server = FakeServer(lambda request: httpx.Response(200, content=body.encode("latin-1")))

    with pytest.raises(SourceError, match="incorrect id format for abc"):
        _fetcher(server, clock).arxiv_query("testing", max_results=10)

    assert len(server.requests) == 4


def test_error_feed_with_400_fails_at_once(read_bytes: ReadBytes, clock: FakeClock) -> None:
    server = FakeServer(
        lambda request: _replay(read_bytes(RECORDED + "id_abc_s0_m100_b79c8dcf6bc3.json"))
    )

    with pytest.raises(SourceError, match=r"HTTP 400 .*arXiv API error: incorrect id format"):
        _fetcher(server, clock).arxiv_query("id:abc", max_results=10)

    assert len(server.requests) == 1


def test_transport_errors_are_retried(read_bytes: ReadBytes, clock: FakeClock) -> None:
    answers: list[httpx.Response | Exception] = [
        httpx.ConnectTimeout("connect timed out"),
        httpx.Response(200, content=read_bytes(STAT_RSS)),
    ]

    def answer(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    server = FakeServer(answer)

    parsed = _fetcher(server, clock).arxiv_rss("stat")

    assert len(parsed.papers) == 123
    assert clock.sleeps == [2.0, 1.0]


def test_a_host_that_cannot_be_reached_is_not_asked_again(
    read_bytes: ReadBytes, clock: FakeClock
) -> None:
    # Given an RSS host that refuses connections; the HF host answers
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "rss.arxiv.org":
            raise httpx.ConnectError("[Errno 111] Connection refused")
        return httpx.Response(200, content=read_bytes(STAT_RSS))

    server = FakeServer(answer)
    fetcher = _fetcher(server, clock)

    # When two feeds of that host are asked for
    with pytest.raises(SourceError, match="gave up after 4 attempts: ConnectError"):
        fetcher.arxiv_rss("cs.AI")
    asked, waited = len(server.requests), list(clock.sleeps)
    with pytest.raises(SourceError, match=r"not tried, rss\.arxiv\.org could not be reached"):
        fetcher.arxiv_rss("cs.LG")

    # Then the second fails without a request or a wait, and other hosts are still asked
    assert asked == 4 and len(server.requests) == 4
    assert clock.sleeps == waited
    assert fetcher.hf_daily("2024-09-24").papers
    assert server.requests[-1].url.host == "huggingface.co"


def test_a_host_name_that_does_not_resolve_fails_at_once(
    read_bytes: ReadBytes, clock: FakeClock
) -> None:
    # Given no DNS for the RSS host, as on a machine without network
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "rss.arxiv.org":
            lookup = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            raise httpx.ConnectError(str(lookup)) from lookup
        return httpx.Response(200, content=read_bytes(STAT_RSS))

    server = FakeServer(answer)
    fetcher = _fetcher(server, clock)

    # When its feeds are asked for
    with pytest.raises(SourceError, match=r"rss\.arxiv\.org is not known: ConnectError"):
        fetcher.arxiv_rss("cs.AI")
    with pytest.raises(SourceError, match=r"not tried, rss\.arxiv\.org could not be reached"):
        fetcher.arxiv_rss("cs.LG")

    # Then one request was made and nothing waited for a retry
    assert len(server.requests) == 1
    assert clock.sleeps == []


def test_a_name_lookup_that_may_succeed_later_is_retried(
    read_bytes: ReadBytes, clock: FakeClock
) -> None:
    # Given a DNS server that fails once, then answers
    answers: list[Exception | httpx.Response] = [
        httpx.ConnectError("[Errno -3] Temporary failure in name resolution"),
        httpx.Response(200, content=read_bytes(STAT_RSS)),
    ]

    def answer(request: httpx.Request) -> httpx.Response:
        reply = answers.pop(0)
        if isinstance(reply, Exception):
            raise reply from socket.gaierror(socket.EAI_AGAIN, "Temporary failure")
        return reply

    parsed = _fetcher(FakeServer(answer), clock).arxiv_rss("stat")

    assert parsed.papers and len(clock.sleeps) >= 1


def test_id_lookup_goes_in_batches(read_bytes: ReadBytes, clock: FakeClock) -> None:
    served = {
        "0808.05394,1707.08567": "id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.json",
        "2104.12255v1": "id_2104.12255v1_s0_m100_6ae69987ffe1.json",
    }
    server = FakeServer(
        lambda request: _replay(read_bytes(RECORDED + served[request.url.params["id_list"]]))
    )

    ids = ["0808.05394", "arXiv:1707.08567", "https://arxiv.org/abs/2104.12255v1"]
    parsed = _fetcher(server, clock).arxiv_ids(ids, batch=2)

    assert [(p.arxiv_id, p.title) for p in parsed.papers][1] == ("2104.12255", "0")
    assert parsed.papers[0].arxiv_id == "1707.08567"
    assert parsed.total_results == 2
    assert [r.url.params["max_results"] for r in server.requests] == ["2", "1"]
    assert clock.sleeps == [3.0]


def test_empty_result_is_not_an_error(read_bytes: ReadBytes, clock: FakeClock) -> None:
    recording = read_bytes(RECORDED + "id_0000.0000_s0_m100_8b51d9633a68.json")
    server = FakeServer(lambda request: _replay(recording))

    parsed = _fetcher(server, clock).arxiv_ids(["0000.0000"])

    assert parsed.papers == []
    assert len(server.requests) == 1


def test_bad_arguments_fail_before_any_request(clock: FakeClock) -> None:
    server = FakeServer(lambda request: httpx.Response(500))
    fetcher = _fetcher(server, clock)

    with pytest.raises(SourceError, match="not an arXiv id"):
        fetcher.arxiv_ids(["abc"])
    with pytest.raises(SourceError, match="not an arXiv category"):
        fetcher.arxiv_rss("cs.AI/../../etc")
    with pytest.raises(SourceError, match="not a date"):
        fetcher.hf_daily("12/06/2026")

    assert server.requests == []


def test_default_client_is_lazy_with_explicit_timeout() -> None:
    with Fetcher(timeout=20.0) as fetcher:
        client = fetcher.client

        assert client is fetcher.client
        assert client.timeout.read == 20.0
        assert client.timeout.connect == 10.0
        assert client.headers["User-Agent"] == USER_AGENT

    assert client.is_closed
