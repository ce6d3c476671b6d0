"""Commenters' subscriptions: the form's two boxes, double opt-in, and the links in every e-mail.

Tokens are `<id>.<mac>`: an HMAC, under a secret derived from the site key, of the purpose and the row it acts on.
Each works for one purpose only (confirm an address, stop one subscription, stop everything, see one's
subscriptions), cannot be guessed, and names no address: the pages they open never show one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization

from fedblog.clock import utcnow
from fedblog.config import looks_like_address
from fedblog.models import Comment
from fedblog.store.db import Connection
from fedblog.store.subscriptions import Subscriber, Subscription, SubscriptionStore

if TYPE_CHECKING:
    from fedblog.context import Context

CONFIRMATION_RESEND_AFTER = timedelta(hours=24)  # a second comment does not bring a second confirmation at once


class Purpose(StrEnum):
    CONFIRM = "confirm"  # subscriber id
    MANAGE = "manage"  # subscriber id: the /subscriptions page
    STOP = "stop"  # subscription id: this thread
    STOP_ALL = "stop-all"  # subscriber id: every thread


def _secret(ctx: Context) -> bytes:
    """Derived from the site key: secret, stable across restarts, no extra file."""
    pem = ctx.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return hashlib.sha256(b"fedblog-subscriptions\x00" + pem).digest()


def _mac(ctx: Context, purpose: Purpose, row_id: int) -> str:
    digest = hmac.new(_secret(ctx), f"{purpose.value}\x00{row_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def make_token(ctx: Context, purpose: Purpose, row_id: int) -> str:
    return f"{row_id}.{_mac(ctx, purpose, row_id)}"


def read_token(ctx: Context, purpose: Purpose, token: str) -> int | None:
    """The row id the token was made for with this purpose, or None."""
    row_text, _, mac = token.partition(".")
    if not row_text.isdigit() or len(row_text) > 18:
        return None
    return int(row_text) if hmac.compare_digest(_mac(ctx, purpose, int(row_text)), mac) else None


def address_fits_mail(email: str) -> bool:
    """Stricter than the form's check: the address goes into a To header (no commas, quotes or angle brackets)."""
    return looks_like_address(email)


async def subscribe_from_form(
    ctx: Context, conn: Connection, comment: Comment, email: str, replies: bool, post: bool
) -> None:
    """The form's boxes, in the comment's own transaction; the first time, a confirmation is queued."""
    if not (replies or post):
        return
    store = SubscriptionStore(ctx.db)
    now = utcnow()
    subscriber: Subscriber | None = None
    if replies:
        subscriber = await store.subscribe(conn, email, "replies", comment.post_id, comment.id, now)
    if post:
        subscriber = await store.subscribe(conn, email, "post", comment.post_id, None, now)
    assert subscriber is not None
    if subscriber.confirmed_at is None:
        last = subscriber.confirmation_sent_at
        if last is None or now - last >= CONFIRMATION_RESEND_AFTER:
            await store.queue_confirmation(conn, subscriber.id, now)


@dataclass(frozen=True)
class SubscriptionView:
    """One line of the /subscriptions page: what it is about, and its stop token."""

    subscription: Subscription
    stop_token: str


class SubscriptionService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = SubscriptionStore(ctx.db)

    async def confirm(self, token: str) -> bool:
        subscriber_id = read_token(self.ctx, Purpose.CONFIRM, token)
        if subscriber_id is None or await self.store.get_subscriber(subscriber_id) is None:
            return False
        await self.store.confirm(subscriber_id, utcnow())
        return True

    async def subscriber_for(self, purpose: Purpose, token: str) -> Subscriber | None:
        subscriber_id = read_token(self.ctx, purpose, token)
        return None if subscriber_id is None else await self.store.get_subscriber(subscriber_id)

    async def subscriptions(self, subscriber: Subscriber) -> list[SubscriptionView]:
        return [
            SubscriptionView(item, make_token(self.ctx, Purpose.STOP, item.id))
            for item in await self.store.subscriptions_of(subscriber.id)
        ]

    async def stop(self, token: str) -> Subscription | None:
        """Stop one subscription; the subscription stopped (None when the token is wrong or it was stopped)."""
        subscription_id = read_token(self.ctx, Purpose.STOP, token)
        if subscription_id is None:
            return None
        subscription = await self.store.get_subscription(subscription_id)
        if subscription is not None:
            await self.store.stop(subscription_id)
        return subscription

    async def stop_all(self, token: str) -> bool:
        subscriber = await self.subscriber_for(Purpose.STOP_ALL, token)
        if subscriber is None:
            subscriber = await self.subscriber_for(Purpose.MANAGE, token)
        if subscriber is None:
            return False
        await self.store.stop_all(subscriber.id)
        return True
