"""Quote posts with consent (FEP-044f), pure: the interaction policy the blog's Notes state, the stamp
(`QuoteAuthorization`) it grants, and its answers to a `QuoteRequest` (Accept with the stamp, or Reject).

Shapes follow Mastodon 4.5 (in app/serializers/activitypub/: note_serializer.rb `interaction_policy`,
quote_authorization_serializer.rb, accept_/reject_quote_request_serializer.rb,
delete_quote_authorization_serializer.rb).
"""

from __future__ import annotations

from typing import Any

from fedblog.config import QUOTE_POLICIES
from fedblog.protocol.activitystreams import AS_CONTEXT, PUBLIC, first_id
from fedblog.urls import Urls

# The properties a quoting post names what it quotes with: FEP-044f, then the older Misskey and Fedibird ones.
QUOTE_PROPERTIES = ("quote", "quoteUrl", "quoteUri", "_misskey_quote")

# The JSON-LD terms, as Mastodon 4.5 defines them (app/lib/activitypub/adapter.rb CONTEXT_EXTENSION_MAP).
QUOTE_TERMS: dict[str, Any] = {
    "gts": "https://gotosocial.org/ns#",
    "interactionPolicy": {"@id": "gts:interactionPolicy", "@type": "@id"},
    "canQuote": {"@id": "gts:canQuote", "@type": "@id"},  # as Mastodon and Fedify expand it
    "canReply": {"@id": "gts:canReply", "@type": "@id"},
    "automaticApproval": {"@id": "gts:automaticApproval", "@type": "@id"},
    "manualApproval": {"@id": "gts:manualApproval", "@type": "@id"},
    "QuoteRequest": "https://w3id.org/fep/044f#QuoteRequest",
    "QuoteAuthorization": "https://w3id.org/fep/044f#QuoteAuthorization",
    "quote": "https://w3id.org/fep/044f#quote",
    "quoteAuthorization": {"@id": "https://w3id.org/fep/044f#quoteAuthorization", "@type": "@id"},
    "interactingObject": {"@id": "gts:interactingObject", "@type": "@id"},
    "interactionTarget": {"@id": "gts:interactionTarget", "@type": "@id"},
}
QUOTE_CONTEXT: list[Any] = [AS_CONTEXT, QUOTE_TERMS]


def interaction_policy(urls: Urls, quote_policy: str) -> dict[str, Any]:
    """Who may quote (approved at once) and reply: Mastodon lists only the author when nobody may quote."""
    assert quote_policy in QUOTE_POLICIES
    approved = {"anyone": [PUBLIC], "followers": [urls.followers()]}.get(quote_policy, [urls.actor()])
    return {"canQuote": {"automaticApproval": approved}, "canReply": {"automaticApproval": [PUBLIC]}}


def quoted_id(note: dict[str, Any]) -> str | None:
    """What a post quotes, by its first quote property."""
    for name in QUOTE_PROPERTIES:
        found = first_id(note.get(name))
        if found:
            return found
    return None


def may_quote(quote_policy: str, is_follower: bool) -> bool:
    return quote_policy == "anyone" or (quote_policy == "followers" and is_follower)


def quote_authorization(urls: Urls, stamp_id: str, quote_id: str, target_id: str) -> dict[str, Any]:
    """The stamp: this post (`interactingObject`) may quote that one of ours (`interactionTarget`)."""
    return {
        "@context": QUOTE_CONTEXT,
        "id": stamp_id,
        "type": "QuoteAuthorization",
        "attributedTo": urls.actor(),
        "interactingObject": quote_id,
        "interactionTarget": target_id,
    }


def _request_copy(request: dict[str, Any]) -> dict[str, Any]:
    """The QuoteRequest answered, as its ids only (nothing the requester wrote is echoed but them)."""
    return {
        "id": request["id"],
        "type": "QuoteRequest",
        "actor": first_id(request.get("actor")),
        "object": first_id(request.get("object")),
        "instrument": first_id(request.get("instrument")),
    }


def accept_quote_request(urls: Urls, activity_id: str, request: dict[str, Any], stamp_id: str) -> dict[str, Any]:
    return {
        "@context": QUOTE_CONTEXT,
        "id": activity_id,
        "type": "Accept",
        "actor": urls.actor(),
        "to": [first_id(request.get("actor"))],
        "object": _request_copy(request),
        "result": stamp_id,
    }


def reject_quote_request(urls: Urls, activity_id: str, request: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": QUOTE_CONTEXT,
        "id": activity_id,
        "type": "Reject",
        "actor": urls.actor(),
        "to": [first_id(request.get("actor"))],
        "object": _request_copy(request),
    }


def revoke_quote_authorization(urls: Urls, activity_id: str, stamp_id: str) -> dict[str, Any]:
    """Revoking a stamp: its Delete, public as Mastodon sends it (the quoting server then hides the quote)."""
    return {
        "@context": QUOTE_CONTEXT,
        "id": activity_id,
        "type": "Delete",
        "actor": urls.actor(),
        "to": [PUBLIC],
        "object": stamp_id,
    }
