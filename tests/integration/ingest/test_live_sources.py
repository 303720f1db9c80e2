"""Live collection from the configured sources, through httpx test transports."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from paperdigest.errors import ConfigError, SourceError
from paperdigest.pipeline.ingest import Collected, collect_live, ingest
from paperdigest.sources.config import SourcesConfig, load_sources
from paperdigest.sources.fetch import Fetcher

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
HF = FIXTURES / "hf-2024-09-24.json"
STAT_RSS = (
    FIXTURES
    / "sources"
    / "rss"
    / "emanuelealiverti_arxiv_rss"
    / "stat_rss2_2024-03-26_123items.xml"
)
TRUNCATED = (
    FIXTURES / "sources" / "rss" / "zotero-arxiv-daily" / "cs.AI_atomfeed_2025-08-20_TRUNCATED.xml"
)


def _fetcher(routes: dict[str, tuple[int, bytes]], seen: list[str]) -> Fetcher:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        for prefix, (status, body) in routes.items():
            if str(request.url).startswith(prefix):
                return httpx.Response(status, content=body)
        return httpx.Response(404, content=b"not found")

    client = httpx.Client(transport=httpx.MockTransport(handle))
    return Fetcher(client, attempts=2, sleep=lambda _: None)


def _config(**sections: object) -> SourcesConfig:
    return SourcesConfig.model_validate(sections)


def test_every_enabled_source_is_asked_and_a_broken_one_is_reported() -> None:
    # Given Hugging Face serving a real day, one real RSS feed and one truncated feed
    seen: list[str] = []
    fetcher = _fetcher(
        {
            "https://huggingface.co/api/daily_papers": (200, HF.read_bytes()),
            "https://rss.arxiv.org/rss/stat": (200, STAT_RSS.read_bytes()),
            "https://rss.arxiv.org/rss/cs.AI": (200, TRUNCATED.read_bytes()),
        },
        seen,
    )
    config = _config(arxiv_rss={"categories": ["stat", "cs.AI"]})

    collected = collect_live(config, fetcher, "2024-09-24")

    # Then both good sources are read and the truncated one is named as an error
    assert [i.kind for i in collected.inputs] == ["hf-daily", "arxiv-rss"]
    assert len(collected.inputs[0].papers) == 14
    assert len(collected.inputs[1].papers) == 123
    assert len(collected.errors) == 1 and collected.errors[0].startswith("arxiv-rss cs.AI:")
    assert "date=2024-09-24" in seen[0]


def test_disabled_sources_are_not_asked() -> None:
    seen: list[str] = []
    fetcher = _fetcher({}, seen)
    config = _config(hf_daily={"enabled": False}, arxiv_rss={"enabled": False})

    collected = collect_live(config, fetcher, "2024-09-24")

    assert seen == [] and collected.inputs == [] and collected.errors == []


def test_the_shipped_file_asks_the_default_feeds_for_new_and_cross_only() -> None:
    config = load_sources()
    assert config.arxiv_rss.categories == [
        "cs.AI",
        "cs.LG",
        "cs.CV",
        "cs.CL",
        "cs.RO",
        "cs.NE",
        "stat.ML",
        "quant-ph",
    ]
    assert config.keeps("new") and config.keeps("cross") and config.keeps("")
    assert not config.keeps("replace") and not config.keeps("replace-cross")


def test_a_typo_in_the_sources_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text("[arxiv_rss]\ncategoriez = ['cs.AI']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="categoriez"):
        load_sources(path)


def test_no_network_fails_fast_with_one_line_per_host() -> None:
    # Given a machine where no host name resolves
    def handle(request: httpx.Request) -> httpx.Response:
        lookup = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        raise httpx.ConnectError(str(lookup), request=request) from lookup

    waits: list[float] = []
    fetcher = Fetcher(httpx.Client(transport=httpx.MockTransport(handle)), sleep=waits.append)
    config = _config(arxiv_rss={"categories": ["cs.AI", "cs.LG", "cs.CV"]})
    collected = collect_live(config, fetcher, "2024-09-24")

    # When ingest is given nothing but these failures
    with pytest.raises(SourceError) as caught:
        ingest_nothing(collected)

    # Then nothing waited, and the error names each host once and counts the rest
    assert waits == []
    message = str(caught.value)
    assert message.count("is not known") == 2
    assert "huggingface.co" in message and "rss.arxiv.org" in message
    assert message.endswith("; 2 more on the same hosts not tried")


def ingest_nothing(collected: Collected) -> None:
    """Ingest that must fail before it touches the store or the queue."""
    ingest(
        collected,
        store=None,  # type: ignore[arg-type]
        queue=None,  # type: ignore[arg-type]
        taxonomy=None,  # type: ignore[arg-type]
        language="en",
        max_papers=5,
        config=_config(),
    )
