"""The data model of migration 020 on a real SQLite file: pages, categories, HTML bodies, pingbacks, old links."""

from __future__ import annotations

from fedblog.frontmatter import parse_document
from fedblog.models import BodyFormat, CommentKind, CommentOrigin, CommentStatus, PostKind
from fedblog.services.posts import PostInput, PostService, input_from_document
from fedblog.store.comments import NewComment
from fedblog.store.old_links import OldLinkStore
from fedblog.store.outbox import OutboxStore
from tests.conftest import LiveSite
from tests.integration.blog_support import publish


async def test_page__kept_out_of_the_post_lists_and_the_outbox_but_in_the_navigation(site: LiveSite) -> None:
    # Given a blog post and a page written from a Markdown file with `kind: page`
    await publish(site, "A blog post")
    document = parse_document("---\ntitle: About me\nslug: about\nkind: page\nmenu_order: 3\n---\nWho I am.\n")
    page = await PostService(site.ctx).publish(input_from_document(document))
    # Then the page is a page, in the navigation, and only the post is listed and federated
    assert page.kind == PostKind.PAGE and page.in_menu and page.menu_order == 3
    assert [post.title for post in await site.ctx.posts.list_published(10)] == ["A blog post"]
    assert await site.ctx.posts.list_menu_pages() == [("about", "About me")]
    assert await OutboxStore(site.ctx.db).count_public_creates() == 1


async def test_categories__set_from_front_matter_and_kept_by_an_edit_that_does_not_name_them(site: LiveSite) -> None:
    document = parse_document("---\ntitle: Sorted\ncategories: [Community management, Vie du blog]\n---\nBody.\n")
    post = await PostService(site.ctx).publish(input_from_document(document))
    assert [(c.slug, c.name) for c in post.categories] == [
        ("community-management", "Community management"),
        ("vie-du-blog", "Vie du blog"),
    ]
    # When the admin form edits it (it knows nothing of categories)
    edited = await PostService(site.ctx).edit(post.slug, PostInput(title="Sorted again", body_markdown="New."))
    assert [c.slug for c in edited.categories] == ["community-management", "vie-du-blog"]


async def test_html_body__sanitized_and_kept_as_html_by_later_edits(site: LiveSite) -> None:
    service = PostService(site.ctx)
    post = await service.publish(
        PostInput(
            title="Imported",
            body_markdown='<p onclick="x()">Hi <script>alert(1)</script><em>there</em></p>',
            body_format=BodyFormat.HTML,
        )
    )
    assert post.body_format == BodyFormat.HTML
    assert post.body_html == "<p>Hi <em>there</em></p>"
    edited = await service.edit(post.slug, PostInput(title="Imported", body_markdown="<p>*not markdown*</p>"))
    assert edited.body_html == "<p>*not markdown*</p>"


async def test_pingback_comment__stored_with_its_kind_and_wordpress_id(site: LiveSite) -> None:
    post = await publish(site, "Cited")
    async with site.ctx.db.transaction() as conn:
        author_id = await site.ctx.comments.get_or_create_visitor(
            conn, "Que ferait le Community manager ?", "", "http://127.0.0.1:9/que-ferait"
        )
        comment_id = await site.ctx.comments.insert_comment(
            conn,
            NewComment(
                post_id=post.id,
                parent_id=None,
                author_id=author_id,
                origin=CommentOrigin.WEB,
                status=CommentStatus.APPROVED,
                content_html="<p>[...] Manager une communauté [...]</p>",
                kind=CommentKind.PINGBACK,
                wp_comment_id=42,
                created_at="2009-03-15T10:00:00+00:00",
                approved_at="2009-03-15T10:00:00+00:00",
            ),
        )
    comment = await site.ctx.comments.get_comment(comment_id)
    assert comment is not None
    assert (comment.kind, comment.wp_comment_id) == (CommentKind.PINGBACK, 42)
    assert comment.approved_at is not None and comment.approved_at.year == 2009


async def test_old_links__a_path_finds_its_post_or_its_target(site: LiveSite) -> None:
    post = await publish(site, "Moved")
    store = OldLinkStore(site.ctx.db)
    async with site.ctx.db.transaction() as conn:
        await store.record_for_post(conn, post.id, ["/2009/03/14/moved/", "/?p=12"])
        await store.record_target(conn, "/wp-content/uploads/2009/03/a.jpg", "/media/2009/03/a.jpg")
    assert await store.find("/?p=12") == (post.id, None)
    assert await store.find("/wp-content/uploads/2009/03/a.jpg") == (None, "/media/2009/03/a.jpg")
    assert await store.find("/nowhere/") is None
