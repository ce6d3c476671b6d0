"""The admin dashboard on the real app: server-rendered SVG charts of followers, comments and deliveries, with
their numbers beside them, the hosts that fail most, and the most read and most answered posts."""

from __future__ import annotations

import re

from fedblog.clock import utcnow
from fedblog.store.deliveries import DeliveryStore
from fedblog.store.followers import FollowerStore
from tests.conftest import LiveSite
from tests.integration.blog_support import add_comment, get, publish
from tests.integration.studio_support import Admin


async def follow(site: LiveSite, name: str) -> None:
    # On loopback, at a port where nothing listens: deliveries of the posts published below fail at once, locally.
    base = f"http://127.0.0.1:9/users/{name}"
    async with site.ctx.db.transaction() as conn:
        await FollowerStore(site.ctx.db).upsert(
            conn,
            actor_id=base,
            inbox=f"{base}/inbox",
            shared_inbox=None,
            handle=f"@{name}@127.0.0.1:9",
            name=name,
            follow_activity_id=f"{base}#follow",
            follow_json="{}",
            status="accepted",
        )


def chart(html: str, name: str) -> str:
    match = re.search(rf'<section class="chart-card" aria-labelledby="chart-{name}-heading">.*?</section>', html, re.S)
    assert match, f"no {name} chart"
    return match.group(0)


async def test_dashboard__charts_and_numbers_follow_what_happened(admin: Admin) -> None:
    site = admin.site
    popular = await publish(site, "Popular post")
    quiet = await publish(site, "Quiet post")
    # Followers come after the posts: no delivery of them is attempted during the test.
    for name in ("ana", "bo", "cy"):
        await follow(site, name)
    async with site.ctx.db.transaction() as conn:
        await FollowerStore(site.ctx.db).remove(conn, "http://127.0.0.1:9/users/bo")
    for n in range(3):
        await add_comment(site, popular, f"Comment {n}", name=f"R{n}", email=f"r{n}@example.org")
    fediverse = await add_comment(site, quiet, "From afar", name="Far", email="far@example.org")
    async with site.ctx.db.transaction() as conn:
        await conn.execute("UPDATE comments SET origin = 'fediverse' WHERE id = ?", (fediverse.id,))
        activity_id = await conn.fetch_value("SELECT id FROM outbox LIMIT 1")
        targets = [(f"https://h{n}.example/inbox", f"h{n}.example") for n in range(4)]
        targets += [
            ("https://flaky.example/inbox", "flaky.example"),
            ("https://flaky.example/u/inbox", "flaky.example"),
        ]
        await DeliveryStore(site.ctx.db).insert_jobs(conn, activity_id, targets, utcnow())
        await conn.execute("UPDATE deliveries SET status = 'delivered', attempts = 1 WHERE host LIKE 'h%'")
        await conn.execute("UPDATE deliveries SET status = 'failed', attempts = 8 WHERE host = 'flaky.example'")
    for _ in range(3):
        assert (await get(site, f"/posts/{popular.slug}")).status == 200
    assert (await get(site, f"/posts/{quiet.slug}")).status == 200

    page = await admin.get("/admin")
    assert page.status == 200
    followers = chart(page.text, "followers")
    assert '<svg class="chart" id="chart-followers"' in followers and 'role="img"' in followers
    assert '<desc id="chart-followers-desc">gained: 3, lost: 1</desc>' in followers
    assert (
        '<strong class="total-gained">3</strong>' in followers and '<strong class="total-lost">1</strong>' in followers
    )
    assert followers.count('<rect class="bar-gained"') == 1  # all on today's bar
    today = utcnow().date().isoformat()
    assert f'<tr><th scope="row">{today}</th><td>3</td><td>1</td></tr>' in followers
    comments = chart(page.text, "comments")
    assert "web form: 3, fediverse: 1, webmention: 0" in comments
    deliveries = chart(page.text, "deliveries")
    assert "delivered: 4, retried: 0, failed: 2" in deliveries
    failing = re.search(r'<ol class="top-list" id="failing-hosts">.*?</ol>', page.text, re.S)
    assert failing and "flaky.example" in failing.group(0) and "h0.example" not in failing.group(0)
    read = re.search(r'<ol class="top-list" id="most-read">.*?</ol>', page.text, re.S)
    assert read and read.group(0).index("Popular post") < read.group(0).index("Quiet post")
    assert "3 views" in read.group(0) and "1 view<" in read.group(0)
    answered = re.search(r'<ol class="top-list" id="most-answered">.*?</ol>', page.text, re.S)
    assert answered and "Popular post" in answered.group(0) and "3 comments" in answered.group(0)
    assert "<script" not in page.text.split("<main", 1)[1]  # charts need no JavaScript
