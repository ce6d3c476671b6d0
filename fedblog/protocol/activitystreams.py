"""ActivityStreams 2.0, pure: the vocabulary every document shares, and the readers of what peers send (no I/O).

Writing: scalar `id`, `type`, `actor`, `attributedTo`, `url`; `to`/`cc` as arrays (Pleroma breaks on arrays
elsewhere). Reading: every field may be a string, an object or a list (GoToSocial sends scalar `to`, PeerTube
an `icon` list), so readers go through `as_list` / `first_id`.

The documents themselves live by noun: Notes (posts' and comments') in notes.py, the actor in actors.py,
activities in activities.py, collections in ordered_collections.py, images in images.py.
"""

from __future__ import annotations

from typing import Any

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_FORMS = frozenset({PUBLIC, "as:Public", "Public"})
# Misskey refuses bodies above 64 KiB; stay below with room for the envelope.
MAX_ACTIVITY_BYTES = 60 * 1024


def as_list(value: Any) -> list[Any]:
    """None → [], a scalar or object → [it], a list → itself."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def id_of(value: Any) -> str | None:
    """The id of a string, an object ({"id": …}) or a Link ({"href": …})."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        found = value.get("id", value.get("href"))
        return found if isinstance(found, str) else None
    return None


def first_id(value: Any) -> str | None:
    """The first id in a string, object or list of them."""
    for item in as_list(value):
        found = id_of(item)
        if found:
            return found
    return None


def ids_of(value: Any) -> list[str]:
    return [found for found in (id_of(item) for item in as_list(value)) if found]


def type_of(value: Any) -> str | None:
    """An object's type; the first one when a list (as some peers send)."""
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if isinstance(k, str)), None)
    return kind if isinstance(kind, str) else None


def is_public(*addresses: Any) -> bool:
    """True if any of the to/cc values (string, list…) addresses the Public collection in any spelling."""
    return any(address in PUBLIC_FORMS for value in addresses for address in ids_of(value))
