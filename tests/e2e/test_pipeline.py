"""The whole pipeline on real recorded input, through the local stack and the real handlers."""

from __future__ import annotations

import json
import re
import struct

import pytest

from paperdigest.taxonomy import load_taxonomy

from .conftest import FIXTURES, source_lines

pytestmark = pytest.mark.e2e

HF_FILE = FIXTURES / "hf-2024-09-24.json"
API_FILE = FIXTURES / "e2e" / "arxiv-api_cs.AI-LG-CL_25entries_2026-05-13.xml"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _assert_reference_structure(markdown: str, date: str, summary: str, sources: str) -> None:
    lines = markdown.splitlines()
    assert lines[0] == "# Daily Artificial Intelligence Insights : Papers"
    assert f"![Category Distribution Graph](paper_{date}.png)" in markdown
    headings = [line for line in lines if line.startswith("## ")]
    taxonomy = load_taxonomy()
    known = {f"## {c.emoji} {c.name}" for c in taxonomy.categories}
    sections = [h for h in headings if h in known]
    assert sections, "no category section"
    body = markdown.split(sections[0], 1)[1]
    for heading in sections:
        chunk = markdown.split(heading, 1)[1].split("\n## ", 1)[0]
        assert f"**{summary}:**" in chunk, heading
        assert f"**{sources}:**" in chunk, heading
        assert source_lines(chunk), heading
    assert body


def test_hugging_face_day_gives_a_reference_digest(run_cli) -> None:
    # Given the Hugging Face daily papers of 2024-09-24 (14 papers, 6 of them in the reference)
    papers = json.loads(HF_FILE.read_text(encoding="utf-8"))["papers"]

    # When the pipeline runs once on it
    result = run_cli("--input", str(HF_FILE), "--fresh")

    # Then a digest is published for the announcement date, with every paper once
    assert result.code == 0, result.stderr
    assert result.digest_path == result.out / "digests" / "2024-09-24" / "index.md"
    # (stderr is not a terminal here: plain lines, no progress bar redrawn with \r)
    assert "\r" not in result.stderr
    assert re.search(r"^2024-09-24: 14 of 14 papers summarized in ", result.stderr, re.M)
    markdown = result.markdown()
    _assert_reference_structure(markdown, "2024-09-24", "요약", "출처")
    links = [m["link"] for m in source_lines(markdown)]
    expected = {p["url"].rsplit("/", 1)[-1] for p in papers}
    assert sorted(links) == sorted(f"https://arxiv.org/abs/{i}" for i in expected)
    assert set(result.selected_ids("2024-09-24")) == expected
    width, _ = _png_size((result.digest_path.parent / "paper_2024-09-24.png").read_bytes())
    assert width >= 800
    assert "embedded extractive summarizer" in markdown
    # The log holds every process's lines whole: ingest, each paper's consumer, publish
    records = result.log_records()
    summarized = [r["paper_id"] for r in records if r.get("message") == "paper summarized"]
    assert sorted(summarized) == sorted(expected)
    functions = {r.get("function_name") for r in records if "message" in r}
    assert {"IngestFunction", "SummarizeFunction", "PublishFunction"} <= functions
    # Like the reference: several categories, and papers by upvotes within each
    upvotes = {p["url"].rsplit("/", 1)[-1]: p["upvotes"] for p in papers}
    sections = markdown.split("\n## ")[1:]
    assert len([s for s in sections if "**출처:**" in s]) >= 4
    for section in sections:
        ids = [m["link"].rsplit("/", 1)[-1] for m in source_lines("\n" + section)]
        votes = [upvotes[i] for i in ids]
        assert votes == sorted(votes, reverse=True), section.splitlines()[0]


def test_arxiv_api_response_in_english_with_a_paper_cap(run_cli) -> None:
    # Given a current-layout arXiv API response of 25 papers
    result = run_cli("--input", str(API_FILE), "--fresh", "--language", "en", "--max-papers", "8")

    # Then eight of them are published in English, each once, and they are the run's selection
    assert result.code == 0, result.stderr
    date = result.digest_path.parent.name
    markdown = result.markdown()
    _assert_reference_structure(markdown, date, "Summary", "Sources")
    links = [m["link"] for m in source_lines(markdown)]
    assert len(links) == len(set(links)) == 8
    selected = result.selected_ids(date)
    assert sorted(links) == sorted(f"https://arxiv.org/abs/{i}" for i in selected)
    assert not re.search("[\uac00-\ud7a3]", markdown), "Korean text in an English digest"


def test_second_run_sees_the_first_runs_state(run_cli, tmp_path) -> None:
    # Given a run on the arXiv response, then a run on the Hugging Face day with the same state
    first = run_cli("--input", str(API_FILE), "--fresh", "--max-papers", "3")
    second = run_cli("--input", str(HF_FILE), "--max-papers", "3")

    # Then both digests are kept and both runs are recorded
    assert first.code == second.code == 0
    assert first.digest_path.exists() and second.digest_path.exists()
    dates = {item["pk"]["S"] for item in second.table_items() if item["sk"] == {"S": "RUN"}}
    assert {"RUN#2024-09-24", f"RUN#{first.digest_path.parent.name}"} <= dates


def test_unreadable_input_is_a_clear_error(run_cli, tmp_path) -> None:
    # Given an input that is an HTML error page
    page = tmp_path / "error.html"
    page.write_text("<!DOCTYPE html><html><body>503 Service Unavailable</body></html>")

    # Then the run fails with one line naming the input, and publishes nothing
    result = run_cli("--input", str(page), "--fresh")
    assert result.code == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "error.html" in result.stderr
    assert not (result.out / "digests").exists()


def test_input_whose_every_entry_is_broken_is_an_error_not_a_quiet_day(run_cli, tmp_path) -> None:
    # Given the real day file with the title taken out of every paper
    document = json.loads(HF_FILE.read_text(encoding="utf-8"))
    for paper in document["papers"]:
        paper.pop("title")
    broken = tmp_path / "untitled.json"
    broken.write_text(json.dumps(document), encoding="utf-8")

    # When the pipeline runs on it
    result = run_cli("--input", str(broken), "--fresh")

    # Then it fails with one line that names the file, the entries and why, and
    # publishes nothing
    assert result.code == 1
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("error: ")]
    count = len(document["papers"])
    assert f"{count} entries skipped" in line
    first_id = document["papers"][0]["url"].rsplit("/", 1)[-1]
    assert f"{broken}: {first_id}: missing title" in line
    assert "quiet day" not in result.stdout
    assert not (result.out / "digests").exists()


def test_quiet_day_publishes_nothing_and_keeps_the_last_digest(run_cli, tmp_path) -> None:
    # Given a published digest, then an arXiv answer with no papers (HTTP 200, 0 results)
    state = tmp_path / "state"
    first = run_cli("--input", str(HF_FILE), "--fresh", "--max-papers", "2", state=state)
    before = first.markdown()
    empty = FIXTURES / "sources" / "atom" / "lukasschwab_arxiv.py" / "recorded_2026"
    empty_file = next(empty.glob("id_0000.0000_*.json"))

    # When the pipeline runs on the empty answer
    quiet = run_cli("--input", str(empty_file), state=state)

    # Then it exits 0 with a clear message and the last digest stays as it was
    assert quiet.code == 0, quiet.stderr
    assert quiet.stdout.strip().startswith("quiet day:")
    assert first.digest_path.read_text(encoding="utf-8") == before
    digests = sorted(p.name for p in (quiet.out / "digests").iterdir())
    assert digests == ["2024-09-24"]
