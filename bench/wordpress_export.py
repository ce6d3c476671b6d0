"""WordPress exports written as WordPress's exporter writes them (wp-admin/includes/export.php: WXR 1.2, CDATA
sections split where the text holds "]]>"), for the import benchmark and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field

OLD_SITE = "http://127.0.0.1:9"  # the blog's former address: nothing listens there, nothing is fetched from it


def cdata(text: str) -> str:
    """As WordPress's wxr_cdata(): "]]>" inside the text closes one CDATA section and opens the next."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


@dataclass
class WpComment:
    id: int
    author: str
    content: str
    date: str = "2009-03-15 10:00:00"
    parent: int = 0
    approved: str = "1"
    type: str = ""
    email: str = ""
    url: str = ""

    def xml(self) -> str:
        return f"""
        <wp:comment>
            <wp:comment_id>{self.id}</wp:comment_id>
            <wp:comment_author>{cdata(self.author)}</wp:comment_author>
            <wp:comment_author_email>{cdata(self.email)}</wp:comment_author_email>
            <wp:comment_author_url>{self.url}</wp:comment_author_url>
            <wp:comment_author_IP>{cdata("192.0.2.1")}</wp:comment_author_IP>
            <wp:comment_date>{cdata(self.date)}</wp:comment_date>
            <wp:comment_date_gmt>{cdata(self.date)}</wp:comment_date_gmt>
            <wp:comment_content>{cdata(self.content)}</wp:comment_content>
            <wp:comment_approved>{cdata(self.approved)}</wp:comment_approved>
            <wp:comment_type>{cdata(self.type)}</wp:comment_type>
            <wp:comment_parent>{self.parent}</wp:comment_parent>
            <wp:comment_user_id>0</wp:comment_user_id>
        </wp:comment>"""


@dataclass
class WpItem:
    id: int
    title: str
    slug: str
    content: str = "<p>Body.</p>"
    date: str = "2009-03-14 10:00:00"
    status: str = "publish"
    type: str = "post"
    creator: str = "admin"
    excerpt: str = ""
    comment_status: str = "open"
    parent: int = 0
    menu_order: int = 0
    password: str = ""
    attachment_url: str = ""
    link: str = ""
    categories: list[tuple[str, str]] = field(default_factory=list)  # (slug, name)
    tags: list[tuple[str, str]] = field(default_factory=list)
    comments: list[WpComment] = field(default_factory=list)

    def xml(self) -> str:
        year, month, day = self.date[:4], self.date[5:7], self.date[8:10]
        link = self.link or f"{OLD_SITE}/{year}/{month}/{day}/{self.slug}/"
        terms = "".join(
            f'\n        <category domain="category" nicename="{slug}">{cdata(name)}</category>'
            for slug, name in self.categories
        ) + "".join(
            f'\n        <category domain="post_tag" nicename="{slug}">{cdata(name)}</category>'
            for slug, name in self.tags
        )
        attachment = (
            f"<wp:attachment_url>{cdata(self.attachment_url)}</wp:attachment_url>" if self.attachment_url else ""
        )
        return f"""
    <item>
        <title>{cdata(self.title)}</title>
        <link>{link}</link>
        <pubDate>Sat, 14 Mar 2009 10:00:00 +0000</pubDate>
        <dc:creator>{cdata(self.creator)}</dc:creator>
        <guid isPermaLink="false">{OLD_SITE}/?p={self.id}</guid>
        <description></description>
        <content:encoded>{cdata(self.content)}</content:encoded>
        <excerpt:encoded>{cdata(self.excerpt)}</excerpt:encoded>
        <wp:post_id>{self.id}</wp:post_id>
        <wp:post_date>{cdata(self.date)}</wp:post_date>
        <wp:post_date_gmt>{cdata(self.date)}</wp:post_date_gmt>
        <wp:comment_status>{cdata(self.comment_status)}</wp:comment_status>
        <wp:ping_status>{cdata("open")}</wp:ping_status>
        <wp:post_name>{cdata(self.slug)}</wp:post_name>
        <wp:status>{cdata(self.status)}</wp:status>
        <wp:post_parent>{self.parent}</wp:post_parent>
        <wp:menu_order>{self.menu_order}</wp:menu_order>
        <wp:post_type>{cdata(self.type)}</wp:post_type>
        <wp:post_password>{cdata(self.password)}</wp:post_password>
        <wp:is_sticky>0</wp:is_sticky>{attachment}{terms}
        <wp:postmeta>
            <wp:meta_key>{cdata("_edit_last")}</wp:meta_key>
            <wp:meta_value>{cdata("1")}</wp:meta_value>
        </wp:postmeta>{"".join(comment.xml() for comment in self.comments)}
    </item>"""


def export(
    items: list[WpItem],
    version: str = "1.2",
    categories: str = "",
    language: str = "fr-FR",
    authors: str = "",
) -> str:
    namespace = f"http://wordpress.org/export/{version}/"
    default_authors = f"""
    <wp:author><wp:author_id>1</wp:author_id><wp:author_login>{cdata("admin")}</wp:author_login>
        <wp:author_email>{cdata("admin@example.org")}</wp:author_email>
        <wp:author_display_name>{cdata("Admin")}</wp:author_display_name></wp:author>
    <wp:author><wp:author_id>2</wp:author_id><wp:author_login>{cdata("goundoulf")}</wp:author_login>
        <wp:author_email>{cdata("g@example.org")}</wp:author_email>
        <wp:author_display_name>{cdata("Goundoulf le Gris")}</wp:author_display_name></wp:author>"""
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<!-- This is a WordPress eXtended RSS file generated by WordPress as an export of your site. -->
<rss version="2.0"
    xmlns:excerpt="{namespace}excerpt/"
    xmlns:content="http://purl.org/rss/1.0/modules/content/"
    xmlns:wfw="http://wellformedweb.org/CommentAPI/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:wp="{namespace}"
>
<channel>
    <title>Manager une communauté</title>
    <link>{OLD_SITE}</link>
    <description>Un blog</description>
    <pubDate>Mon, 01 Jun 2015 10:00:00 +0000</pubDate>
    <language>{language}</language>
    <wp:wxr_version>{version}</wp:wxr_version>
    <wp:base_site_url>{OLD_SITE}</wp:base_site_url>
    <wp:base_blog_url>{OLD_SITE}</wp:base_blog_url>
{authors or default_authors}
{categories}
    <generator>https://wordpress.org/?v=6.4</generator>
{"".join(item.xml() for item in items)}
</channel>
</rss>
"""
