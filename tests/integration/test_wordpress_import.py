"""`fedblog import wordpress` on exports built as WordPress writes them, into a real site (real SQLite file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.wordpress_export import WpComment, WpItem, cdata, export
from fedblog.models import BodyFormat, CommentKind, CommentStatus, PostKind, PostState
from fedblog.protocol.wxr import WxrError
from fedblog.services.wordpress_import import import_wordpress
from fedblog.store.old_links import OldLinkStore
from fedblog.store.outbox import OutboxStore
from tests.conftest import LiveSite
from tests.integration.wxr_support import french_post, write_export


async def count(site: LiveSite, table: str) -> int:
    return int(await site.ctx.db.fetch_value(f"SELECT COUNT(*) FROM {table}"))


async def test_import__the_french_post_with_its_threaded_comments_pingback_and_trackback(
    site: LiveSite, tmp_path: Path
) -> None:
    # Given an export of the typical French post (9 comments shown, a spam, one awaiting moderation)
    path = write_export(tmp_path / "export.xml", export([french_post()]))
    # When it is imported
    report = await import_wordpress(site.ctx, path)
    # Then the post is published with its original date, slug, tags and category
    post = await site.ctx.posts.get_post_by_slug("animer-une-communaute-les-bases")
    assert post is not None and not post.draft
    assert post.published_at.isoformat().startswith("2009-03-14T10:00:00")
    assert post.title == "Animer une communauté : les bases"
    assert post.body_format == BodyFormat.HTML and post.body_html == "<p>Une communauté, ça s'anime.</p>"
    assert post.tags == ("animation", "réseauxSociaux")
    assert [c.slug for c in post.categories] == ["community-management"]
    # And its comments are threaded, with their states, the pingback and the trackback as such
    shown = await site.ctx.comments.list_visible_for_post(post.id)
    assert len(shown) == 9
    by_author = {c.author.name: c for c in shown}
    by_wp_id = {c.wp_comment_id: c for c in shown}
    assert by_wp_id[202].parent_id == by_wp_id[201].id and by_wp_id[203].parent_id == by_wp_id[202].id
    assert by_author["Marie"].author.email == "marie@example.org"
    pingback = by_author["Que ferait le Community manager ? | Manager une communauté"]
    assert pingback.kind == CommentKind.PINGBACK
    assert pingback.author.website == "http://127.0.0.1:9/2009/03/15/que-ferait-le-community-manager/"
    assert "[...] Que ferait le Community manager ? | Manager une communauté [...]" in pingback.content_html
    assert by_author["Le blog d'à côté"].kind == CommentKind.TRACKBACK
    assert {c.author.name: c.status for c in await site.ctx.comments.list_by_status(CommentStatus.SPAM)} == {
        "Spammeur": CommentStatus.SPAM
    }
    assert [c.author.name for c in await site.ctx.comments.list_by_status(CommentStatus.PENDING)] == ["Lucie"]
    assert report.comments == {"approved": 7, "spam": 1, "pending": 1}
    assert (report.pingbacks, report.trackbacks, report.posts) == (1, 1, 1)
    # And its old links lead to it
    links = OldLinkStore(site.ctx.db)
    assert await links.find("/2009/03/14/animer-une-communaute-les-bases") == (post.id, None)
    assert await links.find("/?p=12") == (post.id, None)
    # And nothing was sent: the post has its Create in the outbox, with its original date, and no delivery
    assert await count(site, "deliveries") == 0
    assert await count(site, "webmentions_sent") == 0
    [create] = [json.loads(body) for body in await OutboxStore(site.ctx.db).list_public_creates(10, 0)]
    assert create["object"]["id"] == site.ctx.urls.note(post.slug)
    assert create["object"]["published"].startswith("2009-03-14T10:00:00")


async def test_import__statuses_pages_authors_and_content(site: LiveSite, tmp_path: Path) -> None:
    items = [
        WpItem(1, "Brouillon", "brouillon", status="draft"),
        WpItem(2, "En attente", "en-attente", status="pending"),
        WpItem(3, "Privé", "prive", status="private"),
        WpItem(4, "Protégé", "protege", password="secret"),
        WpItem(5, "Plus tard", "plus-tard", status="future", date="2099-01-01 10:00:00"),
        WpItem(6, "Corbeille", "corbeille", status="trash"),
        WpItem(7, "À propos", "a-propos", type="page", menu_order=2, comment_status="closed"),
        WpItem(8, "Contact", "contact", type="page", menu_order=1),
        WpItem(9, "Par un autre", "par-un-autre", creator="goundoulf", excerpt="Un résumé <b>court</b>."),
        WpItem(10, "Menu", "menu", type="nav_menu_item"),
        WpItem(
            11,
            "Codes courts",
            "codes-courts",
            content=(
                '[caption id="attachment_5" align="alignnone" width="300"]<img src="http://127.0.0.1:9/wp-content/'
                'uploads/2009/03/chat.jpg" alt="Un chat" /> Mon chat[/caption]\n\n'
                "[embed]https://www.youtube.com/watch?v=abc[/embed]\n\n"
                '[code lang="python"]print("<b>")[/code]\n\n'
                '[gallery ids="20,21"]\n\n[contact-form-7 id="3"]\n\n'
                "Première ligne\nseconde ligne\n\nNouveau paragraphe <script>alert(1)</script>"
            ),
        ),
        WpItem(20, "chat", "chat", type="attachment", attachment_url="http://127.0.0.1:9/wp-content/uploads/a.jpg"),
        WpItem(21, "chien", "chien", type="attachment", attachment_url="http://127.0.0.1:9/wp-content/uploads/b.jpg"),
    ]
    report = await import_wordpress(site.ctx, write_export(tmp_path / "export.xml", export(items)))

    posts = {post.slug: post for post in await site.ctx.posts.list_all()}
    assert {slug for slug, post in posts.items() if post.draft} == {
        "brouillon",
        "en-attente",
        "prive",
        "protege",
        "plus-tard",
    }
    assert posts["plus-tard"].published_at.year == 2099 and posts["plus-tard"].state == PostState.SCHEDULED
    assert posts["brouillon"].state == PostState.DRAFT
    assert "corbeille" not in posts and "menu" not in posts
    assert posts["a-propos"].kind == PostKind.PAGE and not posts["a-propos"].comments_open
    assert await site.ctx.posts.list_menu_pages() == [("contact", "Contact"), ("a-propos", "À propos")]
    assert [p.slug for p in await site.ctx.posts.list_published(20)] == ["par-un-autre", "codes-courts"] or [
        p.slug for p in await site.ctx.posts.list_published(20)
    ] == ["codes-courts", "par-un-autre"]
    assert posts["par-un-autre"].author_name == "Goundoulf le Gris"
    assert posts["codes-courts"].author_name is None
    assert posts["par-un-autre"].excerpt == "Un résumé court."
    body = posts["codes-courts"].body_html
    assert '<figure><img src="http://127.0.0.1:9/wp-content/uploads/2009/03/chat.jpg" alt="Un chat"' in body
    assert "<figcaption>Mon chat</figcaption></figure>" in body
    assert '<a href="https://www.youtube.com/watch?v=abc" rel="noopener">' in body
    assert '<pre><code class="language-python">print("&lt;b&gt;")</code></pre>' in body
    assert 'src="http://127.0.0.1:9/wp-content/uploads/a.jpg"' in body and "uploads/b.jpg" in body
    assert "<p>Première ligne<br>\nseconde ligne</p>" in body
    assert "<script>" not in body and "alert(1)" not in body
    assert '[contact-form-7 id="3"]' in body
    assert report.unknown_shortcodes == {"contact-form-7": 1}
    assert report.skipped == {"trash posts": 1, "items of type nav_menu_item": 1}
    assert (report.posts, report.pages, report.drafts, report.scheduled) == (7, 2, 4, 1)
    # Only the published posts are in the outbox (no drafts, no pages)
    assert await OutboxStore(site.ctx.db).count_public_creates() == 2


async def test_import__hard_utf8_and_cdata_holding_its_own_end(site: LiveSite, tmp_path: Path) -> None:
    title = "Émoji 👩🏽‍💻, שלום עולם, e\u0301 combiné"
    content = "<p>Le code <code>a[b[c]]>d</code> et 🇫🇷 مرحبا</p>"
    path = write_export(tmp_path / "export.xml", export([WpItem(1, title, "utf8", content=content)]))
    assert "]]]]><![CDATA[>" in path.read_text(encoding="utf-8")

    await import_wordpress(site.ctx, path)

    post = await site.ctx.posts.get_post_by_slug("utf8")
    assert post is not None
    assert post.title == title
    assert post.body_html == "<p>Le code <code>a[b[c]]&gt;d</code> et 🇫🇷 مرحبا</p>"


async def test_reimport__adds_only_what_is_new(site: LiveSite, tmp_path: Path) -> None:
    first = write_export(tmp_path / "first.xml", export([french_post()]))
    await import_wordpress(site.ctx, first)
    before = (await count(site, "posts"), await count(site, "comments"), await count(site, "outbox"))
    # The same export again: nothing added
    again = await import_wordpress(site.ctx, first)
    assert (await count(site, "posts"), await count(site, "comments"), await count(site, "outbox")) == before
    assert again.already_there == {"posts": 1, "comments": 11} and again.posts == 0
    # A later export: one new post, one new reply in the old thread
    later = french_post()
    later.comments.append(WpComment(300, "Nouveau", "@goundoulf enfin lu !", "2010-01-01 10:00:00", parent=201))
    path = write_export(tmp_path / "later.xml", export([later, WpItem(13, "Suite", "suite")]))
    report = await import_wordpress(site.ctx, path)
    assert (report.posts, report.comments["approved"]) == (1, 1)
    assert await count(site, "posts") == before[0] + 1
    assert await count(site, "comments") == before[1] + 1
    post = await site.ctx.posts.get_post_by_slug("animer-une-communaute-les-bases")
    assert post is not None
    shown = {c.wp_comment_id: c for c in await site.ctx.comments.list_visible_for_post(post.id)}
    assert shown[300].parent_id == shown[201].id


async def test_dry_run__reports_everything_and_writes_nothing(site: LiveSite, tmp_path: Path) -> None:
    path = write_export(tmp_path / "export.xml", export([french_post(), WpItem(2, "Page", "page", type="page")]))
    outbox_before = await count(site, "outbox")  # the profile's Update, sent at start
    report = await import_wordpress(site.ctx, path, dry_run=True)
    assert (report.posts, report.pages, report.pingbacks, report.trackbacks) == (1, 1, 1, 1)
    assert report.comments == {"approved": 7, "spam": 1, "pending": 1}
    assert "Dry run, nothing written." in report.lines()[0]
    for table in ("posts", "comments", "categories", "old_links", "comment_authors"):
        assert await count(site, table) == 0, table
    assert await count(site, "outbox") == outbox_before


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (export([french_post()])[:-400], "line 1"),  # truncated: the line is checked below
        ("<html><body>not an export</body></html>", "line 1: not a WordPress export: the root element is <html>"),
        (export([WpItem(1, "a", "a")], version="2.0"), "unsupported WXR version '2.0'"),
        (
            '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>RSS</title><item><title>x</title></item>'
            "</channel></rss>",
            "line 2: not a WordPress export: no <wp:wxr_version> before the first item",
        ),
    ],
)
async def test_import__a_bad_file_imports_nothing_and_names_the_problem_and_line(
    site: LiveSite, tmp_path: Path, text: str, problem: str
) -> None:
    # A good post comes first in the file: it must not be kept when the file fails later
    path = write_export(tmp_path / "bad.xml", text)
    with pytest.raises(WxrError) as failure:
        await import_wordpress(site.ctx, path)
    message = str(failure.value)
    assert message.startswith("line ")
    if problem != "line 1":
        assert problem in message
    else:
        assert "malformed XML" in message
        assert failure.value.line == text.count("\n") + 1
    assert await count(site, "posts") == 0 and await count(site, "comments") == 0


async def test_import__a_failure_late_in_the_file_undoes_the_posts_already_written(
    site: LiveSite, tmp_path: Path
) -> None:
    good = export([french_post(), WpItem(2, "Deux", "deux")])
    broken = good.replace("<title>" + cdata("Deux") + "</title>", "<title>" + cdata("Deux") + "</titel>")
    path = write_export(tmp_path / "bad.xml", broken)
    with pytest.raises(WxrError, match="mismatched tag"):
        await import_wordpress(site.ctx, path)
    assert await count(site, "posts") == 0 and await count(site, "comments") == 0


async def test_import__external_entity_and_entity_bomb_refused_nothing_fetched(site: LiveSite, tmp_path: Path) -> None:
    # An external entity pointing at a loopback server: it must never be asked for anything
    from aiohttp import web

    asked: list[str] = []

    async def record(request: web.Request) -> web.Response:
        asked.append(request.path)
        return web.Response(text="secret")

    app = web.Application()
    app.router.add_get("/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    server = web.TCPSite(runner, "127.0.0.1", 0)
    await server.start()
    port = runner.addresses[0][1]
    try:
        external = export([WpItem(1, "&xxe;", "xxe")]).replace(
            "<rss", f'<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "http://127.0.0.1:{port}/etc/passwd">\n]>\n<rss', 1
        )
        # A billion laughs: ten levels of ten references each
        bomb_entities = '<!ENTITY lol0 "lol">\n' + "\n".join(
            f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
        )
        bomb = export([WpItem(1, "&lol9;", "bomb")]).replace("<rss", f"<!DOCTYPE rss [\n{bomb_entities}\n]>\n<rss", 1)
        for name, text in (("external", external), ("bomb", bomb)):
            path = write_export(tmp_path / f"{name}.xml", text)
            with pytest.raises(WxrError, match="refused: the file declares entities") as failure:
                await import_wordpress(site.ctx, path)
            assert failure.value.line is not None and failure.value.line <= 4
    finally:
        await runner.cleanup()
    assert asked == []
    assert await count(site, "posts") == 0


async def test_import__wxr_1_0_and_1_1(site: LiveSite, tmp_path: Path) -> None:
    old = export([WpItem(1, "Ancien", "ancien", tags=[("vieux", "vieux")])], version="1.0").replace(
        'domain="post_tag"', 'domain="tag"'
    )
    await import_wordpress(site.ctx, write_export(tmp_path / "old.xml", old))
    await import_wordpress(site.ctx, write_export(tmp_path / "mid.xml", export([WpItem(2, "Moyen", "moyen")], "1.1")))
    ancien = await site.ctx.posts.get_post_by_slug("ancien")
    assert ancien is not None and ancien.tags == ("vieux",)
    assert await site.ctx.posts.get_post_by_slug("moyen") is not None


async def test_cli__import_prints_progress_and_the_report_and_a_bad_file_one_line(tmp_path: Path) -> None:
    import asyncio
    import os
    import sys

    from tests.conftest import make_site

    config = make_site(tmp_path / "site", "http://127.0.0.1:9")
    fedblog = str(Path(sys.executable).parent / "fedblog")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDBLOG_")}

    async def run(*args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            fedblog,
            "--config",
            str(config),
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        return int(process.returncode or 0), out.decode(), err.decode()

    good = write_export(tmp_path / "export.xml", export([french_post()]))
    code, out, err = await run("import", "wordpress", str(good), "--dry-run")
    assert code == 0 and out.startswith("Dry run, nothing written. WordPress import:")
    assert "import: 100% read, 1 items, 1 posts, 11 comments" in err  # not a terminal: plain lines
    code, out, err = await run("import", "wordpress", str(good))
    assert code == 0 and "posts: 1 (of which drafts: 0, scheduled: 0), pages: 0" in out
    assert "comments: 7 approved, 1 pending, 1 spam; pingbacks: 1, trackbacks: 1" in out
    bad = write_export(tmp_path / "bad.xml", export([french_post()]).replace("</channel>", ""))
    code, out, err = await run("import", "wordpress", str(bad))
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith(f"fedblog: {bad}: line ") and "malformed XML (mismatched tag)" in lines[0]
    assert lines[0].endswith("(nothing imported)")


async def test_import__not_news_for_the_email_notifier(site: LiveSite, tmp_path: Path) -> None:
    # Given the notifier has announced every comment so far (its mark at the top)
    async with site.ctx.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO notification_marks (stream, last_id, last_stamp, updated_at) "
            "VALUES ('comments', 0, NULL, '2026-01-01T00:00:00+00:00')"
        )
    await import_wordpress(site.ctx, write_export(tmp_path / "export.xml", export([french_post()])))
    # Then its mark moved past the imported comments: the next digest does not list 11 old comments
    mark = await site.ctx.db.fetch_value("SELECT last_id FROM notification_marks WHERE stream = 'comments'")
    assert mark == await site.ctx.db.fetch_value("SELECT MAX(id) FROM comments") == 11


async def test_import__an_item_too_large_is_refused_as_it_is_read(
    site: LiveSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The limit made small so that the file stays small: the refusal comes while the item is read, not after
    from fedblog.protocol import wxr

    monkeypatch.setattr(wxr, "MAX_ITEM_CHARS", 5_000)
    items = [WpItem(1, "Petit", "petit"), WpItem(2, "Gros", "gros", "x" * 6_000)]
    path = write_export(tmp_path / "big.xml", export(items))
    with pytest.raises(WxrError, match="an item of more than 5,000 characters is too large to be a post"):
        await import_wordpress(site.ctx, path)
    assert await count(site, "posts") == 0
