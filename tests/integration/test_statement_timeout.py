"""PostgreSQL's statement timeout (`database.statement_timeout_seconds`): a statement that waits or runs past it is
cancelled by the server, its request answers 503 with the clear page (a comment's text kept in the form) and one
line in the log, no traceback; the connection stays usable and the next request is served."""

from __future__ import annotations

import logging
import time

import asyncpg
import pytest

from tests.conftest import SiteFactory
from tests.integration.blog_support import csrf_token, get, new_session, post_form, publish

pytestmark = pytest.mark.postgresql_only  # SQLite has no statement timeout (its busy_timeout is the write lock's)


async def test_statement_timeout__a_blocked_page_answers_503_in_time_and_the_next_is_served(
    site_factory: SiteFactory, caplog: pytest.LogCaptureFixture
) -> None:
    site = await site_factory(
        overrides={
            "database": {"statement_timeout_seconds": 1},
            "comments": {"moderation": "open", "rate_limit_per_minute": 100},
        }
    )
    await publish(site, "Post", slug="post")
    async with new_session() as session:
        form = await get(site, "/posts/post", session)
        fields = {"name": "Ana", "email": "ana@example.org", "website": "", "parent_id": "", "nickname": ""}
        fields |= {"message": "Sent while the table was locked.", "csrf_token": csrf_token(form.text)}

        # Given another session holding the posts table locked (a long migration, an operator's transaction)
        locker = await asyncpg.connect(site.settings.database.url)
        try:
            await locker.execute("BEGIN; LOCK TABLE posts IN ACCESS EXCLUSIVE MODE")
            caplog.set_level(logging.INFO)
            # When a page that must read the posts is asked for
            started = time.monotonic()
            blocked = await get(site, "/", session)
            waited = time.monotonic() - started
            # Then it answers 503 with the clear page once the statement timeout cancels the read, not later
            assert blocked.status == 503 and blocked.headers["Retry-After"].isdigit()
            assert "Please try again in a moment" in blocked.text
            assert waited < 10
            # And a comment sent meanwhile comes back with its text, to send again
            refused = await post_form(site, "/posts/post/comments", fields, session)
            assert refused.status == 503
            assert ">Sent while the table was locked.</textarea>" in refused.text
        finally:
            await locker.close()  # the lock goes with its session
        # And the log says so in one line per request, naming the setting, without a traceback
        lines = [r for r in caplog.records if "statement_timeout_seconds" in r.getMessage()]
        assert lines and all(r.levelno == logging.WARNING and not r.exc_info for r in lines)
        assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]

        # When the lock is gone: Then the same connections serve the page and take the comment
        assert (await get(site, "/", session)).status == 200
        sent = await post_form(site, "/posts/post/comments", fields, session)
        assert sent.status == 303
        assert "Sent while the table was locked." in (await get(site, "/posts/post", session)).text
