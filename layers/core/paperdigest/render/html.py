"""Turn our Markdown into sanitised HTML and wrap it in a self-contained page.

The Markdown we publish already escapes every untrusted piece (see ``escape_md``);
this module does not rely on that. markdown-it renders with raw HTML off and makes
links only to our own pages and to arXiv; nh3 then keeps only the tags and
attributes a digest needs, links to http, https or relative targets and images from
relative or https sources. The page needs nothing from another host: no script, no
web font, one inline style block whose hash the page's Content-Security-Policy names.
"""

from __future__ import annotations

import base64
import hashlib
import html
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "a",
        "blockquote",
        "br",
        "code",
        "del",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "hr",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "strong",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
# Dropped with their content, not just unwrapped.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "template", "noscript"})
LINK_SCHEMES = frozenset({"http", "https"})
# The only other host our Markdown links to: arXiv abstract pages built from ids.
LINK_HOSTS = frozenset({"arxiv.org"})
IMAGE_SCHEMES = frozenset({"https"})
LINK_REL = "noopener noreferrer"

STYLE = """
:root{color-scheme:light dark;--fg:#1d1d1f;--bg:#fff;--muted:#6e6e73;--line:#e5e5ea;
--link:#0a58ca}
@media (prefers-color-scheme:dark){:root{--fg:#f2f2f7;--bg:#111114;--muted:#a1a1a6;
--line:#2c2c2e;--link:#6ea8fe}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);line-height:1.65;
font:16px/1.65 system-ui,-apple-system,"Segoe UI","Apple SD Gothic Neo","Malgun Gothic",
"Noto Sans KR",sans-serif;-webkit-text-size-adjust:100%}
header,main{max-width:46rem;margin:0 auto;padding:0 1rem}
header{padding-top:1rem}
nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem;font-size:.9rem}
nav a{color:var(--muted)}
main{padding-bottom:2rem;overflow-wrap:anywhere}
h1{font-size:1.6rem;line-height:1.3}
h2{font-size:1.3rem;margin-top:2.2rem;padding-top:1rem;border-top:1px solid var(--line)}
a{color:var(--link)}
img{display:block;max-width:100%;height:auto;margin:1rem auto;background:#fff}
ul,ol{padding-left:1.4rem}
li{margin:.3rem 0}
hr{border:0;border-top:1px solid var(--line);margin:2rem 0}
table{border-collapse:collapse;display:block;overflow-x:auto}
th,td{border:1px solid var(--line);padding:.3rem .6rem}
""".strip()


@dataclass(frozen=True, slots=True)
class Page:
    """One HTML page: its sanitised body and the chrome around it.

    ``nav`` and ``alternates`` hold ``(label, href)`` pairs that we build ourselves
    (never from input); they are still escaped when written.
    """

    title: str
    language: str
    body: str
    nav: tuple[tuple[str, str], ...] = ()
    feed: str = ""
    alternates: tuple[tuple[str, str], ...] = ()


@cache
def _parser() -> MarkdownIt:
    # NOTE: raw HTML off: our Markdown carries none on purpose. Linkify stays on for
    # the bare arXiv links of the source lines, and link validation turns every other
    # host down, so a URL in a title or in model text stays text.
    parser = MarkdownIt("gfm-like", {"html": False})
    parser.validateLink = _markdown_link_allowed  # type: ignore[method-assign]
    return parser


def _markdown_link_allowed(url: str) -> bool:
    """Return whether the Markdown may link to ``url``: our own pages or an allowed host."""
    if not is_allowed_url(url, LINK_SCHEMES):
        return False
    parts = urlsplit(url.strip())
    return not parts.scheme or (parts.scheme == "https" and parts.hostname in LINK_HOSTS)


def markdown_to_html(markdown: str) -> str:
    """Return the sanitised HTML fragment of ``markdown``."""
    return sanitize(_parser().render(markdown))


def sanitize(fragment: str) -> str:
    """Return ``fragment`` with only the digest's tags, attributes and URL kinds left.

    Scripts, styles and frames go with their content; event handlers and ``style``
    attributes go; links keep http, https and relative targets; images keep relative
    and https sources. Anything else is dropped, never rewritten.
    """
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        url_schemes=set(LINK_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Keep an attribute value, or drop it (``None``) when it is a URL we do not allow."""
    if attribute == "href":
        return value if is_allowed_url(value, LINK_SCHEMES) else None
    if attribute == "src":
        return value if is_allowed_url(value, IMAGE_SCHEMES) else None
    return value


def is_allowed_url(value: str, schemes: frozenset[str]) -> bool:
    """Return whether ``value`` is relative to this site or uses one of ``schemes``.

    A scheme-relative URL (``//host``) or one with a backslash counts as another
    host and is refused: browsers read ``\\`` as ``/`` in web URLs.
    """
    text = value.strip()
    if not text:
        return True
    if "\\" in text or any(ord(c) < 0x20 for c in text):
        return False
    parts = urlsplit(text)
    if parts.scheme:
        return parts.scheme.lower() in schemes and bool(parts.netloc)
    return not parts.netloc and not text.startswith("//")


def style_hash() -> str:
    """Return the CSP source that allows exactly our inline style block."""
    digest = hashlib.sha256(STYLE.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy() -> str:
    """Return the page's policy: same-host images, our style block, nothing else."""
    return (
        f"default-src 'none'; img-src 'self'; style-src {style_hash()}; "
        "base-uri 'none'; form-action 'none'"
    )


def render_page(page: Page) -> str:
    """Return the full HTML document of ``page``; ``page.body`` must already be sanitised."""
    esc = html.escape
    head = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(page.language)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy()}">',
        '<meta name="referrer" content="strict-origin-when-cross-origin">',
        f"<title>{esc(page.title)}</title>",
    ]
    if page.feed:
        head.append(
            '<link rel="alternate" type="application/atom+xml" '
            f'title="{esc(page.title)}" href="{esc(page.feed)}">'
        )
    for kind, href in page.alternates:
        head.append(f'<link rel="alternate" type="{esc(kind)}" href="{esc(href)}">')
    head.extend([f"<style>{STYLE}</style>", "</head>", "<body>"])

    links = " ".join(f'<a href="{esc(href)}">{esc(label)}</a>' for label, href in page.nav)
    body = [
        f"<header><nav>{links}</nav></header>" if page.nav else "",
        "<main>",
        page.body.strip(),
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join([*head, *(part for part in body if part)]) + "\n"
