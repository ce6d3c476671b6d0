"""Thread backfill: replies that grow under a fediverse comment without being delivered to the blog are read from
the comment's `replies` collection (and its `context` collection) on a loopback Mastodon and reach the post page,
each fetched from its origin, within the crawl's budgets, moderated like every other comment."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from fedblog.clock import from_text, to_text
from fedblog.models import CommentStatus
from fedblog.services import backfill
from fedblog.services.comments import CommentService
from fedblog.store.backfill import BackfillStore
from fedblog.store.blocks import BlockStore
from tests.conftest import LiveSite, SiteFactory
from tests.fakes.remote import RemoteInstance
from tests.helpers import eventually, log_in, page, publish, thread_parents
from tests.integration.blog_support import get, new_session


async def comment_id(site: LiveSite, remote_id: str) -> int | None:
    found = await site.ctx.comments.get_comment_by_remote_id(remote_id)
    return None if found is None else found.id


async def crawled(site: LiveSite, remote_id: str) -> bool:
    """The crawl of that comment's sub-thread has run (done, or due again later as an active thread)."""
    found = await site.ctx.comments.get_comment_by_remote_id(remote_id)
    if found is None:
        return False
    row = await site.ctx.db.fetch_one(
        "SELECT crawled_at FROM backfill_jobs WHERE comment_id = ?", (found.id,)
    )  # what the worker records when a crawl ends
    return row is not None and row[0] is not None


async def test_backfill__a_sub_thread_never_delivered_reaches_the_page_threaded(
    site: LiveSite, remote: RemoteInstance
) -> None:
    # Given: reply A to the post is delivered; B (bob, answering A) and C (carol, answering B) are not, but are in
    # A's and B's replies collections, C also embedded in B's with forged text
    post = await publish(site)
    a = remote.note("alice", site.ctx.urls.note(post.slug), "<p>A: first answer</p>")
    b = remote.note("bob", a["id"], "<p>B: bob answers alice</p>")
    c = remote.note("carol", b["id"], "<p>C: carol answers bob</p>")
    remote.answers(a, [b["id"]])
    remote.answers(b, [{**c, "content": "<p>FORGED embedded copy</p>"}])

    # When: only A arrives
    await remote.send("alice", remote.create("alice", a))

    # Then: the page shows A › B › C, each as its origin serves it
    c_id = await eventually(lambda: comment_id(site, c["id"]), "C found by backfill")
    a_id, b_id = await comment_id(site, a["id"]), await comment_id(site, b["id"])
    html = await page(site, post)
    parents = thread_parents(html)
    assert parents[a_id] is None and parents[b_id] == a_id and parents[c_id] == b_id  # type: ignore[index]
    assert "C: carol answers bob" in html and "FORGED" not in html
    assert f"/users/carol/statuses/{c['id'].rsplit('/', 1)[1]}" in remote.fetched  # fetched from its origin
    assert await BackfillStore(site.ctx.db).found_among([a_id, b_id, c_id]) == {b_id, c_id}  # type: ignore[list-item]


async def test_backfill__reads_the_context_collection_and_ignores_what_is_not_this_thread(
    site: LiveSite, remote: RemoteInstance
) -> None:
    # Given: A's server offers a context collection (FEP-7888) listing D, an answer to A missing from A's replies,
    # a Note of another conversation, and a followers-only answer
    post = await publish(site)
    a = remote.note("alice", site.ctx.urls.note(post.slug), "<p>A: the question</p>")
    d = remote.note("dave", a["id"], "<p>D: only in the context</p>")
    other = remote.note("erin", f"{remote.base}/users/zed/statuses/1", "<p>Another conversation</p>")
    private = remote.note("frank", a["id"], "<p>Followers only</p>", to=[f"{remote.actor_id('frank')}/followers"])
    context = f"{remote.base}/contexts/42"
    remote.objects["/contexts/42"] = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": context,
        "type": "OrderedCollection",
        "orderedItems": [a["id"], d["id"], other["id"], {"type": "Create", "object": private["id"]}],
    }
    a["context"] = context
    remote.objects[a["id"].removeprefix(remote.base)]["context"] = context

    await remote.send("alice", remote.create("alice", a))

    await eventually(lambda: crawled(site, a["id"]), "A's sub-thread crawled")
    html = await page(site, post)
    assert "D: only in the context" in html
    assert await comment_id(site, other["id"]) is None and "Another conversation" not in html
    assert await comment_id(site, private["id"]) is None and "Followers only" not in html


async def test_backfill__stops_at_its_depth_budget_and_survives_cycles(
    site: LiveSite, remote: RemoteInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backfill, "MAX_DEPTH", 3)
    # Given: a chain of 6 answers under A, each collection listing its parent and itself too (a cycle)
    post = await publish(site)
    a = remote.note("alice", site.ctx.urls.note(post.slug), "<p>A: root</p>")
    chain, parent = [], a
    for level in range(1, 7):
        answer = remote.note("bob", parent["id"], f"<p>level {level}</p>")
        chain.append(answer)
        parent = answer
    remote.answers(a, [chain[0]["id"], a["id"]])
    for upper, lower in itertools.pairwise(chain):
        remote.answers(upper, [lower["id"], upper["id"], a["id"]])

    await remote.send("alice", remote.create("alice", a))

    await eventually(lambda: crawled(site, a["id"]), "A's sub-thread crawled")
    stored = [await comment_id(site, note["id"]) for note in chain]
    assert all(stored[:3]) and not any(stored[3:])  # three levels below A, no more
    assert len(remote.fetched) == len(set(remote.fetched))  # nothing read twice


async def test_backfill__stops_at_its_request_budget(
    site: LiveSite, remote: RemoteInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backfill, "MAX_REQUESTS", 12)
    # Given: A's replies list 40 answers
    post = await publish(site)
    a = remote.note("alice", site.ctx.urls.note(post.slug), "<p>A: a crowded thread</p>")
    crowd = [remote.note("carol", a["id"], f"<p>crowd {n}</p>") for n in range(40)]
    remote.answers(a, [note["id"] for note in crowd])

    await remote.send("alice", remote.create("alice", a))

    await eventually(lambda: crawled(site, a["id"]), "A's sub-thread crawled")
    assert len(remote.fetched) <= 12  # A itself, its replies page, then answers until the budget is spent
    found = [note for note in crowd if await comment_id(site, note["id"])]
    assert 5 <= len(found) < 12


async def test_backfill__moderated_like_any_comment_and_read_below_approved_ones_only(
    site_factory: SiteFactory, remote: RemoteInstance
) -> None:
    site = await site_factory(overrides={"comments": {"moderation": "hold_all"}})
    remote.site = site
    post = await publish(site)
    a = remote.note("alice", site.ctx.urls.note(post.slug), "<p>A: held first</p>")
    b = remote.note("bob", a["id"], "<p>B: found under A</p>")
    c = remote.note("carol", b["id"], "<p>C: found under B</p>")
    blocked = remote.note("mallory", a["id"], "<p>From a blocked account</p>")
    remote.answers(a, [b["id"], blocked["id"]])
    remote.answers(b, [c["id"]])
    async with site.ctx.db.transaction() as conn:
        await BlockStore(site.ctx.db).add(conn, "actor", remote.actor_id("mallory"))

    # A held: nothing is crawled
    await remote.send("alice", remote.create("alice", a))
    a_comment = await site.ctx.comments.get_comment_by_remote_id(a["id"])
    assert a_comment is not None and a_comment.status == CommentStatus.PENDING
    assert await BackfillStore(site.ctx.db).job_state(a_comment.id) is None

    # The author approves A: B is found, and held like any comment; C waits for B's approval
    await CommentService(site.ctx).approve(a_comment.id)
    await eventually(lambda: crawled(site, a["id"]), "A's sub-thread crawled")
    b_comment = await site.ctx.comments.get_comment_by_remote_id(b["id"])
    assert b_comment is not None and b_comment.status == CommentStatus.PENDING
    assert await comment_id(site, c["id"]) is None
    assert await comment_id(site, blocked["id"]) is None
    assert "B: found under A" not in await page(site, post)
    async with new_session() as admin:
        assert (await log_in(site, admin)).status == 303
        queue = (await get(site, "/admin/comments?status=pending", admin)).text
    assert "B: found under A" in queue and "found by backfill" in queue

    await CommentService(site.ctx).approve(b_comment.id)
    await eventually(lambda: comment_id(site, c["id"]), "C found once B is approved")
    assert "B: found under A" in await page(site, post)


async def test_backfill__a_reply_just_written_is_crawled_only_once_answers_can_exist(
    site: LiveSite, remote: RemoteInstance
) -> None:
    # Given a reply written a moment ago (its replies collection cannot hold anything yet) and one written an hour ago
    post = await publish(site)
    now = datetime.now(UTC)
    fresh = remote.note("alice", site.ctx.urls.note(post.slug), "<p>Fresh</p>", published=to_text(now))
    an_hour_ago = to_text(now - timedelta(hours=1))
    older = remote.note("bob", site.ctx.urls.note(post.slug), "<p>Older</p>", published=an_hour_ago)
    # When both arrive
    await remote.send("alice", remote.create("alice", fresh))
    await remote.send("bob", remote.create("bob", older))
    # Then the older one's sub-thread is read at once, the fresh one's is left for later: no fetch back to its
    # server for each reply that arrives, its crawl due ten minutes after it was written
    assert await eventually(lambda: crawled(site, older["id"]), "older reply crawled")
    fresh_id = await comment_id(site, fresh["id"])
    due = await site.ctx.db.fetch_value("SELECT next_attempt_at FROM backfill_jobs WHERE comment_id = ?", (fresh_id,))
    assert due is not None and timedelta(minutes=9) < from_text(due) - now <= timedelta(minutes=10, seconds=5)  # type: ignore[operator]
    assert not await crawled(site, fresh["id"])
    fresh_path = fresh["id"].removeprefix(remote.base)
    assert not [path for path in remote.fetched if path.startswith(fresh_path)]


async def test_backfill__an_active_thread_is_crawled_again_later_a_quiet_one_is_not(
    site_factory: SiteFactory, remote: RemoteInstance
) -> None:
    # (a reply written now is first crawled at once, not after the minutes its answers usually take)
    site = await site_factory(
        overrides={"comments": {"moderation": "open"}, "federation": {"backfill_first_crawl_minutes": 0}}
    )
    remote.site = site
    post = await publish(site)
    today = to_text(datetime.now(UTC))
    a = remote.note("alice", site.ctx.urls.note(post.slug), "<p>A: first answer</p>", published=today)
    remote.answers(a, [])
    await remote.send("alice", remote.create("alice", a))
    await eventually(lambda: crawled(site, a["id"]), "A's sub-thread crawled")
    a_id = await comment_id(site, a["id"])
    job = "SELECT state, next_attempt_at FROM backfill_jobs WHERE comment_id = ?"
    # Given a thread with a comment today: A's crawl is due again in six hours, not done
    state, due = await site.ctx.db.fetch_one(job, (a_id,))  # type: ignore[misc]
    assert state == "pending"
    wait = from_text(due) - datetime.now(UTC)  # type: ignore[operator]
    assert timedelta(hours=5) < wait <= backfill.RECRAWL_AFTER

    async def time_passes(comments_written_days_ago: int = 0) -> None:
        now = datetime.now(UTC)
        async with site.ctx.db.transaction() as conn:
            await conn.execute(
                "UPDATE backfill_jobs SET next_attempt_at = ?, crawled_at = NULL WHERE comment_id = ?",
                (to_text(now), a_id),
            )
            if comments_written_days_ago:
                written = to_text(now - timedelta(days=comments_written_days_ago))
                await conn.execute("UPDATE comments SET created_at = ? WHERE post_id = ?", (written, post.id))
        site.ctx.runtime.backfill_wakeup.set()

    # When a reply D grows under A without being delivered, and the six hours pass
    d = remote.note("dave", a["id"], "<p>D: a later answer</p>", published=today)
    remote.answers(a, [d["id"]])
    await time_passes()
    # Then the second crawl finds it
    d_id = await eventually(lambda: comment_id(site, d["id"]), "D found by the second crawl")
    assert thread_parents(await page(site, post))[d_id] == a_id
    # And a thread quiet for more than a week gets its last crawl: nothing is due after it
    await time_passes(comments_written_days_ago=8)
    await eventually(lambda: crawled(site, a["id"]), "A's sub-thread crawled again")
    assert await BackfillStore(site.ctx.db).job_state(a_id) == "done"  # type: ignore[arg-type]


async def test_backfill__stops_at_the_posts_budget_over_all_its_crawls(
    site: LiveSite, remote: RemoteInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backfill, "MAX_PER_POST", 3)
    # Given: two delivered replies to the post, each with four answers that were not delivered
    post = await publish(site)
    roots = [remote.note("alice", site.ctx.urls.note(post.slug), f"<p>root {n}</p>") for n in range(2)]
    answers = {root["id"]: [remote.note("carol", root["id"], f"<p>answer {n}</p>") for n in range(4)] for root in roots}
    for root in roots:
        remote.answers(root, [note["id"] for note in answers[root["id"]]])
    # When both arrive and their sub-threads are crawled
    for root in roots:
        await remote.send("alice", remote.create("alice", root))
        await eventually(lambda root=root: crawled(site, root["id"]), "the sub-thread crawled")  # type: ignore[misc]
    # Then the post got three comments by backfill in all, none past its budget
    found = [note for notes in answers.values() for note in notes if await comment_id(site, note["id"])]
    assert len(found) == 3


class Stopwatch:
    """Stands for the time module in services/backfill.py: ten seconds pass at each look at the clock."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        self.now += 10.0
        return self.now


async def test_backfill__stops_at_its_time_budget(
    site: LiveSite, remote: RemoteInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backfill, "CRAWL_SECONDS", 35.0)
    monkeypatch.setattr(backfill, "time", Stopwatch())
    post = await publish(site)
    a = remote.note("alice", site.ctx.urls.note(post.slug), "<p>A: slow server</p>")
    crowd = [remote.note("carol", a["id"], f"<p>crowd {n}</p>") for n in range(10)]
    remote.answers(a, [note["id"] for note in crowd])
    await remote.send("alice", remote.create("alice", a))
    await eventually(lambda: crawled(site, a["id"]), "A's sub-thread crawled")
    # A, its replies page and an answer or two fit in the 35 seconds the crawl may take (the request and comment
    # budgets are far off): the rest waits
    found = [note for note in crowd if await comment_id(site, note["id"])]
    assert 0 < len(found) <= 2


async def test_backfill__a_note_its_server_attributes_to_an_actor_of_another_server_is_not_taken(
    site: LiveSite, remote: RemoteInstance
) -> None:
    elsewhere = await RemoteInstance(site=site).start()
    try:
        # Given: A's replies list a Note served by A's server but attributed to an account of another server
        post = await publish(site)
        a = remote.note("alice", site.ctx.urls.note(post.slug), "<p>A: who answers?</p>")
        impostor = remote.note("bob", a["id"], "<p>Words put in another's mouth</p>")
        impostor["attributedTo"] = elsewhere.actor_id("victim")
        remote.objects[impostor["id"].removeprefix(remote.base)]["attributedTo"] = impostor["attributedTo"]
        honest = remote.note("carol", a["id"], "<p>An honest answer</p>")
        remote.answers(a, [impostor["id"], honest["id"]])
        # When A arrives and its sub-thread is crawled
        await remote.send("alice", remote.create("alice", a))
        await eventually(lambda: crawled(site, a["id"]), "A's sub-thread crawled")
        # Then only the Note attributed to its own server's account is on the page
        html = await page(site, post)
        assert "An honest answer" in html
        assert await comment_id(site, impostor["id"]) is None and "another's mouth" not in html
    finally:
        await elsewhere.close()
