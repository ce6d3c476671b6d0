"""The blog's object integrity proofs (FEP-8b32): its Ed25519 key (derived from the site key, see
protocol/integrity.py), published as a Multikey in the actor's `assertionMethod`, and the proof each activity it
sends carries (services/delivery.enqueue)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from fedblog.protocol.integrity import add_proof, derive_ed25519_key, multikey_document

if TYPE_CHECKING:
    from fedblog.context import Context


def integrity_key_id(ctx: Context) -> str:
    return f"{ctx.urls.actor()}#ed25519-key"


def integrity_key(ctx: Context) -> ed25519.Ed25519PrivateKey:
    """Derived once per context."""
    key = ctx.runtime.integrity_key
    if key is None:
        key = ctx.runtime.integrity_key = derive_ed25519_key(ctx.private_key)
    return key


def assertion_method(ctx: Context) -> dict[str, Any]:
    return multikey_document(integrity_key_id(ctx), ctx.urls.actor(), integrity_key(ctx).public_key())


def with_proof(ctx: Context, activity: dict[str, Any], now: datetime) -> dict[str, Any]:
    """An activity of the blog's actor with its eddsa-jcs-2022 proof; anything else as it is."""
    if activity.get("actor") != ctx.urls.actor() or "proof" in activity:
        return activity
    return add_proof(activity, integrity_key(ctx), integrity_key_id(ctx), now)
