"""`fedblog export wordpress|markdown` through the real CLI on a real site: the WXR 1.2 file read back as XML
(against the format WordPress's importer reads) and the Markdown files read back by fedblog's own front matter
reader."""

from __future__ import annotations

import html
import json
import re
import stat
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import defusedxml.ElementTree as SafeET
from aiohttp.test_utils import TestClient, TestServer

from fedblog.app import create_app
from fedblog.assembly import open_context
from fedblog.config import load_settings
from fedblog.frontmatter import parse_document
from fedblog.models import CommentKind, CommentOrigin, CommentStatus, PostKind
from fedblog.services.posts import PostInput, PostService, input_from_document
from fedblog.store.comments import NewComment
from fedblog.store.webmentions import WebmentionStore
from tests.conftest import make_site
from tests.helpers import assert_one_line_error, fedblog
from tests.integration.blog_support import add_comment

WP = "{http://wordpress.org/export/1.2/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
TRICKY_BODY = "Code: `a[b[0]]>c` and ]]> in text, émoji 🎉, עברית, e\u0301."


@dataclass
class Blog:
    config: Path
    post_slug: str
    page_slug: str


async def build_blog(tmp_path: Path) -> Blog:
    """A blog with a post (tags, categories, a tricky body), a draft, a page, and comments of every origin."""
    config = make_site(tmp_path / "blog", "http://127.0.0.1:9", overrides={"comments": {"moderation": "open"}})
    settings = load_settings(config, environ={})
    async with open_context(settings) as ctx:
        posts = PostService(ctx)
        date = datetime(2012, 2, 21, 9, 30, tzinfo=UTC)
        post = await posts.publish(
            PostInput(
                title="Manager une communauté : écouter",
                body_markdown=TRICKY_BODY,
                tags=("communauté", "web"),
                categories=("Réseaux",),
                published_at=date,
                language="fr",
            )
        )
        await posts.publish(PostInput(title="Brouillon", body_markdown="Pas fini.", draft=True))
        page = await posts.publish(
            PostInput(title="À propos", body_markdown="Qui je suis.", kind=PostKind.PAGE, menu_order=2, in_menu=True)
        )
        site = LiveSiteStub(ctx)
        first = await add_comment(site, post, "Premier !", name="goundoulf", email="g@example.org")  # type: ignore[arg-type]
        await add_comment(site, post, "@goundoulf merci", name="Camille", parent=first)  # type: ignore[arg-type]
        store = WebmentionStore(ctx.db)
        async with ctx.db.transaction() as conn:
            actor = await ctx.comments.upsert_remote_author(
                conn, "https://social.example/users/ann", "Ann", "@ann@social.example", None,
                "https://social.example/@ann",
            )  # fmt: skip
            await ctx.comments.insert_comment(
                conn,
                NewComment(post.id, None, actor, CommentOrigin.FEDIVERSE, CommentStatus.APPROVED, "<p>Du fédivers</p>",
                           remote_id="https://social.example/notes/1", remote_url="https://social.example/@ann/1"),
            )  # fmt: skip
            ping_author = await store.insert_ping_author(conn, "Que ferait le Community manager ?",
                                                         "https://other.example/cm/", date)  # fmt: skip
            await ctx.comments.insert_comment(
                conn,
                NewComment(post.id, None, ping_author, CommentOrigin.WEBMENTION, CommentStatus.APPROVED,
                           "<p>[…] un extrait […]</p>", remote_url="https://other.example/cm/",
                           kind=CommentKind.PINGBACK),
            )  # fmt: skip
            spammer = await ctx.comments.get_or_create_visitor(conn, "Cheap pills", "spam@example.org", None)
            await ctx.comments.insert_comment(
                conn, NewComment(post.id, None, spammer, CommentOrigin.WEB, CommentStatus.SPAM, "<p>Buy</p>")
            )
            held = await ctx.comments.get_or_create_visitor(conn, "Nouveau", "new@example.org", None)
            await ctx.comments.insert_comment(
                conn, NewComment(post.id, None, held, CommentOrigin.WEB, CommentStatus.PENDING, "<p>En attente</p>")
            )
        return Blog(config, post.slug, page.slug)


class LiveSiteStub:
    """What tests.integration.blog_support.add_comment uses of a live site: its context."""

    def __init__(self, ctx: object) -> None:
        self.ctx = ctx


def items_by_slug(root: ET.Element) -> dict[str, ET.Element]:
    return {item.findtext(f"{WP}post_name") or "": item for item in root.iter("item")}


async def test_export_wordpress__a_wxr_1_2_file_with_every_post_page_and_comment(tmp_path: Path) -> None:
    blog = await build_blog(tmp_path)
    out = tmp_path / "export.xml"
    result = await fedblog("--config", str(blog.config), "export", "wordpress", str(out))
    assert result.code == 0, result.err
    assert "posts: 2, pages: 1" in result.out
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # commenters' addresses inside
    root = SafeET.fromstring(out.read_bytes())
    channel = root.find("channel")
    assert channel is not None and channel.findtext(f"{WP}wxr_version") == "1.2"
    assert [c.findtext(f"{WP}cat_name") for c in channel.iter(f"{WP}category")] == ["Réseaux"]
    assert sorted(t.findtext(f"{WP}tag_name") or "" for t in channel.iter(f"{WP}tag")) == ["communauté", "web"]
    items = items_by_slug(root)
    post, page, draft = items[blog.post_slug], items[blog.page_slug], items["brouillon"]
    # Posts and pages with their states, dates, terms and a body that survives CDATA
    assert (post.findtext(f"{WP}post_type"), post.findtext(f"{WP}status")) == ("post", "publish")
    assert (page.findtext(f"{WP}post_type"), page.findtext(f"{WP}menu_order")) == ("page", "2")
    assert draft.findtext(f"{WP}status") == "draft"
    assert post.findtext(f"{WP}post_date_gmt") == "2012-02-21 09:30:00"
    assert post.findtext("title") == "Manager une communauté : écouter"
    assert "]]&gt; in text, émoji 🎉, עברית, e\u0301." in (post.findtext(CONTENT) or "")
    terms = {(c.get("domain"), c.text) for c in post.iter("category")}
    assert terms == {("category", "Réseaux"), ("post_tag", "communauté"), ("post_tag", "web")}
    # Comments of every origin, with their states and threading
    comments = {c.findtext(f"{WP}comment_author"): c for c in post.iter(f"{WP}comment")}
    assert set(comments) == {"goundoulf", "Camille", "Ann", "Que ferait le Community manager ?", "Cheap pills",
                             "Nouveau"}  # fmt: skip
    reply, first = comments["Camille"], comments["goundoulf"]
    assert reply.findtext(f"{WP}comment_parent") == first.findtext(f"{WP}comment_id")
    assert first.findtext(f"{WP}comment_author_email") == "g@example.org"
    assert {name: c.findtext(f"{WP}comment_approved") for name, c in comments.items()} == {
        "goundoulf": "1", "Camille": "1", "Ann": "1", "Que ferait le Community manager ?": "1",
        "Cheap pills": "spam", "Nouveau": "0",
    }  # fmt: skip
    ping = comments["Que ferait le Community manager ?"]
    assert ping.findtext(f"{WP}comment_type") == "pingback"
    assert ping.findtext(f"{WP}comment_author_url") == "https://other.example/cm/"
    fediverse = comments["Ann"]
    assert fediverse.findtext(f"{WP}comment_author_url") == "https://social.example/@ann"
    meta = {m.findtext(f"{WP}meta_key"): m.findtext(f"{WP}meta_value") for m in fediverse.iter(f"{WP}commentmeta")}
    assert meta["protocol"] == "activitypub" and meta["source_id"] == "https://social.example/notes/1"
    ids = [c.findtext(f"{WP}comment_id") for c in root.iter(f"{WP}comment")]
    assert len(ids) == len(set(ids)) == 6


async def test_export_markdown__files_that_fedblog_reads_back(tmp_path: Path) -> None:
    blog = await build_blog(tmp_path)
    folder = tmp_path / "out"
    result = await fedblog("--config", str(blog.config), "export", "markdown", str(folder))
    assert result.code == 0, result.err
    assert "comments: 6" in result.out
    names = sorted(path.name for path in folder.iterdir())
    assert names == sorted([f"{blog.post_slug}.md", f"{blog.post_slug}.comments.json", "brouillon.md",
                            f"{blog.page_slug}.md"])  # fmt: skip
    data = input_from_document(parse_document((folder / f"{blog.post_slug}.md").read_text(encoding="utf-8")))
    assert data.title == "Manager une communauté : écouter" and data.body_markdown.strip() == TRICKY_BODY
    assert data.tags == ("communauté", "web") and data.categories == ("Réseaux",) and data.language == "fr"
    assert data.published_at == datetime(2012, 2, 21, 9, 30, tzinfo=UTC)
    page = input_from_document(parse_document((folder / f"{blog.page_slug}.md").read_text(encoding="utf-8")))
    assert (page.kind, page.menu_order, page.in_menu) == (PostKind.PAGE, 2, True)
    assert input_from_document(parse_document((folder / "brouillon.md").read_text(encoding="utf-8"))).draft
    comments = json.loads((folder / f"{blog.post_slug}.comments.json").read_text(encoding="utf-8"))
    by_name = {c["author"]["name"]: c for c in comments}
    assert by_name["Camille"]["parent_id"] == by_name["goundoulf"]["id"]
    assert by_name["Que ferait le Community manager ?"]["origin"] == "pingback"
    assert by_name["Ann"]["origin"] == "fediverse" and by_name["Cheap pills"]["status"] == "spam"


async def test_export__a_missing_folder_is_one_line(tmp_path: Path) -> None:
    config = make_site(tmp_path / "blog", "http://127.0.0.1:9")
    result = await fedblog("--config", str(config), "export", "wordpress", str(tmp_path / "nope" / "out.xml"))
    assert_one_line_error(result, "does not exist")


# --- round trip -------------------------------------------------------------------------------------------------

_TAGS = re.compile(r"<[^>]+>")


def _text_of(fragment: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", fragment)).split())


def what_a_reader_sees(page: str) -> dict[str, object]:
    """The post as a reader sees it: title, body, and the thread as (depth, author, text) in order."""
    article = re.search(r'<article class="post h-entry[^"]*".*?</article>', page, re.S)
    title = re.search(r'<h1 class="p-name">(.*?)</h1>', page, re.S)
    body = re.search(r'<div class="post-body e-content">(.*?)<footer class="post-footer">', page, re.S)
    thread = []
    depth = 0
    for match in re.finditer(r'<ol class="[^"]*"|</ol>|<article id="comment-\d+".*?</article>', page, re.S):
        token = match.group(0)
        if token.startswith("<ol"):
            depth += 1
        elif token == "</ol>":
            depth -= 1
        else:
            author = re.search(r'class="comment-author"[^>]*>(.*?)</', token, re.S)
            content = re.search(r'<div class="comment-content">(.*?)</div>', token, re.S)
            name, text = author.group(1) if author else "", content.group(1) if content else ""
            thread.append((depth, _text_of(name), _text_of(text)))
    return {
        "found": article is not None,
        "title": _text_of(title.group(1)) if title else "",
        "body": _text_of(body.group(1)) if body else "",
        "thread": thread,
    }


async def test_export_wordpress__imported_into_a_fresh_site_gives_the_same_pages(tmp_path: Path) -> None:
    # Given a blog exported as WXR
    blog = await build_blog(tmp_path)
    out = tmp_path / "export.xml"
    assert (await fedblog("--config", str(blog.config), "export", "wordpress", str(out))).code == 0
    # When a fresh site imports it with fedblog's own WordPress importer
    fresh = make_site(tmp_path / "fresh", "http://127.0.0.1:9")
    result = await fedblog("--config", str(fresh), "import", "wordpress", str(out))
    assert result.code == 0, result.err
    # Then the post and the page read the same on both sites
    for slug, path in ((blog.post_slug, f"/posts/{blog.post_slug}"), (blog.page_slug, f"/{blog.page_slug}/")):
        before, after = await read_page(blog.config, path), await read_page(fresh, path)
        assert before["found"] and before["title"], slug
        assert after == before, slug
    assert len(what_a_reader_sees(await read_page_text(blog.config, f"/posts/{blog.post_slug}"))["thread"]) == 4


async def read_page_text(config: Path, path: str) -> str:
    """The page as the site serves it: the real app on a loopback port."""
    async with TestClient(TestServer(create_app(load_settings(config, environ={})), host="127.0.0.1")) as client:
        answer = await client.get(path)
        assert answer.status == 200, (path, answer.status)
        return await answer.text()


async def read_page(config: Path, path: str) -> dict[str, object]:
    return what_a_reader_sees(await read_page_text(config, path))
