"""WordPress eXtended RSS (WXR 1.0, 1.1, 1.2: "Tools → Export"), read as a stream of records, pure.

The file is fed to expat in chunks through defusedxml's parser: a DOCTYPE with entity declarations (external
entities, entity-expansion bombs) is refused before anything is expanded or fetched. Each <item> (a post, a page,
an attachment, with its comments) is handed over when it ends and then dropped, so memory holds one item at a time
whatever the file's size. Any problem is a WxrError naming it and its line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError, TreeBuilder
from xml.parsers.expat import ErrorString, ExpatError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

SUPPORTED_VERSIONS = ("1.0", "1.1", "1.2")
WP_NAMESPACE_PREFIX = "{http://wordpress.org/export/"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
CHUNK_BYTES = 64 * 1024
# One item (a post with its comments) larger than this is not a blog post: refused rather than held in memory.
MAX_ITEM_CHARS = 20_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class WxrError(ValueError):
    """The file cannot be imported; the message names the problem and its line."""

    def __init__(self, problem: str, line: int | None) -> None:
        super().__init__(f"line {line}: {problem}" if line else problem)
        self.problem = problem
        self.line = line


@dataclass(frozen=True)
class WxrChannel:
    title: str
    link: str
    base_site_url: str
    base_blog_url: str
    language: str
    version: str


@dataclass(frozen=True)
class WxrAuthor:
    id: int
    login: str
    display_name: str
    email: str


@dataclass(frozen=True)
class WxrTerm:
    """A category or a tag declared at the top of the export."""

    taxonomy: str  # category | post_tag (others are kept but unused)
    slug: str
    name: str
    parent_slug: str
    description: str


@dataclass(frozen=True)
class WxrItemTerm:
    """A category or tag as an item names it: <category domain="category" nicename="slug">Name</category>."""

    taxonomy: str
    slug: str
    name: str


@dataclass(frozen=True)
class WxrComment:
    id: int
    author: str
    author_email: str
    author_url: str
    author_ip: str
    date: datetime
    content: str
    approved: str  # 1 | 0 | spam | trash | post-trashed
    type: str  # '' (comment) | comment | pingback | trackback | …
    parent_id: int
    user_id: int


@dataclass(frozen=True)
class WxrItem:
    line: int
    post_id: int
    post_type: str
    title: str
    link: str
    guid: str
    creator: str
    content: str
    excerpt: str
    date: datetime | None  # UTC; None when the export has no usable date (drafts)
    comment_status: str
    slug: str
    status: str
    parent_id: int
    menu_order: int
    password: str
    attachment_url: str
    terms: tuple[WxrItemTerm, ...] = ()
    comments: tuple[WxrComment, ...] = ()


Record = WxrAuthor | WxrTerm | WxrItem


@dataclass
class WxrReader:
    """Iterate over the records of an export: `for record in WxrReader(stream)`; `channel` is known once the first
    item (or the end) is reached; `bytes_read` tells progress."""

    stream: BinaryIO
    channel: WxrChannel | None = None
    bytes_read: int = 0
    _version: str = ""
    _channel_fields: dict[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Record]:
        # defusedxml's parser sets up the refusals (entity declarations, external references, parameter entities)
        # on its expat parser; elements are then built by the handlers below straight into a C TreeBuilder,
        # without ElementTree's Python event machinery (three times faster on a large export).
        defused = DefusedXMLParser(target=TreeBuilder(), forbid_dtd=False, forbid_entities=True, forbid_external=True)
        expat = defused.parser
        builder = TreeBuilder()
        records: list[Record] = []
        depth = 0
        chars = 0  # text held since the last record ended: bounded, whatever one item holds
        channel: Element | None = None

        def start(name: str, attributes: list[str]) -> None:
            nonlocal depth, channel
            depth += 1
            tag = "{" + name if "}" in name else name
            if depth == 1 and tag != "rss":
                line = expat.CurrentLineNumber
                raise WxrError(f"not a WordPress export: the root element is <{tag}>, not <rss>", line)
            attrs = dict(zip(attributes[::2], attributes[1::2], strict=True)) if attributes else {}
            element = builder.start(tag, attrs)
            if depth == 2 and tag == "channel":
                channel = element

        def data(text: str) -> None:
            nonlocal chars
            chars += len(text)
            if chars > MAX_ITEM_CHARS:
                line = expat.CurrentLineNumber
                raise WxrError(f"an item of more than {MAX_ITEM_CHARS:,} characters is too large to be a post", line)
            builder.data(text)

        def end(name: str) -> None:
            nonlocal depth, chars
            element = builder.end("{" + name if "}" in name else name)
            depth -= 1
            if depth == 2 and channel is not None:
                chars = 0
                channel.remove(element)  # handed over, then dropped: one item in memory at a time
                record = self._channel_child(element, expat.CurrentLineNumber)
                if record is not None:
                    records.append(record)

        expat.StartElementHandler = start
        expat.EndElementHandler = end
        expat.CharacterDataHandler = data
        expat.buffer_text = True
        line = 1
        try:
            while True:
                chunk = self.stream.read(CHUNK_BYTES)
                self.bytes_read += len(chunk)
                expat.Parse(chunk, not chunk)
                line = expat.CurrentLineNumber
                yield from records
                records.clear()
                if not chunk:
                    break
        except (ExpatError, ParseError) as error:
            code = getattr(error, "code", None)
            message = ErrorString(code) if isinstance(code, int) else str(error).split(": line ")[0]
            position = getattr(error, "lineno", None) or (getattr(error, "position", None) or (line,))[0]
            raise WxrError(f"malformed XML ({message})", position) from None
        except DefusedXmlException as error:
            raise WxrError(
                f"refused: the file declares entities ({type(error).__name__}); a WordPress export has none",
                expat.CurrentLineNumber,
            ) from None
        if channel is None:
            raise WxrError("not a WordPress export: no <channel>", line)
        self._finish_channel(line)

    def _channel_child(self, element: Element, line: int) -> Record | None:
        tag = element.tag
        if tag == "item":
            self._finish_channel(line)
            return _item(element, line)
        if not tag.startswith(WP_NAMESPACE_PREFIX):
            if tag in ("title", "link", "language", "description"):
                self._channel_fields[tag] = _text(element)
            return None
        name = tag.split("}", 1)[1]
        if name == "wxr_version":
            version = _text(element)
            if version not in SUPPORTED_VERSIONS:
                raise WxrError(
                    f"unsupported WXR version {version!r} (fedblog reads {', '.join(SUPPORTED_VERSIONS)})", line
                )
            self._version = version
        elif name in ("base_site_url", "base_blog_url"):
            self._channel_fields[name] = _text(element)
        elif name == "author":
            return WxrAuthor(
                id=_int(_wp(element, "author_id")),
                login=_wp(element, "author_login"),
                display_name=_wp(element, "author_display_name") or _wp(element, "author_login"),
                email=_wp(element, "author_email"),
            )
        elif name == "category":
            return WxrTerm(
                "category",
                _wp(element, "category_nicename"),
                _wp(element, "cat_name"),
                _wp(element, "category_parent"),
                _wp(element, "category_description"),
            )
        elif name == "tag":
            return WxrTerm("post_tag", _wp(element, "tag_slug"), _wp(element, "tag_name"), "", "")
        elif name == "term":
            return WxrTerm(
                _wp(element, "term_taxonomy"),
                _wp(element, "term_slug"),
                _wp(element, "term_name"),
                _wp(element, "term_parent"),
                _wp(element, "term_description"),
            )
        return None

    def _finish_channel(self, line: int) -> None:
        if self.channel is not None:
            return
        if not self._version:
            raise WxrError("not a WordPress export: no <wp:wxr_version> before the first item", line)
        fields = self._channel_fields
        self.channel = WxrChannel(
            title=fields.get("title", ""),
            link=fields.get("link", ""),
            base_site_url=fields.get("base_site_url", ""),
            base_blog_url=fields.get("base_blog_url", "") or fields.get("link", ""),
            language=fields.get("language", ""),
            version=self._version,
        )


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _wp(element: Element, name: str) -> str:
    """The text of the child <wp:NAME>, whatever the export's version (its namespace carries it)."""
    for child in element:
        if child.tag.startswith(WP_NAMESPACE_PREFIX) and child.tag.endswith("}" + name):
            return (child.text or "").strip()
    return ""


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def parse_wordpress_date(gmt: str, local: str = "", rfc822: str = "") -> datetime | None:
    """A WordPress date in UTC: post_date_gmt, or post_date (taken as UTC), or the RSS pubDate; None for the
    "0000-00-00 00:00:00" of drafts never saved with a date."""
    for text in (gmt, local):
        if text and not text.startswith("0000"):
            try:
                return datetime.fromisoformat(text).replace(tzinfo=UTC)  # "2009-03-14 10:00:00"
            except ValueError:
                continue
    if rfc822:
        try:
            parsed = parsedate_to_datetime(rfc822)
        except (TypeError, ValueError):
            return None
        if parsed.year > 1970:
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _children(element: Element) -> dict[str, str]:
    """The text of each <wp:NAME> child by NAME (first one wins), in one pass over the children."""
    found: dict[str, str] = {}
    for child in element:
        tag = child.tag
        if tag.startswith(WP_NAMESPACE_PREFIX):
            found.setdefault(tag[tag.index("}") + 1 :], child.text or "")
    return found


def _item(element: Element, line: int) -> WxrItem:
    terms = []
    comments = []
    plain: dict[str, str] = {}
    for child in element:
        tag = child.tag
        if tag == "category":
            domain = child.get("domain", "category")
            taxonomy = "post_tag" if domain in ("tag", "post_tag") else domain
            terms.append(WxrItemTerm(taxonomy, child.get("nicename", ""), _text(child)))
        elif tag.startswith(WP_NAMESPACE_PREFIX) and tag.endswith("}comment"):
            comments.append(_comment(child))
        else:
            plain.setdefault(tag, child.text or "")
    wp = _children(element)

    def field(name: str) -> str:
        return wp.get(name, "").strip()

    excerpt = next((text for tag, text in plain.items() if tag.endswith("/excerpt/}encoded")), "")
    return WxrItem(
        line=line,
        post_id=_int(field("post_id")),
        post_type=field("post_type") or "post",
        title=plain.get("title", "").strip(),
        link=plain.get("link", "").strip(),
        guid=plain.get("guid", "").strip(),
        creator=plain.get(DC_CREATOR, "").strip(),
        content=plain.get(CONTENT, ""),
        excerpt=excerpt.strip(),
        date=parse_wordpress_date(field("post_date_gmt"), field("post_date"), plain.get("pubDate", "").strip()),
        comment_status=field("comment_status") or "open",
        slug=field("post_name"),
        status=field("status") or "publish",
        parent_id=_int(field("post_parent")),
        menu_order=_int(field("menu_order")),
        password=field("post_password"),
        attachment_url=field("attachment_url"),
        terms=tuple(terms),
        comments=tuple(comments),
    )


def _comment(element: Element) -> WxrComment:
    wp = _children(element)

    def field(name: str) -> str:
        return wp.get(name, "").strip()

    date = parse_wordpress_date(field("comment_date_gmt"), field("comment_date"))
    return WxrComment(
        id=_int(field("comment_id")),
        author=field("comment_author"),
        author_email=field("comment_author_email"),
        author_url=field("comment_author_url"),
        author_ip=field("comment_author_IP"),
        date=date or EPOCH,
        content=wp.get("comment_content", ""),
        approved=field("comment_approved") or "1",
        type=field("comment_type"),
        parent_id=_int(field("comment_parent")),
        user_id=_int(field("comment_user_id")),
    )
