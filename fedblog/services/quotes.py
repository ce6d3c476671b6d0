"""Quote posts with consent (FEP-044f): a `QuoteRequest` for one of the blog's posts is answered with an `Accept`
carrying a stamp (`QuoteAuthorization`, served at /quotes/<token>) or a `Reject`, by `federation.quote_policy`;
authorized quotes are shown under the post with likes and boosts; the author may revoke a stamp (a `Delete` of
it is sent, and it answers 404 from then on).

Trust, as for replies: the request must come from its actor (signer == actor, its id on the actor's origin); the
quoting post (`instrument`) is fetched from its own origin, never believed as embedded, and must be the actor's
and quote that post. Anything else is refused with a Reject, so a quote never shows without the blog's stamp.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any

from fedblog.clock import utcnow
from fedblog.protocol.activitystreams import first_id, is_public
from fedblog.protocol.addresses import is_http_url, same_origin
from fedblog.protocol.quotes import (
    accept_quote_request,
    may_quote,
    quote_authorization,
    quoted_id,
    reject_quote_request,
    revoke_quote_authorization,
)
from fedblog.services.delivery import enqueue, new_activity_id
from fedblog.services.http import FetchError
from fedblog.services.incoming import IncomingActivity
from fedblog.services.reactions import keep_face, reacted_post
from fedblog.services.remote import RemoteActors
from fedblog.services.replies import author_fields, fetch_object
from fedblog.store.followers import ACCEPTED as FOLLOWING
from fedblog.store.followers import FollowerStore
from fedblog.store.quotes import ACCEPTED, Quote, QuoteStore

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)


def stamp_url(ctx: Context, token: str) -> str:
    return ctx.urls.absolute(f"/quotes/{token}")


async def on_quote_request(ctx: Context, activity: IncomingActivity) -> None:
    """QuoteRequest: Accept with a stamp when the policy allows and the quoting post checks out, else Reject."""
    actor_id = activity.actor_id
    if activity.signer_id != actor_id or not same_origin(activity.id, actor_id):
        return  # not from its actor: nobody to answer
    post = await reacted_post(ctx, activity.object_id)
    if post is None or not post.is_public:
        return  # not one of our posts: not ours to answer
    try:
        actor = await RemoteActors(ctx).get_actor(actor_id)  # its inbox, before the transaction
    except FetchError as error:
        log.info("no inbox to answer the quote request of %r: %s", actor_id[:200], error)
        return
    request = {**activity.raw, "id": activity.id, "actor": actor_id, "object": ctx.urls.note(post.slug)}
    quote = await _quoting_post(ctx, activity.raw.get("instrument"), actor_id, ctx.urls.note(post.slug))
    author = await author_fields(ctx, actor_id)
    follower = await FollowerStore(ctx.db).get(actor_id)
    allowed = may_quote(ctx.settings.federation.quote_policy, follower is not None and follower.status == FOLLOWING)
    async with ctx.db.transaction() as conn:
        if quote is None or not allowed:
            answer = reject_quote_request(ctx.urls, new_activity_id(ctx, "reject"), request)
        else:
            quote_id, quote_url = quote
            token = await QuoteStore(ctx.db).accept(
                conn, post.id, quote_id, quote_url, actor_id, activity.id, secrets.token_urlsafe(16), utcnow()
            )
            answer = accept_quote_request(ctx.urls, new_activity_id(ctx, "accept"), request, stamp_url(ctx, token))
            await keep_face(ctx, conn, author)
        await enqueue(ctx, conn, answer, [actor.shared_inbox or actor.inbox])


async def _quoting_post(ctx: Context, instrument: Any, actor_id: str, target: str) -> tuple[str, str | None] | None:
    """(id, page URL) of the quoting post, fetched from its origin: the actor's, quoting `target`; else None."""
    quote_id = first_id(instrument)
    if not is_http_url(quote_id) or not same_origin(quote_id, actor_id):
        return None
    document = await fetch_object(ctx, quote_id)
    if document is None or first_id(document.get("attributedTo")) != actor_id or quoted_id(document) != target:
        return None
    if not is_public(document.get("to"), document.get("cc")):
        return None  # a quote nobody else can see is not shown under the post
    url = first_id(document.get("url"))
    return quote_id, url if is_http_url(url) else None


async def authorization_document(ctx: Context, token: str) -> dict[str, Any] | None:
    """The stamp at /quotes/<token>, while it stands."""
    quote = await QuoteStore(ctx.db).get_by_token(token)
    if quote is None or quote.state != ACCEPTED:
        return None
    post = await ctx.posts.get_post_by_id(quote.post_id)
    if post is None or not post.is_public:
        return None
    return quote_authorization(ctx.urls, stamp_url(ctx, token), quote.quote_id, ctx.urls.note(post.slug))


async def list_quotes(ctx: Context) -> list[Quote]:
    return await QuoteStore(ctx.db).list_all()


async def revoke(ctx: Context, quote_row_id: int) -> Quote:
    """The author withdraws the stamp: a Delete of it goes to the quoter, and the quote leaves the post page."""
    store = QuoteStore(ctx.db)
    quote = await store.get(quote_row_id)
    if quote is None:
        raise LookupError(f"no quote {quote_row_id}")
    inbox = None
    try:
        actor = await RemoteActors(ctx).get_actor(quote.actor_id)
        inbox = actor.shared_inbox or actor.inbox
    except FetchError as error:
        log.info("the revocation cannot reach %r: %s", quote.actor_id[:200], error)
    async with ctx.db.transaction() as conn:
        await store.revoke(conn, quote.id, utcnow())
        if quote.state == ACCEPTED and inbox is not None:
            delete = revoke_quote_authorization(ctx.urls, new_activity_id(ctx, "delete"), stamp_url(ctx, quote.token))
            await enqueue(ctx, conn, delete, [inbox])
    revoked = await store.get(quote.id)
    assert revoked is not None
    return revoked


async def on_quote_deleted(ctx: Context, activity: IncomingActivity) -> bool:
    """A Delete of a quoting post by its author: the quote goes. True when it was one."""
    object_id = activity.object_id
    if not object_id or activity.signer_id != activity.actor_id:
        return False
    store = QuoteStore(ctx.db)
    quote = await store.get_by_quote_id(object_id)
    if quote is None or quote.actor_id != activity.actor_id:
        return False
    async with ctx.db.transaction() as conn:
        await store.remove(conn, object_id)
    return True
