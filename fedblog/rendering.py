"""Text to safe HTML: the author's Markdown, visitors' plain text, and outside HTML through an allowlist."""

from __future__ import annotations

import html
import re

import markdown
import nh3

# What the author's Markdown may produce (author-trusted, but still no script or event handlers).
_POST_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
_POST_ATTRIBUTES = {
    "*": {"id", "class", "lang", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "loading"},
    "ol": {"start", "reversed"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
}
_URL_SCHEMES = {"http", "https", "mailto"}
_URL_RE = re.compile(r"\bhttps?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]", re.IGNORECASE)


def render_markdown(text: str) -> str:
    raw = markdown.markdown(
        text,
        extensions=["fenced_code", "tables", "sane_lists", "smarty", "footnotes", "attr_list"],
        output_format="html",
    )
    return nh3.clean(raw, tags=_POST_TAGS, attributes=_POST_ATTRIBUTES, url_schemes=_URL_SCHEMES, link_rel="noopener")


def plain_text_to_html(text: str) -> str:
    """A visitor's message: escaped, blank lines make paragraphs, single newlines <br>, URLs become links."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    paragraphs = [part for part in re.split(r"\n\s*\n", text) if part.strip()]
    return "".join(f"<p>{_autolink_escaped(part.strip())}</p>" for part in paragraphs)


def _autolink_escaped(text: str) -> str:
    pieces: list[str] = []
    position = 0
    for match in _URL_RE.finditer(text):
        pieces.append(html.escape(text[position : match.start()]))
        url = html.escape(match.group(0))
        pieces.append(f'<a href="{url}" rel="nofollow ugc">{url}</a>')
        position = match.end()
    pieces.append(html.escape(text[position:]))
    return "<br>\n".join("".join(pieces).split("\n"))


# Block-level boundaries become spaces, or "<p>one</p><p>two</p>" would read "onetwo".
_BLOCK_BOUNDARY = re.compile(r"<(?:/?(?:p|div|li|ul|ol|h[1-6]|blockquote|pre|tr|td|th|figure)\b[^>]*|br\s*/?)>", re.I)


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (excerpts, feed summaries, OpenGraph descriptions)."""
    without_tags = nh3.clean(_BLOCK_BOUNDARY.sub(" ", fragment), tags=set())
    return re.sub(r"\s+", " ", html.unescape(without_tags)).strip()


def excerpt(fragment: str, limit: int = 280) -> str:
    text = html_to_text(fragment)
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",.;:") + "…"
