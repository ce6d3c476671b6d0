"""/metrics on the real app over real HTTP: off by default, loopback only without a token (and not through a
proxy), the bearer token when one is set; requests by route and status with latency, inbox activities by type and
outcome, signature failures by reason, deliveries by outcome, and the queue and heartbeats from the database."""

from __future__ import annotations

import json
import re

import aiohttp

from fedblog.services.metrics import delivery_outcome, signature_failure_reason
from fedblog.services.notifications import Outcome
from fedblog.web.notifier import NOTIFIER_KEY
from tests.conftest import LiveSite, SiteFactory, free_port
from tests.fakes.mail import SmtpInbox, notifications
from tests.fakes.remote import RemoteInstance, follow_activity
from tests.helpers import eventually
from tests.integration.blog_support import add_comment, publish

METRICS_ON = {"metrics": {"enabled": True}}


async def fetch(site: LiveSite, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(site.url + path, headers=headers or {}) as response:
        return response.status, await response.text()


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample, its labels matched in any order."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:]+)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(match.group(3))
    raise AssertionError(f"no sample {name} {labels}")


async def test_metrics__off_by_default(site: LiveSite) -> None:
    status, _ = await fetch(site, "/metrics")
    assert status == 404


async def test_metrics__requests_by_route_and_status_with_latency(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides=METRICS_ON)
    post = await publish(site, "Counted")
    for _ in range(3):
        assert (await fetch(site, f"/posts/{post.slug}"))[0] == 200
    assert (await fetch(site, "/posts/no-such-post"))[0] == 404
    status, text = await fetch(site, "/metrics")
    assert status == 200
    route = "/posts/{slug}"
    assert sample(text, "fedblog_http_requests_total", route=route, method="GET", status="200") == 3
    assert sample(text, "fedblog_http_requests_total", route=route, method="GET", status="404") == 1
    assert sample(text, "fedblog_http_request_duration_seconds_count", route=route) == 4
    assert sample(text, "fedblog_http_request_duration_seconds_bucket", route=route, le="+Inf") == 4
    # The first read of the page rendered it, the next two came from the cache
    assert sample(text, "fedblog_page_cache_lookups_total", result="miss") >= 1
    assert sample(text, "fedblog_page_cache_lookups_total", result="hit") >= 2
    # The queue, read from the database: nothing waits
    assert sample(text, "fedblog_queue_deliveries", state="pending") == 0
    assert sample(text, "fedblog_queue_oldest_pending_age_seconds") == 0


async def test_metrics__refused_through_a_proxy_without_a_token(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides=METRICS_ON)
    status, text = await fetch(site, "/metrics", {"X-Forwarded-For": "203.0.113.9"})
    assert status == 403
    assert "fedblog_" not in text


async def test_metrics__the_bearer_token_when_one_is_set(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides={"metrics": {"enabled": True, "token": "scrape-token-7"}})
    assert (await fetch(site, "/metrics"))[0] == 401  # loopback alone is not enough then
    assert (await fetch(site, "/metrics", {"Authorization": "Bearer wrong"}))[0] == 401
    status, text = await fetch(site, "/metrics", {"Authorization": "Bearer scrape-token-7"})
    assert status == 200 and "fedblog_http_requests_total" in text
    status, _ = await fetch(site, "/metrics", {"Authorization": "Bearer scrape-token-7", "X-Forwarded-For": "x"})
    assert status == 200  # a token may come from anywhere


async def test_metrics__inbox_outcomes_signature_failures_and_deliveries(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides=METRICS_ON)
    remote = await RemoteInstance(blog_public_key_pem=site.ctx.public_key_pem).start()
    try:
        # An unsigned Follow is refused; a signed one is accepted and its Accept delivered
        follow = follow_activity(remote, "alice", f"{site.url}/actor")
        async with aiohttp.ClientSession() as session:
            body = json.dumps(follow).encode()
            headers = {"Content-Type": "application/activity+json"}
            async with session.post(f"{site.url}/actor/inbox", data=body, headers=headers) as response:
                assert response.status == 401
        status, _ = await remote.post_signed("alice", f"{site.url}/actor/inbox", follow)
        assert status == 202
        await eventually(lambda: _accept_received(remote), "the Accept delivered")
        text = await eventually(lambda: _with_delivery(site), "the delivery counted")
    finally:
        await remote.close()
    assert sample(text, "fedblog_inbox_activities_total", type="Follow", outcome="signature") == 1
    assert sample(text, "fedblog_inbox_activities_total", type="Follow", outcome="accepted") == 1
    assert sample(text, "fedblog_inbox_signature_failures_total", reason="unsigned") == 1
    assert sample(text, "fedblog_deliveries_total", outcome="delivered") == 1


async def _accept_received(remote: RemoteInstance) -> bool:
    return any(item.activity["type"] == "Accept" for item in remote.received)


async def _with_delivery(site: LiveSite) -> str | None:
    _, text = await fetch(site, "/metrics")
    return text if 'fedblog_deliveries_total{outcome="delivered"}' in text else None


def test_labels__from_small_fixed_sets() -> None:
    assert signature_failure_reason("request is not signed") == "unsigned"
    assert signature_failure_reason("the signature's key does not belong to the activity's actor") == "key_owner"
    assert signature_failure_reason("cannot fetch the signature key: HTTP 410") == "key_unavailable"
    assert signature_failure_reason("Date is 3 hours away from now") == "time_window"
    assert signature_failure_reason("something nobody foresaw") == "invalid_signature"
    assert [delivery_outcome(s) for s in (202, 410, 404, 429, 503, None)] == [
        "delivered", "gone", "refused", "rate_limited", "server_error", "network_error",
    ]  # fmt: skip


async def test_metrics__webmentions_and_e_mails(site_factory: SiteFactory) -> None:
    smtp = SmtpInbox(free_port())
    await smtp.start()
    try:
        site = await site_factory(overrides=notifications(smtp.port) | METRICS_ON)
        await publish(site, "Mentioned", slug="mentioned")
        # A webmention without a target, then a held comment the author's digest tells of
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{site.url}/webmention", data={"source": "http://127.0.0.1:1/"}) as response,
        ):
            assert response.status == 400
        post = await site.ctx.posts.get_post_by_slug("mentioned")
        assert post is not None
        await add_comment(site, post, "Held for the digest", name="Visitor", email="v@example.org", approve=False)
        assert await site.app[NOTIFIER_KEY].run_once() == Outcome.SENT
        assert len(smtp.messages) == 1
        _, text = await fetch(site, "/metrics")
    finally:
        await smtp.stop()
    assert sample(text, "fedblog_webmentions_received_total", outcome="invalid") == 1
    assert sample(text, "fedblog_emails_total", kind="author_digest", outcome="sent") == 1
