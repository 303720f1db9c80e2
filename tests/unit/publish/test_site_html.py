"""The HTML pages: sanitised whatever the input, self-contained, phone-ready, deterministic."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from site_samples import HOSTILE, hostile_papers, hostile_prose, load_papers, make_digest

from paperdigest.render.archive import ArchiveEntry
from paperdigest.render.html import is_allowed_url, markdown_to_html, sanitize
from paperdigest.render.markdown import CHART_ALT
from paperdigest.render.site import render_dated, render_pointers

PREFIX = "digests/"
CHROME_TAGS = {"html", "head", "meta", "title", "link", "style", "body", "header", "nav", "main"}
BODY_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "hr", "img", "li",
    "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")


class Collected(HTMLParser):
    """Every start tag with its attributes, and the page's text, as the browser parses it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag in ("style", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def parse(page: bytes | str) -> Collected:
    parser = Collected()
    parser.feed(page.decode("utf-8") if isinstance(page, bytes) else page)
    parser.close()
    return parser


def assert_safe(page: bytes) -> Collected:
    """Assert the page has only our tags, no handler, no script URL, no other host."""
    parsed = parse(page)
    for tag, attrs in parsed.tags:
        assert tag in CHROME_TAGS | BODY_TAGS, tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name != "style", tag
            assert not value.strip().lower().startswith(BAD_SCHEMES), (tag, name, value)
        if tag == "img":
            assert "://" not in attrs["src"] and not attrs["src"].startswith("/"), attrs
        if tag in ("a", "link"):
            href = attrs.get("href", "")
            assert "://" not in href or href.startswith("https://arxiv.org/abs/"), href
    return parsed


def dated_objects(digest_kwargs: dict[str, object] | None = None) -> dict[str, bytes]:
    digest = make_digest(**(digest_kwargs or {}))  # type: ignore[arg-type]
    return {obj.key.rsplit("/", 1)[-1]: obj.body for obj in render_dated(digest, PREFIX)}


@pytest.fixture(scope="module")
def plain() -> dict[str, bytes]:
    return dated_objects()


@pytest.fixture(scope="module")
def hostile() -> dict[str, bytes]:
    return dated_objects({"papers": hostile_papers(), "prose": hostile_prose()})


def test_page_shows_the_chart_with_alt_text_and_is_phone_ready(plain: dict[str, bytes]) -> None:
    # Given the digest page of the recorded day
    parsed = assert_safe(plain["index.html"])

    # Then it has the viewport meta, Korean as its language and the chart with alt text
    tags = parsed.tags
    assert ("html", {"lang": "ko"}) in tags
    assert ("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}) in tags
    images = [attrs for tag, attrs in tags if tag == "img"]
    assert images == [{"src": "paper_2024-09-24.png", "alt": CHART_ALT}]
    headings = [attrs for tag, attrs in tags if tag == "h2"]
    assert len(headings) == 7  # six categories and the papers not summarized


def test_page_needs_nothing_from_another_host(plain: dict[str, bytes]) -> None:
    # Every src is relative, every link relative or an arXiv abstract, styles are inline.
    parsed = assert_safe(plain["index.html"])
    links = [attrs for tag, attrs in parsed.tags if tag == "link"]
    assert all("://" not in attrs["href"] for attrs in links)
    assert b"@import" not in plain["index.html"] and b"url(" not in plain["index.html"]
    arxiv = [a["href"] for t, a in parsed.tags if t == "a" and "://" in a.get("href", "")]
    assert len(arxiv) == 14


def test_english_digest_is_marked_english() -> None:
    page = dated_objects({"language": "en"})["index.html"]
    assert ("html", {"lang": "en"}) in parse(page).tags


def test_hostile_titles_and_model_text_render_as_text(hostile: dict[str, bytes]) -> None:
    # Given titles and model text that carry scripts, handlers, script and data URLs
    parsed = assert_safe(hostile["index.html"])

    # Then no tag or attribute of theirs survives, and each shows as the text it is
    text = " ".join("".join(parsed.text).split())
    for payload in HOSTILE:
        assert payload in text, payload
    assert [a["src"] for t, a in parsed.tags if t == "img"] == ["paper_2024-09-24.png"]


def test_hostile_markdown_files_carry_the_text_escaped(hostile: dict[str, bytes]) -> None:
    markdown = hostile["index.md"].decode("utf-8")
    assert "<script" not in markdown and "<img" not in markdown
    assert not re.search(r"(?<!\\)\]\((javascript|data):", markdown)
    assert "[click me\\](javascript:alert(1))" in markdown


def test_hostile_text_stays_data_in_digest_json(hostile: dict[str, bytes]) -> None:
    # The JSON keeps the titles as they were written: it is data, not a page.
    document = json.loads(hostile["digest.json"])
    titles = {paper["title"] for paper in document["papers"]}
    assert any(title.startswith(HOSTILE[0]) for title in titles)


@pytest.mark.parametrize(
    ("fragment", "forbidden"),
    [
        ("<script>alert(1)</script>ok", "alert"),
        ('<img src=x onerror="alert(1)">', "onerror"),
        ('<a href="javascript:alert(1)">x</a>', "javascript"),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', "avascript"),
        ('<a href="java&#x09;script:alert(1)">x</a>', "script:"),
        ('<a href="&#106;avascript:alert(1)">x</a>', "avascript"),
        ('<a href="data:text/html,<script>alert(1)</script>">x</a>', "data:"),
        ('<img src="data:image/png;base64,AAAA">', "data:"),
        ('<img src="http://evil.example/x.png">', "evil"),
        ('<img src="//evil.example/x.png">', "evil"),
        ('<a href="//evil.example/">x</a>', "evil"),
        ('<a href="\\\\evil.example/">x</a>', "evil"),
        ('<p style="background:url(https://evil.example/x)">x</p>', "style"),
        ('<iframe src="https://evil.example"></iframe>', "iframe"),
        ("<svg><script>alert(1)</script></svg>", "alert"),
        ("<style>body{background:url(https://evil.example)}</style>", "evil"),
        ('<form action="https://evil.example"><input name=a></form>', "form"),
        ("<!-- <script>alert(1)</script> -->", "alert"),
    ],
)
def test_sanitizer_drops_what_a_digest_never_needs(fragment: str, forbidden: str) -> None:
    assert forbidden not in sanitize(fragment).lower()


def test_sanitizer_keeps_what_a_digest_needs() -> None:
    kept = sanitize(
        '<h2>T</h2><p><a href="https://arxiv.org/abs/2409.1">a</a> <a href="index.md">b</a>'
        '<img src="paper_2024-09-24.png" alt="chart"><img src="https://x.example/y.png" alt="y">'
        "<strong>s</strong><em>e</em></p>"
    )
    assert '<a href="https://arxiv.org/abs/2409.1" rel="noopener noreferrer">a</a>' in kept
    assert '<img src="paper_2024-09-24.png" alt="chart">' in kept
    assert '<img src="https://x.example/y.png" alt="y">' in kept
    assert "<strong>s</strong><em>e</em>" in kept


def test_markdown_with_raw_html_and_script_links_renders_inert() -> None:
    # Markdown that was never escaped still cannot carry HTML or a script link through.
    fragment = markdown_to_html(
        "<script>alert(1)</script>\n\n[x](javascript:alert(1)) ![y](data:image/png;base64,AA)"
        " www.evil.example http://evil.example/"
    )
    parsed = parse(fragment)
    assert [(t, a) for t, a in parsed.tags] == [("p", {}), ("p", {})]
    text = "".join(parsed.text)
    assert "<script>alert(1)</script>" in text
    assert "[x](javascript:alert(1)) ![y](data:image/png;base64,AA)" in text
    assert "www.evil.example http://evil.example/" in text


@pytest.mark.parametrize(
    ("url", "schemes", "allowed"),
    [
        ("paper_2024-09-24.png", {"https"}, True),
        ("digests/2024-09-24/index.html", {"http", "https"}, True),
        ("../../index.html", {"http", "https"}, True),
        ("https://arxiv.org/abs/2409.14674", {"https"}, True),
        ("http://arxiv.org/abs/2409.14674", {"https"}, False),
        ("https:evil.example", {"https"}, False),
        ("//evil.example/x", {"https"}, False),
        ("/\\evil.example", {"https"}, False),
        ("javascript:alert(1)", {"http", "https"}, False),
        ("java\nscript:alert(1)", {"http", "https"}, False),
        ("", {"https"}, True),
    ],
)
def test_allowed_urls(url: str, schemes: set[str], allowed: bool) -> None:
    assert is_allowed_url(url, frozenset(schemes)) is allowed


def test_dated_objects_are_the_same_bytes_every_time(plain: dict[str, bytes]) -> None:
    assert dated_objects() == plain


def test_pointer_pages_are_safe_and_the_same_bytes_every_time(
    hostile: dict[str, bytes],
) -> None:
    # Given an archive whose newest digest has hostile titles and model text
    entry = ArchiveEntry.from_digest_document(json.loads(hostile["digest.json"]))
    markdown = hostile["index.md"].decode("utf-8")

    # When the root's objects are rendered twice
    first = render_pointers([entry], markdown, PREFIX)
    second = render_pointers([entry], markdown, PREFIX)

    # Then they are equal, and the latest page shows the chart from the root
    assert [(o.key, o.body) for o in first] == [(o.key, o.body) for o in second]
    pages = {o.key: o.body for o in first}
    latest = assert_safe(pages["latest.html"])
    images = [a["src"] for t, a in latest.tags if t == "img"]
    assert images == ["digests/2024-09-24/paper_2024-09-24.png"]
    archive = assert_safe(pages["index.html"])
    assert [a["src"] for t, a in archive.tags if t == "img"] == ["trend.png"]
    assert "digests/2024-09-24/index.html" in [a.get("href") for t, a in archive.tags]
    assert b"](digests/2024-09-24/index.md)" in pages["index.md"]


def test_papers_in_the_json_have_the_fields_machines_need() -> None:
    digest = make_digest(papers=load_papers())
    objects = render_dated(digest, PREFIX, {"2409.14674": 3.5})
    document = json.loads(objects[-1].body)
    racer = next(p for p in document["papers"] if p["id"] == "2409.14674")
    assert racer["link"] == "https://arxiv.org/abs/2409.14674"
    assert racer["category"] == "imitation" and racer["score"] == 3.5
    assert racer["summary"]["engine"] == "embedded"
    assert {c["id"] for c in document["categories"]} >= {"cv", "llm"}
    assert all(c["synthesis"]["themes"] for c in document["categories"])
    assert document["stats"]["summarized"] == 12 and document["stats"]["failed"] == 2
    assert document["engine"] == "embedded" and document["usage"]["total_tokens"] == 0
    assert [f["id"] for f in document["failed"]] == ["2409.14393", "2409.13926"]
