"""Object integrity proofs (FEP-8b32): the blog's Ed25519 key (derived from the site key, see protocol/integrity.py),
published as a Multikey in the actor's `assertionMethod`, and the proof each activity it sends carries
(services/delivery.enqueue); and the check of a proof on an incoming activity, with the Multikey its actor's own
document lists (fetched from the actor's id, kept ASSERTION_KEYS_SECONDS in the database for every process, and dropped
by any process that hears the actor's Update or Delete). A direct activity whose proof does not
hold is refused by the inbox (services/inbox.receive); a forwarded activity whose proof holds is believed as sent,
without fetching its object again (services/replies.trusted_object), and one whose proof does not is refetched."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from fedblog.clock import utcnow
from fedblog.protocol.activitystreams import as_list
from fedblog.protocol.addresses import is_http_url, same_origin
from fedblog.protocol.integrity import (
    ProofError,
    add_proof,
    derive_ed25519_key,
    multikey_document,
    proofs_to_check,
    public_key_from_multikey,
    verify_proof,
)
from fedblog.services.http import FetchError
from fedblog.services.remote import RemoteActors
from fedblog.store.actors import ActorStore

if TYPE_CHECKING:
    from fedblog.context import Context
    from fedblog.services.incoming import IncomingActivity

log = logging.getLogger(__name__)

ASSERTION_KEYS_SECONDS = 24 * 3600.0
REFRESH_AFTER_SECONDS = 60.0


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


@dataclass(frozen=True)
class ProofVerdict:
    """What the proofs of an incoming activity say: `held` when every proof this blog can check holds (and there
    was one), `broken` (why) when one does not: the activity is refused. Neither: no proof to check (absent, of
    another cryptosuite, expired, or its key cannot be had), so it rests on its HTTP signature."""

    held: bool = False
    broken: str = ""


NO_PROOF = ProofVerdict()


async def check_proofs(ctx: Context, document: dict[str, Any], actor_id: str) -> ProofVerdict:
    """The document's eddsa-jcs-2022 proofs, each made with a Multikey that the actor's own document lists in
    `assertionMethod` (controlled by the actor, on the actor's origin)."""
    if "proof" not in document:
        return NO_PROOF
    try:
        proofs = proofs_to_check(document, utcnow())
    except ProofError as error:
        return ProofVerdict(broken=str(error))
    verdicts = [await _check_proof(ctx, document, proof, actor_id) for proof in proofs]
    broken = next((verdict for verdict in verdicts if verdict.broken), None)
    if broken is not None:
        log.info("the proof on %r does not hold: %s", str(document.get("id"))[:200], broken.broken)
        return broken
    return ProofVerdict(held=True) if verdicts and all(verdict.held for verdict in verdicts) else NO_PROOF


async def _check_proof(ctx: Context, document: dict[str, Any], proof: dict[str, Any], actor_id: str) -> ProofVerdict:
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method:
        return ProofVerdict(broken="the proof names no verificationMethod")
    if not is_http_url(method):
        return NO_PROOF  # a DID URL: a method this blog cannot resolve, ignored as the FEP says
    if not same_origin(method, actor_id):
        return ProofVerdict(broken="the proof's key is not the actor's")
    kept = await _assertion_keys(ctx, actor_id)
    if kept is None:
        return NO_PROOF  # the actor's document cannot be had now: the key cannot be resolved
    problem = _verify_with(document, proof, kept.get(method))
    if problem and await _may_refresh(ctx, actor_id):
        # The actor may have rotated its key since its document was kept: read it once more.
        kept = await _assertion_keys(ctx, actor_id, fresh=True)
        if kept is None:
            return NO_PROOF
        problem = _verify_with(document, proof, kept.get(method))
    return ProofVerdict(broken=problem) if problem else ProofVerdict(held=True)


def _verify_with(document: dict[str, Any], proof: dict[str, Any], multibase: str | None) -> str:
    """Why the proof does not hold with this key ("" when it holds)."""
    if multibase is None:
        return "the proof's key is not one of the actor's assertionMethod keys"
    try:
        verify_proof(document, public_key_from_multikey(multibase), proof)
    except ProofError as error:
        return str(error)
    return ""


async def proof_holds(ctx: Context, activity: IncomingActivity) -> bool:
    """The activity carries an eddsa-jcs-2022 proof of its actor, and every such proof holds."""
    return (await check_proofs(ctx, activity.raw, activity.actor_id)).held


async def _may_refresh(ctx: Context, actor_id: str) -> bool:
    """Keys read more than REFRESH_AFTER_SECONDS ago may be read again, so that a stream of bad proofs does
    not make the blog fetch an actor for each one."""
    kept = await ActorStore(ctx.db).assertion_keys(actor_id)
    return kept is not None and _age(kept.read_at) >= REFRESH_AFTER_SECONDS


def _age(moment: datetime) -> float:
    return (utcnow() - moment).total_seconds()


async def _assertion_keys(ctx: Context, actor_id: str, *, fresh: bool = False) -> dict[str, str] | None:
    """key id → publicKeyMultibase, from the actor's document; None when it cannot be fetched. Kept in the database
    (one indexed read per proof checked), so that an Update or Delete of the actor heard by any process retires them
    for all: a key the actor replaced or revoked proves nothing more, whichever process the next activity reaches."""
    store = ActorStore(ctx.db)
    kept = None if fresh else await store.assertion_keys(actor_id)
    if kept is not None and _age(kept.read_at) < ASSERTION_KEYS_SECONDS:
        return kept.keys
    try:
        document = await RemoteActors(ctx).fetch_object(actor_id)
    except FetchError as error:
        log.info("no assertion keys for %r: %s", actor_id[:200], error)
        return None
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
    await store.keep_assertion_keys(actor_id, keys, utcnow())
    return keys
