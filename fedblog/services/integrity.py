"""Object integrity proofs (FEP-8b32): the blog's Ed25519 key (derived from the site key, see protocol/integrity.py),
published as a Multikey in the actor's `assertionMethod`, and the proof each activity it sends carries
(services/delivery.enqueue); and the check of a proof on an incoming activity, with the Multikey its actor's own
document lists (fetched from the actor's id, kept ASSERTION_KEYS_SECONDS), so that a forwarded activity whose proof
holds is believed as sent, without fetching its object again (services/replies.trusted_object)."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from fedblog.protocol.activitystreams import as_list
from fedblog.protocol.addresses import is_http_url, same_origin
from fedblog.protocol.integrity import (
    ProofError,
    add_proof,
    derive_ed25519_key,
    multikey_document,
    public_key_from_multikey,
    verify_proof,
)
from fedblog.services.http import FetchError
from fedblog.services.remote import RemoteActors

if TYPE_CHECKING:
    from fedblog.context import Context
    from fedblog.services.incoming import IncomingActivity

log = logging.getLogger(__name__)

ASSERTION_KEYS_SECONDS = 24 * 3600.0
MAX_KEPT_ACTORS = 10_000


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


async def proof_holds(ctx: Context, activity: IncomingActivity) -> bool:
    """The activity carries an eddsa-jcs-2022 proof made with a Multikey that its actor's own document lists in
    `assertionMethod` (controlled by the actor, on the actor's origin), and the proof matches the activity."""
    proof = activity.raw.get("proof")
    method = proof.get("verificationMethod") if isinstance(proof, dict) else None
    if not is_http_url(method) or not same_origin(method, activity.actor_id):
        return False
    multibase = (await _assertion_keys(ctx, activity.actor_id)).get(method)
    if multibase is None:
        return False
    try:
        verify_proof(activity.raw, public_key_from_multikey(multibase))
    except ProofError as error:
        log.info("the proof on %r does not hold: %s", activity.id[:200], error)
        return False
    return True


async def _assertion_keys(ctx: Context, actor_id: str) -> dict[str, str]:
    """key id → publicKeyMultibase, from the actor's document."""
    kept = ctx.runtime.assertion_keys.get(actor_id)
    if kept is not None and time.monotonic() - kept[0] < ASSERTION_KEYS_SECONDS:
        return kept[1]
    try:
        document = await RemoteActors(ctx).fetch_object(actor_id)
    except FetchError as error:
        log.info("no assertion keys for %r: %s", actor_id[:200], error)
        return {}
    keys = {
        entry["id"]: entry["publicKeyMultibase"]
        for entry in as_list(document.get("assertionMethod"))
        if isinstance(entry, dict)
        and entry.get("type") == "Multikey"
        and entry.get("controller") == actor_id
        and isinstance(entry.get("id"), str)
        and same_origin(entry["id"], actor_id)
        and isinstance(entry.get("publicKeyMultibase"), str)
    }
    if len(ctx.runtime.assertion_keys) > MAX_KEPT_ACTORS:
        ctx.runtime.assertion_keys.clear()
    ctx.runtime.assertion_keys[actor_id] = (time.monotonic(), keys)
    return keys
