"""Remote interaction: "Reply from your fediverse account" and "Follow" send the visitor to their own server,
found by WebFinger on a loopback server (http is allowed only because the test site allows private addresses)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from fedblog.services.comments import CommentForm, CommentService
from fedblog.services.interaction import interaction_url, parse_handle
from tests.conftest import LiveSite
from tests.fakes.remote import RemoteInstance
from tests.helpers import page, publish
from tests.integration.blog_support import get, new_session, post_form


def mastodon_jrd(remote: RemoteInstance, name: str) -> dict:
    """Like samples/webfinger-mastodon.json: the subscribe template is on the reader's server."""
    return {
        "subject": f"acct:{name}@{remote.host}:{remote.port}",
        "links": [
            {"rel": "self", "type": "application/activity+json", "href": remote.actor_id(name)},
            {
                "rel": "http://ostatus.org/schema/1.0/subscribe",
                "template": f"{remote.base}/authorize_interaction?uri={{uri}}",
            },
        ],
    }


async def submit(site: LiveSite, data: dict[str, str]) -> tuple[int, str, str]:
    async with new_session() as session:
        result = await post_form(site, "/interact", data, session)
    return result.status, result.headers.get("Location", ""), result.text


async def test_reply_from_fediverse__redirects_to_the_visitors_authorize_interaction(
    site: LiveSite, remote: RemoteInstance
) -> None:
    remote.webfinger[f"acct:alice@{remote.host}:{remote.port}"] = mastodon_jrd(remote, "alice")
    post = await publish(site)
    note_id = site.ctx.urls.note(post.slug)
    assert f'name="object" value="{note_id}"' in await page(site, post)  # the form is on the post page

    status, location, _ = await submit(site, {"object": note_id, "handle": remote.address("alice")})

    assert status == 303
    assert location == f"{remote.base}/authorize_interaction?uri={quote(note_id, safe='')}"


async def test_reply_to_a_comment__hands_over_the_comments_id(site: LiveSite, remote: RemoteInstance) -> None:
    remote.webfinger[f"acct:alice@{remote.host}:{remote.port}"] = mastodon_jrd(remote, "alice")
    post = await publish(site)
    form = CommentForm(name="Vera", email="vera@example.org", message="A web comment")
    comment = (await CommentService(site.ctx).submit_web_comment(post, form, ip=None)).comment
    assert comment is not None
    object_id = site.ctx.urls.comment_object(comment.id)
    assert site.ctx.urls.interact(object_id) in await page(site, post)  # the link under the comment
    form_page = await get(site, site.ctx.urls.interact(object_id).removeprefix(site.url))
    assert form_page.status == 200 and f'value="{object_id}"' in form_page.text

    status, location, _ = await submit(site, {"object": object_id, "handle": f"alice@{remote.host}:{remote.port}"})

    assert status == 303 and location.endswith(quote(object_id, safe=""))


async def test_follow__hands_over_the_blog_actor(site: LiveSite, remote: RemoteInstance) -> None:
    remote.webfinger[f"acct:alice@{remote.host}:{remote.port}"] = mastodon_jrd(remote, "alice")
    follow_page = await get(site, "/interact?follow=1")
    assert follow_page.status == 200 and site.ctx.urls.handle() in follow_page.text

    status, location, _ = await submit(site, {"follow": "1", "handle": remote.address("alice")})

    assert status == 303
    assert location == f"{remote.base}/authorize_interaction?uri={quote(site.ctx.urls.actor(), safe='')}"


async def test_fep_3b86_intents__are_preferred_when_offered(site: LiveSite, remote: RemoteInstance) -> None:
    jrd = mastodon_jrd(remote, "alice")
    jrd["links"].append(
        {
            "rel": "https://w3id.org/fep/3b86/Create",
            "template": f"{remote.base}/share?inReplyTo={{inReplyTo}}&x={{name}}",
        }
    )
    remote.webfinger[f"acct:alice@{remote.host}:{remote.port}"] = jrd
    post = await publish(site)
    note_id = site.ctx.urls.note(post.slug)

    status, location, _ = await submit(site, {"object": note_id, "handle": remote.address("alice")})

    assert status == 303 and location == f"{remote.base}/share?inReplyTo={quote(note_id, safe='')}&x="


@pytest.mark.parametrize("handle", ["", "alice", "@alice", "alice@", "al ice@host.example", "<script>@x.example"])
async def test_bad_handle__explains_next_to_the_field(site: LiveSite, handle: str) -> None:
    post = await publish(site)

    status, _, html = await submit(site, {"object": site.ctx.urls.note(post.slug), "handle": handle})

    assert status == 400
    field = html[html.index('id="interaction-handle"') :]
    assert 'aria-invalid="true"' in field[: field.index(">")]
    assert "Enter your fediverse address like @name@example.social." in field
    assert "<script>@" not in html


async def test_unknown_account__says_it_was_not_found(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)

    status, _, html = await submit(site, {"object": site.ctx.urls.note(post.slug), "handle": remote.address("nobody")})

    assert status == 400
    assert f"We could not find @nobody@{remote.host}:{remote.port}: check the address." in html


async def test_server_without_template__says_so(site: LiveSite, remote: RemoteInstance) -> None:
    jrd = mastodon_jrd(remote, "alice")
    jrd["links"] = jrd["links"][:1]
    remote.webfinger[f"acct:alice@{remote.host}:{remote.port}"] = jrd
    post = await publish(site)

    status, _, html = await submit(site, {"object": site.ctx.urls.note(post.slug), "handle": remote.address("alice")})

    assert status == 400
    assert "Your server does not say where to reply or follow from" in html


async def test_objects_that_are_not_ours__are_not_found(site: LiveSite) -> None:
    status, _, _ = await submit(site, {"object": "https://evil.example/x", "handle": "@a@b.example"})
    assert status == 404


def test_parse_handle__accepts_the_usual_spellings() -> None:
    for text in ("@alice@m.example", "alice@m.example", "acct:alice@m.example", " @alice@M.example "):
        found = parse_handle(text)
        assert found is not None and (found.user, found.host) == ("alice", "m.example")
    assert parse_handle("alice@m.example/path") is None


def test_interaction_url__refuses_javascript_templates() -> None:
    jrd = {"links": [{"rel": "http://ostatus.org/schema/1.0/subscribe", "template": "javascript:alert({uri})"}]}
    assert interaction_url(jrd, "reply", "https://b.example/posts/x") is None


async def test_profile_page__links_to_the_follow_form(site: LiveSite) -> None:
    profile = await get(site, "/@author", headers={"Accept": "text/html"})
    assert profile.status == 200
    assert 'href="' + site.ctx.urls.interact() + '"' in profile.text


async def test_reply_to_a_fediverse_comment__hands_over_its_own_id(site: LiveSite, remote: RemoteInstance) -> None:
    remote.webfinger[f"acct:bob@{remote.host}:{remote.port}"] = mastodon_jrd(remote, "bob")
    post = await publish(site)
    note = remote.note("alice", site.ctx.urls.note(post.slug), "<p>From Mastodon</p>")
    await remote.send("alice", remote.create("alice", note))
    comment = await site.ctx.comments.get_comment_by_remote_id(note["id"])
    assert comment is not None
    link = site.ctx.urls.interact(site.ctx.urls.comment_object(comment.id))
    assert link in await page(site, post)
    form_page = await get(site, link.removeprefix(site.url))
    assert form_page.status == 200
    assert f'name="object" value="{site.ctx.urls.comment_object(comment.id)}"' in form_page.text  # posted back as is

    status, location, _ = await submit(
        site, {"object": site.ctx.urls.comment_object(comment.id), "handle": remote.address("bob")}
    )

    assert status == 303 and location.endswith(quote(note["id"], safe=""))
