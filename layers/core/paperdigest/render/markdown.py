"""Render a Digest as the day's Markdown page, in the structure of the reference digest.

Titles, abstracts and model text are untrusted: every piece of them goes through
``escape_md`` so that it shows as the text it is and never as Markdown or HTML. Links
are built from arXiv ids only, never taken from model text. This module must not
import matplotlib: the publisher imports it at cold start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from paperdigest.models import Digest, Finding, Paper, Section

TITLE = "# Daily Artificial Intelligence Insights : Papers"
CHART_ALT = "Category Distribution Graph"
FAILED_EMOJI = "⚠️"
EMBEDDED = "embedded"
LLM_PREFIX = "llm:"

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A canonical abstract link as Paper.link builds it; anything else is not autolinked.
_SAFE_LINK = re.compile(r"https://arxiv\.org/abs/[A-Za-z0-9.\-/]+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_WHITESPACE = re.compile(r"\s+")
_ENTITY_LIKE = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
# NOTE: parentheses stay as they are: with brackets escaped no link can form, and
# escaping them would litter the raw Markdown that people read.
_PUNCTUATION = re.compile(r"([\\`*_\[\]|#~])")
_LIST_NUMBER = re.compile(r"^(\d+)([.)])")


@dataclass(frozen=True, slots=True)
class Labels:
    """Every fixed piece of text of the page in one language."""

    summary: str
    sources: str
    themes: str
    trends: str
    findings: str
    impact: str
    outlook: str
    no_summary: str
    no_text: str
    fallback_note: str
    budget_note: str
    failed_heading: str
    failed_intro: str
    failed_mark: str
    embedded_footer: str
    llm_footer: str
    other_footer: str
    paper_count: str
    paper_count_one: str
    failed_count: str


LABELS: dict[str, Labels] = {
    "ko": Labels(
        summary="요약",
        sources="출처",
        themes="주요 주제",
        trends="공통 키워드 및 동향",
        findings="논문별 핵심 발견",
        impact="분야별 영향",
        outlook="결론 및 전망",
        no_summary="_요약을 만들지 못했습니다._",
        no_text="_내용이 없습니다._",
        fallback_note="_LLM 응답을 쓸 수 없어 이 요약은 내장 요약기가 작성했습니다._",
        budget_note="_실행의 토큰 한도에 도달해 이 요약은 내장 요약기가 작성했습니다._",
        failed_heading="요약 실패",
        failed_intro="다음 논문은 요약하지 못했습니다.",
        failed_mark="**요약 실패**",
        embedded_footer="요약 작성: LLM 없이 내장 추출 요약기(embedded extractive summarizer)",
        llm_footer="요약 작성: 모델 {model}, 토큰 {tokens}개, 예상 비용 ≈ ${cost}",
        other_footer="요약 작성: {engine}",
        paper_count="논문 {count}편",
        paper_count_one="논문 {count}편",
        failed_count=" (요약 실패 {count}편)",
    ),
    "en": Labels(
        summary="Summary",
        sources="Sources",
        themes="Main themes",
        trends="Keywords and trends",
        findings="Key findings",
        impact="Impact",
        outlook="Conclusion and outlook",
        no_summary="_The summary could not be written._",
        no_text="_Nothing was written._",
        fallback_note=(
            "_The model's answer could not be used; the embedded summarizer wrote this summary._"
        ),
        budget_note=(
            "_The run's token budget was spent; the embedded summarizer wrote this summary._"
        ),
        failed_heading="Not summarized",
        failed_intro="These papers could not be summarized.",
        failed_mark="**failed**",
        embedded_footer=("Summaries written by the embedded extractive summarizer, with no LLM"),
        llm_footer="Summaries written by model {model}, {tokens} tokens, ≈ ${cost}",
        other_footer="Summaries written by {engine}",
        paper_count="{count} papers",
        paper_count_one="{count} paper",
        failed_count=" ({count} not summarized)",
    ),
}


def labels_for(language: str) -> Labels:
    """Return the labels of ``language``; raise ``ValueError`` for a language we lack."""
    try:
        return LABELS[language]
    except KeyError:
        known = ", ".join(sorted(LABELS))
        raise ValueError(f"unsupported language {language!r} (known: {known})") from None


def escape_md(text: str) -> str:
    """Return ``text`` as Markdown that renders as exactly that text, on one line.

    Whitespace runs (newlines included) collapse to one space and control characters
    are dropped; Markdown punctuation is backslash-escaped; ``<`` and ``>`` become
    entities so no HTML tag survives; ``&`` that would start an entity is escaped; a
    leading ``-``, ``+``, ``=`` or ``1.`` cannot start a list, rule or heading.
    """
    text = _WHITESPACE.sub(" ", _CONTROL.sub("", text)).strip()
    text = _ENTITY_LIKE.sub("&amp;", text)
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    text = _PUNCTUATION.sub(r"\\\1", text)
    if text[:1] in ("-", "+", "="):
        return "\\" + text
    return _LIST_NUMBER.sub(r"\1\\\2", text)


def render_markdown(digest: Digest) -> str:
    """Return the digest page as Markdown, the same bytes for the same digest.

    Raises ``ValueError`` when ``digest.language`` has no labels or ``digest.date`` is
    not ``YYYY-MM-DD`` (it names the chart file the page links to).
    """
    labels = labels_for(digest.language)
    if not _DATE.fullmatch(digest.date):
        raise ValueError(f"digest date {digest.date!r} is not YYYY-MM-DD")

    blocks = [TITLE, f"![{CHART_ALT}]({digest.chart_name})"]
    for section in digest.sections:
        blocks.extend(_section_blocks(section, labels))
    if digest.failed:
        blocks.extend(_failed_blocks(digest.failed, labels))
    blocks.extend(["---", _footer(digest, labels)])
    return "\n\n".join(blocks) + "\n"


def _section_blocks(section: Section, labels: Labels) -> list[str]:
    """Return the Markdown blocks of one category: heading, five-part summary, sources."""
    category = section.category
    blocks = [f"## {category.emoji} {escape_md(category.name)}", f"**{labels.summary}:**"]

    synthesis = section.synthesis
    if synthesis is None:
        blocks.append(labels.no_summary)
    else:
        if synthesis.fallback:
            budget = synthesis.fallback_reason == "budget"
            blocks.append(labels.budget_note if budget else labels.fallback_note)
        titles = {paper.arxiv_id: paper.title for paper in section.papers}
        parts = [
            (labels.themes, _prose(synthesis.themes, labels)),
            (labels.trends, _prose(synthesis.trends, labels)),
            (labels.findings, _findings(synthesis.findings, titles, labels)),
            (labels.impact, _prose(synthesis.impact, labels)),
            (labels.outlook, _prose(synthesis.outlook, labels)),
        ]
        for number, (heading, body) in enumerate(parts, start=1):
            blocks.extend([f"**{number}. {heading}**", body])

    blocks.append(f"**{labels.sources}:**")
    if section.papers:
        blocks.append("\n".join(_paper_line(paper) for paper in section.papers))
    return blocks


def _prose(text: str, labels: Labels) -> str:
    """Return one escaped paragraph, or the "nothing written" mark when it is empty."""
    return escape_md(text) or labels.no_text


def _findings(findings: list[Finding], titles: dict[str, str], labels: Labels) -> str:
    """Return the numbered findings, each led by its paper's title in bold.

    A finding whose id is not a paper of the section is shown under its escaped id.
    """
    lines = []
    for number, finding in enumerate(findings, start=1):
        label = escape_md(titles.get(finding.arxiv_id, finding.arxiv_id))
        lines.append(f"{number}. **{label}** — {_prose(finding.text, labels)}")
    return "\n".join(lines) or labels.no_text


def _paper_line(paper: Paper, mark: str = "") -> str:
    """Return a source line: the escaped title and the abstract link built from the id."""
    link = paper.link
    shown = link if _SAFE_LINK.fullmatch(link) else escape_md(link)
    line = f" - {escape_md(paper.title)} ({shown})"
    return f"{line} — {mark}" if mark else line


def _failed_blocks(failed: list[Paper], labels: Labels) -> list[str]:
    """Return the closing section that lists the papers no summary was written for."""
    lines = "\n".join(_paper_line(paper, labels.failed_mark) for paper in failed)
    return [f"## {FAILED_EMOJI} {labels.failed_heading}", labels.failed_intro, lines]


def _footer(digest: Digest, labels: Labels) -> str:
    """Return the line that counts the papers and names what wrote the prose."""
    summarized = sum(len(section.papers) for section in digest.sections)
    total = summarized + len(digest.failed)
    template = labels.paper_count_one if total == 1 else labels.paper_count
    count = template.format(count=total)
    if digest.failed:
        count += labels.failed_count.format(count=len(digest.failed))

    model = digest.engine.removeprefix(LLM_PREFIX)
    if digest.engine == EMBEDDED:
        engine = labels.embedded_footer
    elif digest.engine.startswith(LLM_PREFIX) and model:
        engine = labels.llm_footer.format(
            model=escape_md(model),
            tokens=f"{digest.usage.total_tokens:,}",
            cost=f"{digest.usage.cost_usd:.4f}",
        )
    else:
        engine = labels.other_footer.format(engine=escape_md(digest.engine))
    return f"{count} · {engine}."
