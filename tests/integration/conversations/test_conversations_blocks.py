"""Blocklists from the CLI and the admin: what the blocked source can then do (nothing), and what the pages show."""

from __future__ import annotations

from tests.conftest import LiveSite
from tests.fakes.remote import RemoteInstance, follow_activity
from tests.helpers import ADMIN_CSRF_RE, fedblog, log_in, page, publish
from tests.integration.blog_support import get, new_session


async def blocks(site: LiveSite, *args: str) -> tuple[int, str, str]:
    result = await fedblog("--config", str(site.settings.root / "fedblog.toml"), "blocks", *args)
    return result.code, result.out, result.err


async def test_cli_blocks__add_list_remove_and_the_blocked_server_is_refused(
    site: LiveSite, remote: RemoteInstance
) -> None:
    post = await publish(site)

    code, out, _ = await blocks(site, "add", remote.host)
    assert code == 0 and f"blocked domain {remote.host}" in out
    assert (await blocks(site, "list"))[1].split() == ["domain", remote.host]
    note = remote.note("alice", site.ctx.urls.note(post.slug), "<p>Blocked reply</p>")
    assert await remote.send("alice", remote.create("alice", note)) == 403
    assert "Blocked reply" not in await page(site, post)

    code, out, _ = await blocks(site, "remove", remote.host)
    assert code == 0 and f"unblocked {remote.host}" in out
    assert await remote.send("alice", remote.create("alice", note)) == 202
    assert "Blocked reply" in await page(site, post)


async def test_cli_blocks__bad_value_is_one_line_error(site: LiveSite) -> None:
    code, _, err = await blocks(site, "add", "not a domain!")
    assert code == 1 and err.startswith("fedblog: ") and err.count("\n") == 1


async def test_admin_blocks__add_shows_it_and_removes_the_follower(site: LiveSite, remote: RemoteInstance) -> None:
    from fedblog.store.followers import FollowerStore

    follow = follow_activity(remote, "alice", site.ctx.urls.actor())
    await remote.send("alice", follow)
    assert await FollowerStore(site.ctx.db).get(remote.actor_id("alice")) is not None
    async with new_session() as session:
        assert (await log_in(site, session)).status == 303
        blocks = await get(site, "/admin/blocks", session)
        match = ADMIN_CSRF_RE.search(blocks.text)
        assert match
        csrf = match.group(1)

        async with session.post(
            f"{site.url}/admin/blocks", data={"value": remote.actor_id("alice"), "csrf_token": csrf}
        ) as response:
            assert response.status == 200
            html = await response.text()
        assert f'<td class="block-value">{remote.actor_id("alice")}</td>' in html
        assert await FollowerStore(site.ctx.db).get(remote.actor_id("alice")) is None

        async with session.post(f"{site.url}/admin/blocks", data={"value": "x y", "csrf_token": csrf}) as response:
            assert response.status == 400
            assert "Enter a domain (example.com) or an account URL" in await response.text()
        async with session.post(
            f"{site.url}/admin/blocks/remove", data={"value": remote.actor_id("alice"), "csrf_token": csrf}
        ) as response:
            html = await response.text()
        assert "Nothing is blocked." in html


async def test_admin_blocks__needs_the_csrf_token(site: LiveSite) -> None:
    async with new_session() as session:
        assert (await log_in(site, session)).status == 303
        async with session.post(f"{site.url}/admin/blocks", data={"value": "evil.example"}) as response:
            assert response.status == 403
    from fedblog.services.blocks import list_blocks

    assert await list_blocks(site.ctx) == []
