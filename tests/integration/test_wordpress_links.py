"""After an import: old WordPress URLs answer 301 to the new ones, pages answer at /SLUG/, categories have pages
and feeds, pingbacks and other authors show as on WordPress; unknown URLs keep the normal 404."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bench.wordpress_export import WpItem, export
from fedblog.services.wordpress_import import import_wordpress
from tests.conftest import LiveSite
from tests.integration.blog_support import get, publish
from tests.integration.studio_support import Admin, post_fields
from tests.integration.wxr_support import french_post, write_export


async def imported_site(site: LiveSite, tmp_path: Path) -> None:
    items = [
        french_post(),
        WpItem(30, "À propos", "a-propos", type="page", link="http://127.0.0.1:9/a-propos/", content="Qui je suis."),
        WpItem(31, "Équipe", "equipe", type="page", parent=30, link="http://127.0.0.1:9/a-propos/equipe/"),
        WpItem(
            32,
            "Invité",
            "invite",
            creator="goundoulf",
            categories=[("sous-cat", "Sous-catégorie")],
            date="2010-05-02 08:00:00",
        ),
        WpItem(33, "Brouillon", "brouillon", status="draft"),
    ]
    categories = """
    <wp:category><wp:term_id>3</wp:term_id><wp:category_nicename><![CDATA[community-management]]></wp:category_nicename>
        <wp:category_parent><![CDATA[]]></wp:category_parent><wp:cat_name><![CDATA[Community management]]></wp:cat_name>
    </wp:category>
    <wp:category><wp:term_id>4</wp:term_id><wp:category_nicename><![CDATA[sous-cat]]></wp:category_nicename>
        <wp:category_parent><![CDATA[community-management]]></wp:category_parent>
        <wp:cat_name><![CDATA[Sous-catégorie]]></wp:cat_name></wp:category>"""
    await import_wordpress(site.ctx, write_export(tmp_path / "export.xml", export(items, categories=categories)))


async def location(site: LiveSite, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(site.url + path, allow_redirects=False, headers={"Accept": "text/html"}) as response,
    ):
        return response.status, response.headers.get("Location", "")


async def test_old_links__every_wordpress_shape_redirects_to_the_new_url(site: LiveSite, tmp_path: Path) -> None:
    await imported_site(site, tmp_path)
    post_url = site.url + "/posts/animer-une-communaute-les-bases"
    expected = {
        "/?p=12": post_url,
        "/?page_id=30": site.url + "/a-propos/",
        "/2009/03/14/animer-une-communaute-les-bases/": post_url,
        "/2009/03/animer-une-communaute-les-bases/": post_url,
        "/animer-une-communaute-les-bases/": post_url,
        "/category/community-management/animer-une-communaute-les-bases/": post_url,
        "/index.php/2009/03/14/animer-une-communaute-les-bases/": post_url,
        "/index.php?p=12": post_url,
        "/tag/reseaux-sociaux/": site.url + "/tags/r%C3%A9seauxSociaux",
        "/category/community-management/sous-cat/": site.url + "/category/sous-cat/",
        "/category/community-management": site.url + "/category/community-management/",
        "/feed/": site.url + "/feed.xml",
        "/?feed=rss2": site.url + "/feed.xml",
        "/comments/feed/": site.url + "/comments/feed.xml",
        "/animer-une-communaute-les-bases/feed/": post_url + "/comments.xml",
        "/category/community-management/feed/": site.url + "/category/community-management/feed.xml",
        "/2009/03/": site.url + "/archive/2009/03",
        "/author/admin/": site.url + "/",
        "/a-propos/equipe/": site.url + "/equipe/",
        "/posts/a-propos": site.url + "/a-propos/",
    }
    for path, new_url in expected.items():
        assert await location(site, path) == (301, new_url), path
    # Unknown URLs, drafts and a post's slug under /SLUG/ of nothing keep the normal 404
    for path in ("/?p=999", "/?p=33", "/2009/03/14/nothing-here/", "/wp-content/uploads/2009/03/x.jpg", "/nope/"):
        assert (await location(site, path))[0] == 404, path
    # The new URLs answer (no redirect loop)
    for path in ("/a-propos/", "/category/community-management/", "/category/community-management/feed.xml"):
        assert (await location(site, path))[0] == 200, path


async def test_pages_categories_and_authors__as_the_reader_sees_them(site: LiveSite, tmp_path: Path) -> None:
    await imported_site(site, tmp_path)
    await publish(site, "Written here")
    home = await get(site, "/")
    # The navigation links the top-level page, not its child; the home list has posts only
    assert '<a class="page-link" href="' + site.url + '/a-propos/">À propos</a>' in home.text
    assert "/equipe/" not in home.text
    assert "Written here" in home.text and "Qui je suis" not in home.text
    page = await get(site, "/a-propos/")
    assert page.status == 200 and "Qui je suis." in page.text
    assert f'<link rel="canonical" href="{site.url}/a-propos/">' in page.text
    # A post by another WordPress author says so; the blog's own posts keep the blog's author
    guest = await get(site, "/posts/invite")
    assert '<span class="byline">by <span class="p-author">Goundoulf le Gris</span></span>' in guest.text
    # The parent category lists its subcategory's post; its feed too
    category = await get(site, "/category/community-management/")
    assert "Invité" in category.text and "Animer une communauté" in category.text
    feed = await get(site, "/category/community-management/feed.xml")
    assert "<title>Invité</title>" in feed.text and 'scheme="' + site.url + '/category/sous-cat/"' in feed.text
    # The pingback shows as on WordPress: the source's title as a link, its excerpt between "[...]"
    post = await get(site, "/posts/animer-une-communaute-les-bases")
    assert (
        '<a class="comment-author ping-source" href="http://127.0.0.1:9/2009/03/15/que-ferait-le-community-manager/"'
        ' rel="nofollow ugc noopener">Que ferait le Community manager ? | Manager une communauté</a>'
    ) in post.text
    assert "[...] Que ferait le Community manager ? | Manager une communauté [...]" in post.text
    assert "9 comments" in post.text


async def test_imported_post__a_dereferenceable_note_with_its_date_and_category_hashtags(
    site: LiveSite, tmp_path: Path
) -> None:
    await imported_site(site, tmp_path)
    async with (
        aiohttp.ClientSession() as session,
        session.get(site.url + "/posts/invite", headers={"Accept": "application/activity+json"}) as response,
    ):
        note = await response.json(content_type=None)
    assert note["type"] == "Note" and note["published"].startswith("2010-05-02T08:00:00")
    assert {"type": "Hashtag", "href": site.url + "/category/sous-cat/", "name": "#Sous-catégorie"} in note["tag"]
    async with (
        aiohttp.ClientSession() as session,
        session.get(site.url + "/actor/outbox?page=1", headers={"Accept": "application/activity+json"}) as response,
    ):
        outbox = await response.json(content_type=None)
    assert [item["object"]["id"] for item in outbox["orderedItems"]] == [
        site.url + "/posts/invite",
        site.url + "/posts/animer-une-communaute-les-bases",
    ]


async def test_admin__authors_a_page_in_the_navigation_and_reorders_it(admin: Admin) -> None:
    site = admin.site
    for title, order in (("Colophon", "5"), ("Contact", "1")):
        page = await admin.post(
            "/admin/posts/new",
            post_fields(title=title, body="Écrivez-moi.", categories="Vie du blog")
            | {"kind": "page", "in_menu": "on", "menu_order": order, "comments_open": "on", "action": "publish"},
        )
        assert page.status == 303
    home = await get(site, "/")
    assert home.text.index(f'href="{site.url}/contact/"') < home.text.index(f'href="{site.url}/colophon/"')
    assert "Écrivez-moi." not in home.text  # not in the post list
    # Reordered in the admin: Colophon first
    form = await admin.get("/admin/posts/colophon/edit")
    assert '<input id="post-kind-page" name="kind" type="radio" value="page" checked>' in form.text
    await admin.post(
        "/admin/posts/colophon/edit",
        post_fields(title="Colophon", body="Écrivez-moi.", categories="Vie du blog")
        | {"kind": "page", "in_menu": "on", "menu_order": "0", "action": "publish"},
    )
    home = await get(site, "/")
    assert home.text.index(f'href="{site.url}/colophon/"') < home.text.index(f'href="{site.url}/contact/"')
    refused = await admin.post(
        "/admin/posts/contact/edit",
        post_fields(title="Contact", body="x") | {"kind": "page", "menu_order": "first", "action": "publish"},
    )
    assert refused.status == 400 and "expected a whole number" in refused.text


async def test_page__takes_comments_from_its_own_url(site: LiveSite) -> None:
    from fedblog.models import PostKind
    from fedblog.services.posts import PostInput, PostService
    from tests.integration.blog_support import csrf_token, new_session, post_form

    await PostService(site.ctx).publish(PostInput(title="Livre d'or", body_markdown="Signez ici.", kind=PostKind.PAGE))
    async with new_session() as session:
        page = await get(site, "/livre-d-or/", session)
        assert page.status == 200 and 'action="' in page.text
        data = {
            "name": "Ana",
            "email": "ana@example.org",
            "website": "",
            "message": "Bravo !",
            "parent_id": "",
            "nickname": "",
            "csrf_token": csrf_token(page.text),
        }
        sent = await post_form(site, "/posts/livre-d-or/comments", data, session)
        assert sent.status == 303
        # The visitor lands back on the page at its own URL, with their held comment's preview
        landing = await get(site, sent.headers["Location"].removeprefix(site.url), session)
        if landing.status == 301:
            landing = await get(site, landing.headers["Location"].removeprefix(site.url), session)
        assert landing.status == 200 and "Bravo !" in landing.text


async def test_sitemap__lists_a_page_at_its_own_url(site: LiveSite) -> None:
    from fedblog.models import PostKind
    from fedblog.services.posts import PostInput, PostService

    await PostService(site.ctx).publish(PostInput(title="Contact", body_markdown="x", kind=PostKind.PAGE))
    await publish(site, "A post")
    sitemap = (await get(site, "/sitemap.xml")).text
    assert f"<loc>{site.url}/contact/</loc>" in sitemap and f"<loc>{site.url}/posts/a-post</loc>" in sitemap


async def test_imported_pingback__a_link_from_the_web_not_a_fediverse_object(site: LiveSite, tmp_path: Path) -> None:
    await imported_site(site, tmp_path)
    post = await site.ctx.posts.get_post_by_slug("animer-une-communaute-les-bases")
    assert post is not None
    shown = {c.wp_comment_id: c for c in await site.ctx.comments.list_visible_for_post(post.id)}
    accept = {"Accept": "application/activity+json"}
    async with aiohttp.ClientSession() as session:
        async with session.get(site.ctx.urls.replies(post.slug, 1), headers=accept) as response:
            items = (await response.json(content_type=None))["orderedItems"]
        # The web comments are Notes of the thread; the pingback (207) and the trackback (208) are not
        assert site.ctx.urls.comment_object(shown[201].id) in items
        assert site.ctx.urls.comment_object(shown[207].id) not in items
        assert site.ctx.urls.comment_object(shown[208].id) not in items
        async with session.get(site.ctx.urls.comment_object(shown[207].id), headers=accept) as response:
            assert response.status == 404
