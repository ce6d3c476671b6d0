"""Writing WordPress eXtended RSS 1.2 (what "Tools → Export" writes and WordPress's importer reads) as pure code:
plain records in, text chunks out, one item at a time so that a whole blog never sits in memory. No I/O.

Text goes in CDATA sections the way WordPress's own `wxr_cdata()` writes them: a `]]>` inside the text is split
across two sections, so any text survives. Characters XML 1.0 cannot carry (most C0 controls) are dropped.
Dates are UTC, written both as the local `post_date` and as `post_date_gmt`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

WXR_VERSION = "1.2"
NAMESPACES = (
    ("excerpt", "http://wordpress.org/export/1.2/excerpt/"),
    ("content", "http://purl.org/rss/1.0/modules/content/"),
    ("wfw", "http://wellformedweb.org/CommentAPI/"),
    ("dc", "http://purl.org/dc/elements/1.1/"),
    ("wp", "http://wordpress.org/export/1.2/"),
)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Channel:
    title: str
    link: str
    description: str
    language: str
    author_login: str
    author_display_name: str
    generator: str
    exported_at: datetime


@dataclass(frozen=True)
class Term:
    """A category (with its parent's slug) or a tag."""

    term_id: int
    slug: str
    name: str
    parent_slug: str = ""
    description: str = ""


@dataclass(frozen=True)
class CommentRecord:
    comment_id: int
    author: str
    author_email: str
    author_url: str
    author_ip: str
    date: datetime
    content: str
    approved: str  # "1", "0" or "spam", as WordPress keeps it
    comment_type: str  # "" (a comment), "pingback", "trackback", or a plugin's type ("webmention")
    parent_id: int  # 0: top level
    user_id: int = 0  # 1: the blog's author
    meta: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ItemRecord:
    post_id: int
    title: str
    link: str
    guid: str
    creator: str
    content: str  # HTML
    excerpt: str
    date: datetime
    modified: datetime | None
    comment_status: str  # open | closed
    slug: str
    status: str  # publish | draft | future
    post_type: str  # post | page
    menu_order: int = 0
    categories: tuple[Term, ...] = ()
    tags: tuple[Term, ...] = ()
    comments: tuple[CommentRecord, ...] = ()
    meta: tuple[tuple[str, str], ...] = field(default=())


def cdata(text: str) -> str:
    text = _NOT_XML.sub("", text)
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _text(text: str) -> str:
    return escape(_NOT_XML.sub("", text))


def _local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _meta(tag: str, pairs: Iterable[tuple[str, str]]) -> str:
    return "".join(
        f"\t\t<wp:{tag}>\n\t\t\t<wp:meta_key>{cdata(key)}</wp:meta_key>\n"
        f"\t\t\t<wp:meta_value>{cdata(value)}</wp:meta_value>\n\t\t</wp:{tag}>\n"
        for key, value in pairs
    )


def header(channel: Channel, categories: Iterable[Term], tags: Iterable[Term]) -> str:
    namespaces = "\n".join(f'\txmlns:{prefix}="{uri}"' for prefix, uri in NAMESPACES)
    parts = [
        '<?xml version="1.0" encoding="UTF-8" ?>\n',
        f'<rss version="2.0"\n{namespaces}\n>\n\n<channel>\n',
        f"\t<title>{_text(channel.title)}</title>\n",
        f"\t<link>{_text(channel.link)}</link>\n",
        f"\t<description>{_text(channel.description)}</description>\n",
        f"\t<pubDate>{format_datetime(channel.exported_at)}</pubDate>\n",
        f"\t<language>{_text(channel.language)}</language>\n",
        f"\t<wp:wxr_version>{WXR_VERSION}</wp:wxr_version>\n",
        f"\t<wp:base_site_url>{_text(channel.link)}</wp:base_site_url>\n",
        f"\t<wp:base_blog_url>{_text(channel.link)}</wp:base_blog_url>\n\n",
        "\t<wp:author><wp:author_id>1</wp:author_id>"
        f"<wp:author_login>{cdata(channel.author_login)}</wp:author_login>"
        "<wp:author_email></wp:author_email>"
        f"<wp:author_display_name>{cdata(channel.author_display_name)}</wp:author_display_name>"
        "<wp:author_first_name><![CDATA[]]></wp:author_first_name>"
        "<wp:author_last_name><![CDATA[]]></wp:author_last_name></wp:author>\n\n",
    ]
    for term in categories:
        parts.append(
            f"\t<wp:category><wp:term_id>{term.term_id}</wp:term_id>"
            f"<wp:category_nicename>{cdata(term.slug)}</wp:category_nicename>"
            f"<wp:category_parent>{cdata(term.parent_slug)}</wp:category_parent>"
            f"<wp:cat_name>{cdata(term.name)}</wp:cat_name>"
            + (f"<wp:category_description>{cdata(term.description)}</wp:category_description>" if term.description
               else "")
            + "</wp:category>\n"
        )  # fmt: skip
    for term in tags:
        parts.append(
            f"\t<wp:tag><wp:term_id>{term.term_id}</wp:term_id><wp:tag_slug>{cdata(term.slug)}</wp:tag_slug>"
            f"<wp:tag_name>{cdata(term.name)}</wp:tag_name></wp:tag>\n"
        )
    parts.append(f"\n\t<generator>{_text(channel.generator)}</generator>\n\n")
    return "".join(parts)


def _comment(comment: CommentRecord) -> str:
    return (
        "\t\t<wp:comment>\n"
        f"\t\t\t<wp:comment_id>{comment.comment_id}</wp:comment_id>\n"
        f"\t\t\t<wp:comment_author>{cdata(comment.author)}</wp:comment_author>\n"
        f"\t\t\t<wp:comment_author_email>{cdata(comment.author_email)}</wp:comment_author_email>\n"
        f"\t\t\t<wp:comment_author_url>{_text(comment.author_url)}</wp:comment_author_url>\n"
        f"\t\t\t<wp:comment_author_IP>{cdata(comment.author_ip)}</wp:comment_author_IP>\n"
        f"\t\t\t<wp:comment_date>{cdata(_local(comment.date))}</wp:comment_date>\n"
        f"\t\t\t<wp:comment_date_gmt>{cdata(_local(comment.date))}</wp:comment_date_gmt>\n"
        f"\t\t\t<wp:comment_content>{cdata(comment.content)}</wp:comment_content>\n"
        f"\t\t\t<wp:comment_approved>{cdata(comment.approved)}</wp:comment_approved>\n"
        f"\t\t\t<wp:comment_type>{cdata(comment.comment_type)}</wp:comment_type>\n"
        f"\t\t\t<wp:comment_parent>{comment.parent_id}</wp:comment_parent>\n"
        f"\t\t\t<wp:comment_user_id>{comment.user_id}</wp:comment_user_id>\n"
        + _meta("commentmeta", comment.meta).replace("\t\t<", "\t\t\t<")
        + "\t\t</wp:comment>\n"
    )


def item(record: ItemRecord) -> str:
    terms = [("category", term) for term in record.categories] + [("post_tag", term) for term in record.tags]
    modified = _local(record.modified or record.date)
    return "".join(
        [
            "\t<item>\n",
            f"\t\t<title>{cdata(record.title)}</title>\n",
            f"\t\t<link>{_text(record.link)}</link>\n",
            f"\t\t<pubDate>{format_datetime(record.date)}</pubDate>\n",
            f"\t\t<dc:creator>{cdata(record.creator)}</dc:creator>\n",
            f'\t\t<guid isPermaLink="false">{_text(record.guid)}</guid>\n',
            "\t\t<description></description>\n",
            f"\t\t<content:encoded>{cdata(record.content)}</content:encoded>\n",
            f"\t\t<excerpt:encoded>{cdata(record.excerpt)}</excerpt:encoded>\n",
            f"\t\t<wp:post_id>{record.post_id}</wp:post_id>\n",
            f"\t\t<wp:post_date>{cdata(_local(record.date))}</wp:post_date>\n",
            f"\t\t<wp:post_date_gmt>{cdata(_local(record.date))}</wp:post_date_gmt>\n",
            f"\t\t<wp:post_modified>{cdata(modified)}</wp:post_modified>\n",
            f"\t\t<wp:post_modified_gmt>{cdata(modified)}</wp:post_modified_gmt>\n",
            f"\t\t<wp:comment_status>{cdata(record.comment_status)}</wp:comment_status>\n",
            f"\t\t<wp:ping_status>{cdata(record.comment_status)}</wp:ping_status>\n",
            f"\t\t<wp:post_name>{cdata(record.slug)}</wp:post_name>\n",
            f"\t\t<wp:status>{cdata(record.status)}</wp:status>\n",
            "\t\t<wp:post_parent>0</wp:post_parent>\n",
            f"\t\t<wp:menu_order>{record.menu_order}</wp:menu_order>\n",
            f"\t\t<wp:post_type>{cdata(record.post_type)}</wp:post_type>\n",
            "\t\t<wp:post_password><![CDATA[]]></wp:post_password>\n",
            "\t\t<wp:is_sticky>0</wp:is_sticky>\n",
            *(
                f"\t\t<category domain={quoteattr(domain)} nicename={quoteattr(_NOT_XML.sub('', term.slug))}>"
                f"{cdata(term.name)}</category>\n"
                for domain, term in terms
            ),
            _meta("postmeta", record.meta),
            *(_comment(comment) for comment in record.comments),
            "\t</item>\n",
        ]
    )


FOOTER = "</channel>\n</rss>\n"


def write_wxr(
    channel: Channel, categories: Iterable[Term], tags: Iterable[Term], items: Iterable[ItemRecord]
) -> Iterator[str]:
    """The whole document, as chunks: the header, one chunk per item, the footer."""
    yield header(channel, categories, tags)
    for record in items:
        yield item(record)
    yield FOOTER
