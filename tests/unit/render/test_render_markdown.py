"""The Markdown page: structure of the reference digest, labels, escaping, footer."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt
from render_samples import CATEGORY_OF, FAILED_IDS, NO_SYNTHESIS, build_digest, load_papers

from paperdigest.models import Digest, Finding, Paper
from paperdigest.render import escape_md, render_markdown
from paperdigest.render.markdown import LABELS, TITLE
from paperdigest.taxonomy import load_taxonomy

HOSTILE_TITLE = "[x](javascript:alert(1)) <script>alert(1)</script> *bold* | a | b"


class _Text(HTMLParser):
    """Collects the visible text of HTML, and of each <li> on its own."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.items: list[str] = []
        self.tags: list[str] = []
        self._item: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "li":
            self._item = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "li" and self._item is not None:
            self.items.append("".join(self._item).strip())
            self._item = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._item is not None:
            self._item.append(data)


def html_of(markdown: str) -> str:
    return MarkdownIt("gfm-like").render(markdown)


def visible(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    return parser


def section_chunks(markdown: str) -> dict[str, str]:
    """Return each ``## `` section's body keyed by its heading line."""
    chunks = re.split(r"^(## .*)$", markdown, flags=re.MULTILINE)
    return dict(zip(chunks[1::2], chunks[2::2], strict=True))


def test_page_opens_with_title_then_chart_on_its_own_line(digest: Digest) -> None:
    markdown = render_markdown(digest)

    lines = markdown.splitlines()
    assert lines[0] == TITLE
    assert lines[1] == ""
    assert lines[2] == "![Category Distribution Graph](paper_2024-09-24.png)"
    assert '<img src="paper_2024-09-24.png" alt="Category Distribution Graph"' in html_of(markdown)


def test_section_headings_in_order_with_emoji(digest: Digest) -> None:
    markdown = render_markdown(digest)

    taxonomy = load_taxonomy()
    used = [c for c in taxonomy.categories if c.id in set(CATEGORY_OF.values())]
    expected = [f"## {c.emoji} {c.name}" for c in used] + ["## ⚠️ 요약 실패"]
    assert re.findall(r"^## .*$", markdown, flags=re.MULTILINE) == expected


def test_each_section_has_summary_and_sources(digest: Digest) -> None:
    chunks = section_chunks(render_markdown(digest))

    categories = [h for h in chunks if "요약 실패" not in h]
    assert len(categories) == len(digest.sections)
    for heading in categories:
        body = chunks[heading]
        assert body.count("**요약:**") == 1, heading
        assert body.count("**출처:**") == 1, heading
        assert body.index("**요약:**") < body.index("**출처:**")


def test_every_paper_listed_once_with_its_arxiv_link(digest: Digest) -> None:
    markdown = render_markdown(digest)

    papers = load_papers()
    assert len(papers) == 14
    for paper in papers:
        link = f"https://arxiv.org/abs/{paper.arxiv_id}"
        assert markdown.count(link) == 1, paper.arxiv_id
    for section in digest.sections:
        for paper in section.papers:
            line = f" - {escape_md(paper.title)} (https://arxiv.org/abs/{paper.arxiv_id})"
            assert markdown.splitlines().count(line) == 1
    assert "huggingface.co" not in markdown


def test_sources_render_as_links_with_the_real_titles(digest: Digest) -> None:
    html = html_of(render_markdown(digest))

    items = visible(html).items
    for section in digest.sections:
        for paper in section.papers:
            assert f"{paper.title} (https://arxiv.org/abs/{paper.arxiv_id})" in items
            assert f'<a href="https://arxiv.org/abs/{paper.arxiv_id}">' in html


def test_five_parts_in_order_with_numbered_findings(digest: Digest) -> None:
    chunks = section_chunks(render_markdown(digest))

    labels = LABELS["ko"]
    parts = [labels.themes, labels.trends, labels.findings, labels.impact, labels.outlook]
    for section in digest.sections:
        if section.synthesis is None:
            continue
        body = chunks[f"## {section.category.emoji} {section.category.name}"]
        positions = [body.index(f"**{n}. {part}**") for n, part in enumerate(parts, start=1)]
        assert positions == sorted(positions)
        for number, paper in enumerate(section.papers, start=1):
            assert f"{number}. **{escape_md(paper.title)}** — " in body


def test_section_without_synthesis_says_so_and_lists_sources(digest: Digest) -> None:
    chunks = section_chunks(render_markdown(digest))

    section = next(s for s in digest.sections if s.category.id == NO_SYNTHESIS)
    body = chunks[f"## {section.category.emoji} {section.category.name}"]
    assert "_요약을 만들지 못했습니다._" in body
    assert LABELS["ko"].themes not in body
    for paper in section.papers:
        assert f"https://arxiv.org/abs/{paper.arxiv_id}" in body


def test_failed_papers_are_listed_and_marked(digest: Digest) -> None:
    chunks = section_chunks(render_markdown(digest))

    body = chunks["## ⚠️ 요약 실패"]
    assert len(digest.failed) == len(FAILED_IDS)
    for paper in digest.failed:
        line = f" - {escape_md(paper.title)} ({paper.link}) — **요약 실패**"
        assert line in body.splitlines()


def test_english_labels() -> None:
    markdown = render_markdown(build_digest(language="en"))

    for label in ("**Summary:**", "**Sources:**", "## ⚠️ Not summarized", "— **failed**"):
        assert label in markdown
    for number, part in enumerate(
        ["Main themes", "Keywords and trends", "Key findings", "Impact", "Conclusion and outlook"],
        start=1,
    ):
        assert f"**{number}. {part}**" in markdown
    assert "_The summary could not be written._" in markdown
    for korean in ("요약:", "출처:", "주요 주제", "요약 실패"):
        assert korean not in markdown


def test_unknown_language_raises() -> None:
    digest = build_digest(language="fr")

    with pytest.raises(ValueError, match="fr"):
        render_markdown(digest)


def test_bad_date_raises(digest: Digest) -> None:
    digest.date = "2024-09-24) [x](javascript:alert(1)"

    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        render_markdown(digest)


def test_footer_names_the_embedded_summarizer(digest: Digest) -> None:
    ko = render_markdown(digest).rstrip("\n").splitlines()
    en = render_markdown(build_digest(language="en")).rstrip("\n").splitlines()

    assert ko[-3:-1] == ["---", ""]
    assert "논문 14편" in ko[-1] and "요약 실패 2편" in ko[-1]
    assert "LLM 없이" in ko[-1] and "내장 추출 요약기" in ko[-1]
    assert "14 papers (2 not summarized)" in en[-1]
    assert "embedded extractive summarizer, with no LLM" in en[-1]


def test_footer_names_model_tokens_and_cost() -> None:
    en = render_markdown(build_digest(language="en", engine="llm:gpt-4o-mini"))
    ko = render_markdown(build_digest(engine="llm:gpt-4o-mini"))

    assert "model gpt-4o-mini, 12,345 tokens, ≈ $0.0042" in en.splitlines()[-1]
    assert "모델 gpt-4o-mini, 토큰 12,345개, 예상 비용 ≈ $0.0042" in ko.splitlines()[-1]
    assert "embedded" not in en.splitlines()[-1]


def test_fallback_synthesis_is_flagged() -> None:
    digest = build_digest(language="en", engine="llm:gpt-4o-mini")
    assert digest.sections[0].synthesis is not None
    digest.sections[0].synthesis.fallback = True

    chunks = section_chunks(render_markdown(digest))

    first = next(iter(chunks.values()))
    assert "the embedded summarizer wrote this summary" in first


def test_same_digest_same_bytes() -> None:
    first = render_markdown(build_digest()).encode("utf-8")
    second = render_markdown(build_digest()).encode("utf-8")

    assert first == second


def test_hostile_title_renders_as_its_text(papers: list[Paper]) -> None:
    racer = next(p for p in papers if p.arxiv_id == "2409.14674")
    racer.title = HOSTILE_TITLE
    failed = next(p for p in papers if p.arxiv_id == FAILED_IDS[0])
    failed.title = HOSTILE_TITLE
    digest = build_digest(papers=papers)

    html = html_of(render_markdown(digest))

    assert "<script" not in html
    assert not [href for href in re.findall(r'href="([^"]*)"', html) if "javascript" in href]
    assert "<em>bold" not in html and "<strong>bold" not in html
    assert "<table" not in html
    parsed = visible(html)
    assert f"{HOSTILE_TITLE} (https://arxiv.org/abs/2409.14674)" in parsed.items
    assert any(item.startswith(f"{HOSTILE_TITLE} (https://arxiv.org/abs/") for item in parsed.items)
    links = re.findall(r"<a [^>]*>", html)
    assert all(re.fullmatch(r'<a href="https://arxiv\.org/abs/[0-9.]+">', a) for a in links)
    assert sum(item.count(HOSTILE_TITLE) for item in parsed.items) == 3


def test_hostile_model_text_cannot_break_structure(digest: Digest) -> None:
    synthesis = digest.sections[0].synthesis
    assert synthesis is not None
    synthesis.themes = "- not a list\n\n## Injected heading\n<img src=x onerror=alert(1)>"
    synthesis.trends = "1. not a list either"
    synthesis.impact = "---"
    synthesis.outlook = "```\ncode fence"
    synthesis.findings = [
        dataclasses.replace(synthesis.findings[0], text="see [here](https://evil.example)"),
        Finding("9999.99999", "made-up paper"),
    ]

    markdown = render_markdown(digest)
    html = html_of(markdown)

    assert "Injected heading" not in re.findall(r"^## .*$", markdown, flags=re.MULTILINE)
    assert "<h2>Injected" not in html and "<img src=x" not in html and "<pre" not in html
    assert ">here</a>" not in html
    text = "".join(visible(html).text)
    assert "- not a list ## Injected heading <img src=x onerror=alert(1)>" in text
    assert "1. not a list either" in text
    assert "9999.99999 — made-up paper" in text
    assert "<hr />" in html and html.count("<hr />") == 1


@pytest.mark.parametrize(
    "text",
    [
        "a_b_c and __init__",
        "**x** and *y*",
        "`code` and ``more``",
        "[x](y) ![i](z)",
        "<b>hi</b> <!-- c --> <https://a.example>",
        "&lt; &amp; &#60; & AT&T",
        "# heading",
        "- item",
        "+ item",
        "* item",
        "1. item",
        "1) item",
        "> quote",
        "a | b | c",
        "~~struck~~",
        "back\\slash\\*",
        "===",
        "---",
        "foo\nbar\r\n\tbaz",
        "trailing two spaces  \nnext",
        "    indented code",
        "unicode 한글 テスト ∑",
        "nul\x00byte",
    ],
)
def test_escape_md_renders_as_the_text(text: str) -> None:
    html = html_of(escape_md(text))

    expected = " ".join(text.replace("\x00", "").split())
    assert html.startswith("<p>") and html.count("<p>") == 1
    assert "".join(visible(html).text).strip() == expected
    assert not {"em", "strong", "code", "img", "b", "s", "del", "h1", "li"} & set(
        visible(html).tags
    )


def test_escape_md_keeps_one_line() -> None:
    assert "\n" not in escape_md("a\nb\u2028c\rd")


def test_markdown_module_does_not_import_matplotlib() -> None:
    code = (
        "import sys, paperdigest.render, paperdigest.render.markdown;"
        "print('matplotlib' in sys.modules)"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "False"
