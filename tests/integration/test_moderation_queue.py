"""The moderation queue at scale on the real app: bulk actions, filters by source, search, and replies shown as
"in reply to NAME: first words"."""

from __future__ import annotations

from fedblog.models import CommentStatus
from tests.conftest import LiveSite
from tests.integration.blog_support import add_comment, publish
from tests.integration.studio_support import Admin


async def set_origin(site: LiveSite, comment_id: int, origin: str) -> None:
    # The queue's filter reads the stored origin; the fediverse and webmention paths are tested elsewhere.
    async with site.ctx.db.transaction() as conn:
        await conn.execute("UPDATE comments SET origin = ? WHERE id = ?", (origin, comment_id))


async def statuses(site: LiveSite) -> dict[str, int]:
    return await site.ctx.comments.count_by_status()


async def test_bulk__approve_spam_and_delete_the_checked_comments_only(admin: Admin) -> None:
    site = admin.site
    post = await publish(site, "Busy thread")
    held = [
        await add_comment(
            site, post, f"Message number {n}", name=f"Visitor {n}", email=f"v{n}@example.org", approve=False
        )
        for n in range(6)
    ]
    assert (await statuses(site)).get("pending") == 6
    view = {"tab": "pending", "page": "1", "origin": "", "q": ""}
    page = await admin.post("/admin/comments/bulk", {**view, "bulk": "approve", "ids": str(held[0].id)})
    assert page.status == 303
    # aiohttp sends repeated fields from a list of pairs
    async with admin.session.post(
        site.url + "/admin/comments/bulk",
        data=[
            ("csrf_token", admin.csrf),
            *view.items(),
            ("bulk", "spam"),
            ("ids", str(held[1].id)),
            ("ids", str(held[2].id)),
        ],
        allow_redirects=False,
    ) as response:
        assert response.status == 303
        location = response.headers["Location"]
    shown = await admin.get(location)
    assert "2 comments marked as spam." in shown.text
    async with admin.session.post(
        site.url + "/admin/comments/bulk",
        data=[
            ("csrf_token", admin.csrf),
            *view.items(),
            ("bulk", "delete"),
            ("ids", str(held[3].id)),
            ("ids", "999999"),
        ],
        allow_redirects=False,
    ) as response:
        assert response.status == 303
    assert await statuses(site) == {"approved": 1, "spam": 2, "pending": 2}
    assert await site.ctx.comments.get_comment(held[3].id) is None
    # Without the CSRF token nothing happens.
    refused = await admin.post(
        "/admin/comments/bulk", {**view, "bulk": "delete", "ids": str(held[4].id)}, with_csrf=False
    )
    assert refused.status == 403 and await site.ctx.comments.get_comment(held[4].id) is not None


async def test_queue__filters_by_source_and_words_and_names_the_parent(admin: Admin) -> None:
    site = admin.site
    post = await publish(site, "Sources")
    parent = await add_comment(
        site, post, "The first words of a long and thoughtful comment about trains", name="Ada", email="ada@example.org"
    )
    reply = await add_comment(
        site, post, "I disagree about trains", name="Bob", email="bob@example.org", parent=parent, approve=False
    )
    other = await add_comment(site, post, "Something about boats", name="Cy", email="cy@example.org", approve=False)
    await set_origin(site, other.id, "fediverse")

    page = await admin.get("/admin/comments?status=pending")
    item = page.text.split(f'id="comment-{reply.id}"', 1)[1].split("</article>", 1)[0]
    assert "Ada: The first words of a long and thoughtful comment" in item and f"#{parent.id}" not in item

    fediverse = await admin.get("/admin/comments?status=pending&origin=fediverse")
    assert f'id="comment-{other.id}"' in fediverse.text and f'id="comment-{reply.id}"' not in fediverse.text
    web = await admin.get("/admin/comments?status=pending&origin=web")
    assert f'id="comment-{reply.id}"' in web.text and f'id="comment-{other.id}"' not in web.text

    search = await admin.get("/admin/comments?status=pending&q=BOATS")
    assert f'id="comment-{other.id}"' in search.text and f'id="comment-{reply.id}"' not in search.text
    by_email = await admin.get("/admin/comments?status=pending&q=bob%40example")
    assert f'id="comment-{reply.id}"' in by_email.text and f'id="comment-{other.id}"' not in by_email.text
    wildcard = await admin.get("/admin/comments?status=pending&q=%25")
    assert "No comments match." in wildcard.text
    # A single action keeps the filtered view.
    done = await admin.post(
        f"/admin/comments/{other.id}/approve", {"tab": "pending", "page": "1", "origin": "fediverse", "q": "boats"}
    )
    assert (
        done.status == 303 and "origin=fediverse" in done.headers["Location"] and "q=boats" in done.headers["Location"]
    )
    assert (await site.ctx.comments.get_comment(other.id)).status == CommentStatus.APPROVED  # type: ignore[union-attr]
