"""Reports: a Flag from another server's moderator about a comment on the blog reaches the admin's reports page
with the reporter and the reason, is never shown on the post page, and can be dismissed."""

from __future__ import annotations

from fedblog.services.comments import CommentForm, CommentService
from tests.conftest import LiveSite
from tests.fakes.remote import RemoteInstance
from tests.helpers import page, publish
from tests.integration.blog_support import get, post_form
from tests.integration.fed_support import admin_session


def flag(remote: RemoteInstance, reporter: str, objects: list[str], reason: str, number: int = 1) -> dict[str, object]:
    """A Flag as Mastodon 4 sends it: by the reporting account, naming the reported account and its posts."""
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{remote.actor_id(reporter)}/flags/{number}",
        "type": "Flag",
        "actor": remote.actor_id(reporter),
        "content": reason,
        "object": objects,
    }


async def test_flag__reaches_the_reports_page_with_reporter_and_reason_never_the_post(
    site: LiveSite, remote: RemoteInstance
) -> None:
    post = await publish(site)
    urls = site.ctx.urls
    form = CommentForm(name="Vera", email="vera@example.org", message="Buy cheap watches here")
    visitor = (await CommentService(site.ctx).submit_web_comment(post, form, ip=None)).comment
    assert visitor is not None
    reason = "Spam <b>links</b> in this comment"
    report = flag(remote, "moderator", [urls.actor(), urls.comment_object(visitor.id)], reason)

    assert await remote.send("moderator", report) == 202
    assert await remote.send("moderator", report) == 202  # a redelivery: still one report

    session, csrf = await admin_session(site)
    try:
        shown = await get(site, "/admin/reports", session)
        assert shown.status == 200
        assert shown.text.count('class="reporter"') == 2  # the comment, and the blog's actor it names
        assert remote.actor_id("moderator") in shown.text
        assert "Spam links in this comment" in shown.text  # plain text: the markup is dropped
        assert "Buy cheap watches here" in shown.text and "Vera" in shown.text
        assert 'href="/admin/reports"' in (await get(site, "/admin", session)).text  # in the admin's menu
        # In the moderation queue too, beside the comment reported, with the reporter and the reason
        queue = (await get(site, "/admin/comments?status=approved", session)).text
        item = queue.split(f'id="comment-{visitor.id}"')[1].split("</article>")[0]
        assert remote.actor_id("moderator") in item and "Spam links in this comment" in item
        public = await page(site, post)
        assert "Spam links" not in public and "moderator" not in public

        report_ids = [int(part.split('"')[0]) for part in shown.text.split('id="report-')[1:]]
        refused = await post_form(site, f"/admin/reports/{report_ids[0]}/dismiss", {}, session)
        assert refused.status == 403
        done = await post_form(site, f"/admin/reports/{report_ids[0]}/dismiss", {"csrf_token": csrf}, session)
        assert done.status == 303
        after = await get(site, "/admin/reports", session)
        assert after.text.count('class="reporter"') == 1
    finally:
        await session.close()
    assert (await get(site, "/admin/reports")).status in (302, 303)  # not for visitors


async def test_flag__naming_nothing_of_the_blog_or_forwarded_is_not_kept(
    site: LiveSite, remote: RemoteInstance
) -> None:
    elsewhere = flag(remote, "moderator", [remote.actor_id("bob"), f"{remote.base}/notes/1"], "Not about you")
    forwarded = flag(remote, "moderator", [site.ctx.urls.actor()], "Signed by someone else", number=2)

    assert await remote.send("moderator", elsewhere) == 202
    await remote.send("moderator", forwarded, key_name="bob")  # the inbox refuses it; the handler would not keep it

    session, _ = await admin_session(site)
    try:
        shown = await get(site, "/admin/reports", session)
    finally:
        await session.close()
    assert "No reports." in shown.text and "Not about you" not in shown.text and "someone else" not in shown.text
