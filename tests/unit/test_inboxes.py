"""Follower inboxes: http(s) on the actor's own origin (a shared inbox on its host), never the blog, no private IPs."""

from __future__ import annotations

import pytest

from fedblog.protocol.inboxes import inbox_problem

ACTOR = "https://social.example/users/alice"
BLOG = "https://blog.example"


@pytest.mark.parametrize(
    ("inbox", "shared", "reason"),
    [
        ("https://blog.example/actor/inbox", None, "on this blog"),
        ("https://social.example/users/alice/inbox", "https://blog.example/inbox", "shared inbox is on this blog"),
        ("https://other.example/inbox", None, "not on the actor's server"),
        ("http://social.example/users/alice/inbox", None, "not on the actor's server"),  # another scheme
        ("https://social.example:8443/users/alice/inbox", None, "not on the actor's server"),
        ("https://social.example/users/alice/inbox", "https://relay.example/inbox", "shared inbox is not on"),
        ("ftp://social.example/inbox", None, "only http and https"),
        ("https://user:pw@social.example/inbox", None, "credentials"),
    ],
)
def test_inbox_problem__refuses(inbox: str, shared: str | None, reason: str) -> None:
    problem = inbox_problem(ACTOR, inbox, shared, blog_base=BLOG, allow_private=True)
    assert problem is not None and reason in problem


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5", "[::1]", "[::ffff:192.168.1.1]", "169.254.169.254"])
def test_inbox_problem__private_addresses_only_when_allowed(address: str) -> None:
    actor = f"http://{address}/users/alice"
    inbox = f"http://{address}/users/alice/inbox"
    assert "not a public address" in (inbox_problem(actor, inbox, None, blog_base=BLOG, allow_private=False) or "")
    assert inbox_problem(actor, inbox, None, blog_base=BLOG, allow_private=True) is None


def test_inbox_problem__its_own_inboxes_pass() -> None:
    assert inbox_problem(
        ACTOR, "https://social.example/users/alice/inbox", "https://social.example/inbox", blog_base=BLOG,
        allow_private=False,
    ) is None  # fmt: skip
