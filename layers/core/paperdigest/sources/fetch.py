"""Live fetching from the arXiv API, arXiv RSS and the Hugging Face daily papers API.

Every answer goes through ``parse_document``: a 200 that carries an HTML page, an
empty body, truncated XML or arXiv's error feed counts as a failed attempt, never as
"no papers". arXiv asks for at least three seconds between requests; the fetcher
keeps that spacing for every arXiv host and honours ``Retry-After``.
"""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType

import httpx

from paperdigest import __version__
from paperdigest.errors import SourceError
from paperdigest.models import ParsedInput
from paperdigest.sources._common import NOT_TRIED
from paperdigest.sources._detect import parse_document
from paperdigest.sources.merge import merge_papers
from paperdigest.text import base_id

logger = logging.getLogger(__name__)

USER_AGENT = f"paperdigest/{__version__} (+https://github.com/daily-ai-insights/paperdigest)"
ARXIV_API_URL = "https://export.arxiv.org/api/query"
ARXIV_RSS_URL = "https://rss.arxiv.org/rss/"
HF_DAILY_URL = "https://huggingface.co/api/daily_papers"

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_CATEGORY = re.compile(r"[A-Za-z-]+(?:\.[A-Za-z-]+)?(?:\+[A-Za-z-]+(?:\.[A-Za-z-]+)?)*")

Check = Callable[[ParsedInput], None]


class Fetcher:
    """Fetch paper documents over HTTP and return them parsed.

    ``client`` is used as given (tests pass one with ``httpx.MockTransport``); when
    omitted, one is created on first use with ``timeout`` seconds and closed by
    ``close()``. ``clock`` and ``sleep`` pace the requests and can be faked.

    A host that could not be connected to on any attempt (its name does not resolve,
    or it refuses) is not asked again by this fetcher: its other documents fail at
    once with the same reason, instead of each waiting out every attempt.
    """

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        attempts: int = 4,
        arxiv_interval: float = 3.0,
        backoff: float = 2.0,
        max_wait: float = 120.0,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = USER_AGENT,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._client = client
        self._owns_client = client is None
        self._attempts = attempts
        self._arxiv_interval = arxiv_interval
        self._backoff = backoff
        self._max_wait = max_wait
        self._timeout = timeout
        self._clock = clock
        self._sleep = sleep
        self._user_agent = user_agent
        self._last_arxiv: float | None = None
        self._unreachable: dict[str, str] = {}

    @property
    def client(self) -> httpx.Client:
        """The HTTP client, created on first use when none was injected."""
        if self._client is None:
            self._client = httpx.Client(
                timeout=httpx.Timeout(self._timeout, connect=10.0),
                headers={"User-Agent": self._user_agent},
                follow_redirects=True,
            )
        return self._client

    def close(self) -> None:
        """Close the client if this fetcher created it."""
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def arxiv_query(
        self,
        search_query: str,
        max_results: int = 100,
        page_size: int = 100,
        *,
        sort_by: str = "submittedDate",
        sort_order: str = "descending",
    ) -> ParsedInput:
        """Return up to ``max_results`` papers matching ``search_query``, page by page.

        Pages follow ``opensearch:totalResults``; papers repeated by overlapping pages
        (the result list shifts when arXiv announces while we page) are merged.

        Raises:
            SourceError: a page still fails after every attempt.
        """
        pages: list[ParsedInput] = []
        seen: set[str] = set()
        total: int | None = None
        start = 0
        while len(seen) < max_results and (total is None or start < total):
            size = min(page_size, max_results - start) if start < max_results else page_size
            params: dict[str, str | int] = {
                "search_query": search_query,
                "start": start,
                "max_results": size,
                "sortBy": sort_by,
                "sortOrder": sort_order,
            }
            page = self._get(ARXIV_API_URL, params, arxiv=True, check=_page_check(start))
            pages.append(page)
            total = page.total_results if page.total_results is not None else 0
            new = {p.arxiv_id for p in page.papers} - seen
            seen |= new
            start += size
            if not new and not page.skipped:
                logger.warning("arxiv page added nothing", extra={"start": start, "total": total})
                break

        papers = merge_papers(pages)[:max_results]
        logger.info(
            "arxiv query fetched",
            extra={"papers": len(papers), "pages": len(pages), "total": total},
        )
        return ParsedInput(
            kind="arxiv-api",
            papers=papers,
            skipped=[s for page in pages for s in page.skipped],
            total_results=total,
        )

    def arxiv_ids(self, ids: Sequence[str], batch: int = 100) -> ParsedInput:
        """Return the papers with the given arXiv ids, looked up ``batch`` ids a request.

        Ids may carry a version or any form ``base_id`` reads; unknown ids yield nothing.

        Raises:
            SourceError: an id is malformed, or a lookup still fails after every attempt.
        """
        wanted = ["".join(base_id(raw)) for raw in ids]
        pages: list[ParsedInput] = []
        for chunk in _chunks(wanted, batch):
            params: dict[str, str | int] = {
                "id_list": ",".join(chunk),
                "start": 0,
                "max_results": len(chunk),
            }
            pages.append(self._get(ARXIV_API_URL, params, arxiv=True))

        return ParsedInput(
            kind="arxiv-api",
            papers=merge_papers(pages),
            skipped=[s for page in pages for s in page.skipped],
            total_results=sum(page.total_results or 0 for page in pages),
        )

    def arxiv_rss(self, category: str) -> ParsedInput:
        """Return today's announcement feed of ``category`` (``cs.AI``, ``cs.AI+cs.LG``).

        Raises:
            SourceError: ``category`` is malformed, or the feed still fails after every
                attempt.
        """
        if not _CATEGORY.fullmatch(category):
            raise SourceError(f"not an arXiv category: {category[:40]!r}")
        return self._get(ARXIV_RSS_URL + category, {}, arxiv=True)

    def hf_daily(self, day: date | str) -> ParsedInput:
        """Return the Hugging Face daily papers of ``day`` (a date or ``YYYY-MM-DD``).

        Raises:
            SourceError: ``day`` is not a date, or the list still fails after every attempt.
        """
        try:
            iso = day.isoformat() if isinstance(day, date) else date.fromisoformat(day).isoformat()
        except ValueError as exc:
            raise SourceError(f"not a date: {day!r}") from exc
        return self._get(HF_DAILY_URL, {"date": iso}, arxiv=False)

    def _get(
        self,
        url: str,
        params: dict[str, str | int],
        *,
        arxiv: bool,
        check: Check | None = None,
    ) -> ParsedInput:
        host = httpx.URL(url).host
        if host in self._unreachable:
            reason = self._unreachable[host]
            raise SourceError(f"{url}: {NOT_TRIED}, {host} could not be reached: {reason}")
        reason = ""
        cause: Exception | None = None
        for attempt in range(1, self._attempts + 1):
            if arxiv:
                self._keep_arxiv_spacing()
            delay = self._backoff * 2 ** (attempt - 1)
            try:
                response = self.client.get(
                    url, params=params, headers={"User-Agent": self._user_agent}
                )
            except httpx.TransportError as exc:
                reason, cause = f"{type(exc).__name__}: {exc}", exc
                if _name_unknown(exc):
                    # No retry brings a name that does not exist (or no DNS at all).
                    self._unreachable[host] = reason
                    raise SourceError(f"{url}: {host} is not known: {reason}") from exc
            else:
                if response.status_code in _RETRY_STATUSES:
                    reason, cause = f"HTTP {response.status_code}", None
                    asked = _retry_after(response.headers.get("Retry-After"))
                    delay = delay if asked is None else asked
                elif response.status_code >= 400:
                    raise SourceError(_client_error(response))
                else:
                    try:
                        parsed = parse_document(response.content)
                        if check is not None:
                            check(parsed)
                    except SourceError as exc:
                        reason, cause = str(exc), exc
                    else:
                        return parsed

            logger.warning(
                "fetch attempt failed",
                extra={"url": url, "attempt": attempt, "reason": reason},
            )
            if attempt < self._attempts:
                self._sleep(min(delay, self._max_wait))

        if isinstance(cause, httpx.ConnectError):
            self._unreachable[host] = reason
        raise SourceError(f"{url}: gave up after {self._attempts} attempts: {reason}") from cause

    def _keep_arxiv_spacing(self) -> None:
        if self._last_arxiv is not None:
            wait = self._last_arxiv + self._arxiv_interval - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last_arxiv = self._clock()


def _name_unknown(exc: BaseException) -> bool:
    """Whether ``exc`` comes from a host name that does not resolve (not a DNS hiccup)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return seen.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None))
        seen = seen.__cause__ or seen.__context__
    return False


def _page_check(start: int) -> Check:
    def check(page: ParsedInput) -> None:
        # NOTE: arXiv sometimes answers a page inside the result set with no entries;
        # that is a transient failure, retried like any other.
        empty = not page.papers and not page.skipped
        if empty and page.total_results is not None and start < page.total_results:
            raise SourceError(f"empty page at start={start} of {page.total_results} results")

    return check


def _retry_after(value: str | None) -> float | None:
    """Return the seconds a ``Retry-After`` header asks for, None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _client_error(response: httpx.Response) -> str:
    reason = f"HTTP {response.status_code} from {response.url}"
    try:
        parse_document(response.content)
    except SourceError as exc:
        return f"{reason}: {exc}"
    return reason


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    if size < 1:
        raise ValueError("batch must be at least 1")
    for first in range(0, len(items), size):
        yield items[first : first + size]
