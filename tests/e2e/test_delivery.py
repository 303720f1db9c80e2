"""Delivery guarantees of the whole pipeline, with faults injected.

Each test runs the real handlers on the local stack, with a fake OpenAI-compatible
endpoint, and records its figures; the session prints them at the end.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from paperdigest.classify import classify
from paperdigest.cli import main
from paperdigest.local import session as local_session_module
from paperdigest.local.runner import Runner
from paperdigest.sources import parse_document
from paperdigest.taxonomy import load_taxonomy
from tests.fakes.openai_server import (
    FakeOpenAI,
    RecordedRequest,
    Reply,
    delayed,
    server_error,
    valid,
)

from .conftest import FIXTURES, REPO, RunResult, source_lines

pytestmark = pytest.mark.e2e

HF_FILE = FIXTURES / "hf-2024-09-24.json"
DATE = "2024-09-24"
PAPERS = 14
MAX_RECEIVES = 5


def _categorising() -> Callable[[RecordedRequest], Reply]:
    """Valid answers that file each paper where the rule-based classifier would."""
    taxonomy = load_taxonomy()
    papers = {p.arxiv_id: p for p in parse_document(HF_FILE.read_bytes()).papers}

    def update(payload: dict[str, Any], request: RecordedRequest) -> dict[str, Any]:
        found = re.search(r'<paper id="([^"]+)"', request.user_text)
        if "category" in payload and found and found.group(1) in papers:
            payload["category"], _ = classify(papers[found.group(1)], taxonomy)
            payload["confidence"] = 0.9
        return payload

    return valid(update)


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    """A fake endpoint configured the way a user configures a real one."""
    with FakeOpenAI() as fake:
        fake.default = _categorising()
        monkeypatch.setenv("OPENAI_API_KEY", "sk-e2e-secret-000")
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("OPENAI_MODEL", "gpt-4o-mini")
        # One attempt per delivery, so that every failure goes back through SQS.
        monkeypatch.setenv("LLM_MAX_RETRIES", "1")
        yield fake


def _sections(markdown: str) -> int:
    return sum(1 for line in markdown.splitlines() if line.startswith("## ") and "⚠️" not in line)


def _dlq_bodies(result: RunResult) -> list[dict[str, str]]:
    state = json.loads((result.state / "state.json").read_text(encoding="utf-8"))
    return [json.loads(body) for body in state["queues"]["PapersDLQ"]]


def _failed_ids(result: RunResult) -> set[str]:
    record = result.run_record(DATE)
    return set(record.get("failed_ids", {}).get("SS", []))  # type: ignore[union-attr]


def test_llm_digest_costs_one_call_per_paper_and_category(run_cli, llm, figures) -> None:
    result = run_cli("--input", str(HF_FILE), "--fresh")

    assert result.code == 0, result.stderr
    markdown = result.markdown()
    categories = _sections(markdown)
    assert llm.calls == PAPERS + categories
    assert "gpt-4o-mini" in markdown
    assert "sk-e2e-secret" not in markdown + result.stderr
    figures.append(
        f"{PAPERS} papers with an LLM: LLM calls = {llm.calls} = papers + {categories} categories"
    )


def test_every_message_delivered_twice_costs_nothing_more(
    run_cli, llm, figures, monkeypatch
) -> None:
    # Given an event source that delivers every message twice
    monkeypatch.setattr(
        local_session_module, "Runner", functools.partial(Runner, duplicate_deliveries=True)
    )

    result = run_cli("--input", str(HF_FILE), "--fresh")

    # Then each paper and category still costs one call, and each paper is listed once
    assert result.code == 0, result.stderr
    markdown = result.markdown()
    categories = _sections(markdown)
    assert llm.calls == PAPERS + categories
    links = [m["link"] for m in source_lines(markdown)]
    assert len(links) == len(set(links)) == PAPERS
    figures.append(f"every message delivered twice: LLM calls = {llm.calls} = papers + categories")


def test_thirty_percent_of_llm_calls_failing_loses_nothing(run_cli, llm, figures) -> None:
    # Given an endpoint where 3 of every 10 calls fail with a server error
    counter = itertools.count()
    lock = threading.Lock()
    healthy = llm.default

    def flaky(request: RecordedRequest) -> Reply:
        with lock:
            n = next(counter)
        return server_error(503) if n % 10 in (0, 3, 6) else healthy(request)

    llm.default = flaky

    result = run_cli("--input", str(HF_FILE), "--fresh")

    # Then every paper is summarized, none is lost and the DLQ is empty
    assert result.code == 0, result.stderr
    markdown = result.markdown()
    assert len(source_lines(markdown)) == PAPERS
    assert not _failed_ids(result)
    assert _dlq_bodies(result) == []
    failures = sum(1 for i in range(llm.calls) if i % 10 in (0, 3, 6))
    figures.append(
        f"{PAPERS} papers, 30% of LLM calls failing ({failures} of {llm.calls}): "
        f"{PAPERS} summarized, 0 lost, 0 in DLQ"
    )


def test_a_paper_that_always_fails_ends_in_the_dlq_and_the_digest(run_cli, llm, figures) -> None:
    # Given an endpoint that always fails for one paper (RACER, 2409.14674)
    doomed = "2409.14674"
    healthy = llm.default
    llm.default = lambda request: (
        server_error(500) if f'id="{doomed}"' in request.user_text else healthy(request)
    )

    result = run_cli("--input", str(HF_FILE), "--fresh")

    # Then it is in the DLQ after the last receive, the others are done, the digest marks it
    assert result.code == 0, result.stderr
    assert _failed_ids(result) == {doomed}
    assert _dlq_bodies(result) == [{"date": DATE, "key": doomed, "kind": "paper"}]
    attempts = sum(1 for r in llm.requests if f'id="{doomed}"' in r.user_text)
    assert attempts == MAX_RECEIVES
    markdown = result.markdown()
    failed_part = markdown.split("## ⚠️", 1)[1]
    assert f"https://arxiv.org/abs/{doomed}" in failed_part
    assert len(source_lines(markdown.split("## ⚠️", 1)[0])) == PAPERS - 1
    warning = next(line for line in result.stderr.splitlines() if "could not be summarized" in line)
    assert warning.startswith("warning: 1 paper could not be summarized (LLMError")
    assert warning.endswith(f": {doomed}; `paperdigest redrive` tries again")
    figures.append(
        f"one paper always failing: in the DLQ after {attempts} receives, "
        f"the other {PAPERS - 1} done, the digest marks it failed"
    )


def test_an_endpoint_failing_every_call_publishes_nothing_and_says_why(
    run_cli, llm, figures, tmp_path
) -> None:
    # Given a published digest, and then an endpoint that fails every call
    state = tmp_path / "state"
    first = run_cli("--input", str(HF_FILE), "--fresh", state=state)
    latest = (first.out / "latest.md").read_bytes()
    healthy = llm.default
    llm.default = lambda request: server_error(503)

    # When the next day's run (English: nothing cached) cannot summarize any paper
    later = ("--date", "2024-09-25", "--language", "en")
    second = run_cli("--input", str(HF_FILE), *later, state=state)

    # Then nothing is published, the latest digest stays, and the error names the cause
    assert first.code == 0 and second.code == 1
    error = second.stderr.strip().splitlines()[-1]
    assert error.startswith(f"error: none of the {PAPERS} papers of 2024-09-25 could be summarized")
    assert "LLMError" in error and "paperdigest redrive" in error
    assert f"2024-09-25: 0 of {PAPERS} papers summarized, {PAPERS} failed in " in second.stderr
    assert not (first.out / "digests" / "2024-09-25").exists()
    assert (first.out / "latest.md").read_bytes() == latest
    # And once the endpoint is back, a redrive finishes the run from the saved state
    llm.default = healthy
    argv = ["redrive", "--state", str(state), "--out", str(first.out), "--root", str(REPO)]
    assert main(argv) == 0
    assert (first.out / "digests" / "2024-09-25" / "index.md").is_file()
    figures.append(
        "every LLM call failing: nothing published, the latest digest kept, exit 1 naming the cause"
    )


def test_ingest_run_twice_gives_one_digest_with_the_same_bytes(
    run_cli, llm, figures, tmp_path
) -> None:
    # Given a first run, and a second run of the same input on the same stack
    state = tmp_path / "shared-state"
    first = run_cli("--input", str(HF_FILE), "--fresh", state=state)
    md1 = first.markdown().encode()
    png1 = (first.digest_path.parent / f"paper_{DATE}.png").read_bytes()
    calls_first = llm.calls

    second = run_cli("--input", str(HF_FILE), state=state)

    # Then the second run costs no LLM call and republishes the same bytes, saying so
    assert first.code == second.code == 0
    assert f"warning: replacing the digest of {DATE} (14 papers)" in second.stderr
    assert llm.calls == calls_first
    assert second.markdown().encode() == md1
    assert (second.digest_path.parent / f"paper_{DATE}.png").read_bytes() == png1
    figures.append(f"ingest run twice: one digest, same bytes; LLM calls {calls_first} then 0")


def test_redrive_reruns_the_dead_letters_and_republishes(run_cli, llm, figures, tmp_path) -> None:
    # Given a run where one paper failed for good while the endpoint refused it
    doomed = "2409.14674"
    healthy = llm.default
    llm.default = lambda request: (
        server_error(500) if f'id="{doomed}"' in request.user_text else healthy(request)
    )
    state = tmp_path / "state"
    first = run_cli("--input", str(HF_FILE), "--fresh", state=state)
    assert _failed_ids(first) == {doomed}

    # When the endpoint is healthy again and the dead letters are redriven
    llm.default = healthy
    calls_before = llm.calls
    code = main(["redrive", "--state", str(state), "--out", str(first.out), "--root", str(REPO)])

    # Then the paper is summarized, the digest is republished whole and the DLQ is empty
    assert code == 0
    markdown = first.digest_path.read_text(encoding="utf-8")
    assert "## ⚠️" not in markdown
    assert len(source_lines(markdown)) == PAPERS
    state_json = json.loads((state / "state.json").read_text(encoding="utf-8"))
    assert state_json["queues"]["PapersDLQ"] == []
    categories = _sections(markdown)
    # One new paper call; categories whose papers did not change come from the cache.
    assert 1 <= llm.calls - calls_before <= 1 + categories
    figures.append(
        f"redrive after the endpoint recovers: {PAPERS} of {PAPERS} published, DLQ empty, "
        f"{llm.calls - calls_before} LLM calls"
    )


def test_status_prints_the_runs_counts(run_cli, llm, capsys, tmp_path) -> None:
    state = tmp_path / "state"
    result = run_cli("--input", str(HF_FILE), "--fresh", state=state)
    assert result.code == 0

    code = main(["status", "--state", str(state), "--root", str(REPO)])

    lines = dict(
        line.strip().split(": ", 1) for line in capsys.readouterr().out.strip().splitlines()
    )
    assert code == 0
    assert lines["date"] == DATE and lines["status"] == "published"
    assert lines["selected"] == lines["done"] == str(PAPERS)
    assert lines["failed"] == "0" and lines["in flight"] == "0"
    assert lines["LLM calls"] == str(llm.calls)
    prompt_tokens = sum(100 for _ in llm.requests)  # the fake reports 100 in, 50 out per call
    assert lines["tokens"] == f"{prompt_tokens} in, {prompt_tokens // 2} out"


def test_token_budget_is_enforced_before_calls(run_cli, llm, figures, monkeypatch) -> None:
    # Given a budget that fits about two paper calls (each is estimated at ~1,800 tokens)
    monkeypatch.setenv("MAX_RUN_TOKENS", "4000")

    result = run_cli("--input", str(HF_FILE), "--fresh")

    # Then two calls are made, the rest is written by the embedded summarizer, visibly
    assert result.code == 0, result.stderr
    assert llm.calls == 2
    markdown = result.markdown()
    assert len(source_lines(markdown)) == PAPERS
    # the sections say who wrote them, and why: the budget, not a rejected answer
    assert "토큰 한도에 도달해 이 요약은 내장 요약기가 작성했습니다" in markdown
    assert "LLM 응답을 쓸 수 없어" not in markdown
    record = result.run_record(DATE)
    assert 3000 < int(record["reserved_tokens"]["N"]) <= 4000  # type: ignore[index]
    figures.append(f"token budget 4,000: {llm.calls} LLM calls, the rest embedded and marked")


def test_a_hung_paper_does_not_hold_the_digest_past_the_deadline(
    run_cli, llm, figures, monkeypatch
) -> None:
    # Given an endpoint that never answers for one paper, and a 30-second run deadline
    doomed = "2409.14674"
    healthy = llm.default
    llm.default = lambda request: (
        delayed(600)(request) if f'id="{doomed}"' in request.user_text else healthy(request)
    )
    monkeypatch.setenv("RUN_DEADLINE_S", "30")
    monkeypatch.setenv("LLM_TIMEOUT_S", "500")
    started = time.monotonic()

    result = run_cli("--input", str(HF_FILE), "--fresh")

    # Then the sweep publishes at the deadline what settled; the hung invocation's papers
    # (the hung one and those after it in its batch of at most 5) are listed as failed
    elapsed = time.monotonic() - started
    assert result.code == 0, result.stderr
    assert elapsed < 180
    failed = _failed_ids(result)
    assert doomed in failed and len(failed) <= 5
    markdown = result.markdown()
    failed_part = markdown.split("## ⚠️", 1)[1]
    assert all(f"https://arxiv.org/abs/{i}" in failed_part for i in failed)
    assert len(source_lines(markdown.split("## ⚠️", 1)[0])) == PAPERS - len(failed)
    assert "deadline passed" in result.stderr
    # The abandoned messages are kept for redrive, not lost.
    state = json.loads((result.state / "state.json").read_text(encoding="utf-8"))
    kept = {json.loads(b)["key"] for q in state["queues"].values() for b in q}
    assert failed <= kept
    figures.append(
        f"one invocation hung: published at the deadline after {elapsed:.0f} s with "
        f"{PAPERS - len(failed)} papers, its {len(failed)} marked failed and kept for redrive"
    )
