"""Text to safe HTML: the author's Markdown, visitors' plain text, and outside HTML through an allowlist."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

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
    return sanitize_post_html(raw)


def sanitize_post_html(fragment: str) -> str:
    """A post's HTML (rendered Markdown, or an imported body) reduced to what a post page may show."""
    return nh3.clean(
        fragment, tags=_POST_TAGS, attributes=_POST_ATTRIBUTES, url_schemes=_URL_SCHEMES, link_rel="noopener"
    )


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


def html_to_plain_message(fragment: str) -> str:
    """A comment's HTML back to text a visitor can edit: paragraphs become blank lines, <br> a line break."""
    text = re.sub(r"</p>\s*<p[^>]*>", "\n\n", fragment, flags=re.I)
    text = re.sub(r"<br\s*/?>\n?", "\n", text, flags=re.I)
    return html.unescape(nh3.clean(text, tags=set())).strip()


# Block-level boundaries become spaces, or "<p>one</p><p>two</p>" would read "onetwo".
_BLOCK_BOUNDARY = re.compile(r"<(?:/?(?:p|div|li|ul|ol|h[1-6]|blockquote|pre|tr|td|th|figure)\b[^>]*|br\s*/?)>", re.I)


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (excerpts, feed summaries, OpenGraph descriptions)."""
    without_tags = nh3.clean(_BLOCK_BOUNDARY.sub(" ", fragment), tags=set())
    return re.sub(r"\s+", " ", html.unescape(without_tags)).strip()


def excerpt(fragment: str, limit: int = 280) -> str:
    return excerpt_of_text(html_to_text(fragment), limit)


# What an excerpt leaves out: headings (the title is already above it), code blocks, tables, footnotes.
_LEFT_OUT_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "script", "style", "template"}
_LEFT_OUT_CLASSES = {"footnote", "footnote-ref", "footnotes"}
_VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_BLOCK_TAGS = {"p", "div", "li", "ul", "ol", "blockquote", "tr", "td", "th", "figure", "figcaption", "dd", "dt", "br"}


class _ReadingText(HTMLParser):
    """The running text of a post's HTML, without the parts an excerpt leaves out (see post_excerpt)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []  # the open elements inside a left-out subtree, outermost first

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID_TAGS:
            if tag == "br" and not self.skipping:
                self.parts.append(" ")
            return
        classes = set((dict(attrs).get("class") or "").split())
        if self.skipping or tag in _LEFT_OUT_TAGS or classes & _LEFT_OUT_CLASSES or _is_footnote_mark(tag, attrs):
            self.skipping.append(tag)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag in self.skipping:
                del self.skipping[len(self.skipping) - 1 - self.skipping[::-1].index(tag) :]
            return
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)

    def text(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.parts)).strip()


def _is_footnote_mark(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    """Python-Markdown's footnote reference: <sup id="fnref:1">…</sup>."""
    return tag == "sup" and (dict(attrs).get("id") or "").startswith("fnref")


@dataclass(frozen=True)
class Excerpt:
    text: str
    shortened: bool  # True when the post has more than the excerpt shows: "Continue reading" is worth a link

    def __str__(self) -> str:
        return self.text


def reading_text(fragment: str) -> str:
    """The text a reader reads through: the HTML without headings, code blocks, tables and footnotes."""
    parser = _ReadingText()
    parser.feed(fragment)
    parser.close()
    return parser.text()


def post_excerpt(body_html: str, limit: int = 280) -> Excerpt:
    """The opening of a post for lists and feeds, cut at a word; `shortened` when anything of the post is not in
    it (the text goes on, or a heading, code block, table or footnote was left out)."""
    text = reading_text(body_html)
    cut = excerpt_of_text(text, limit)
    return Excerpt(cut, shortened=cut != text or len(text) < len(html_to_text(body_html)))


def excerpt_of_text(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",.;:") + "…"
